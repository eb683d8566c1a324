"""Reads: who is asking (the context a request gives the strategies), the lists the strategies make, and the
catalogue as arrays for training, simulation and evaluation."""

import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
from django.apps import apps
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from config.replicas import stale_reads_ok
from events.middleware import COOKIE_NAME
from events.models import Event
from events.selectors import visitor_events
from experiments.placements import LIMIT
from experiments.selectors import Assignment, assign
from recommendations.models import ProductEmbedding
from recommendations.vectors.index import from_vector_bytes, vector_bytes
from recommendations.vectors.selectors import serving_space
from shop.models import Product

from .catalogue import ATTRIBUTES, CatalogueArrays
from .registry import get_strategy
from .strategies.base import Context, Recommendation

# "For you" on every placement: the hybrid, else the content profile (before the first training, or for products
# newer than the model).
FOR_YOU_STRATEGIES = ["for_you", "for_you_content"]
# Read once per request, however many lists a page shows.
_VISITOR_STATE = "_personalization_visitor_state"
# The visitor's gender segment is the one most of their recent views were in.
SEGMENT_VIEWS = 20


@dataclass(frozen=True)
class VisitorState:
    cart_product_ids: frozenset[int]
    bought_product_ids: frozenset[int]
    gender: str | None


@dataclass(frozen=True)
class RecommendedList:
    """A list as shown: its strategy's label is what the log records, with the list's id."""

    strategy: str
    recommendations: list[Recommendation]

    @property
    def product_ids(self) -> list[int]:
        return [item.product.pk for item in self.recommendations]

    def __bool__(self) -> bool:
        return bool(self.recommendations)


def cart_product_ids(request: HttpRequest) -> frozenset[int]:
    if not apps.is_installed("cart"):
        return frozenset()
    from cart.models import CartLine
    from cart.sessions import current_cart

    cart = current_cart(request)
    if cart is None:
        return frozenset()
    return frozenset(CartLine.objects.filter(cart=cart).values_list("sku__product_id", flat=True))


def just_bought_ids(visitor_id: uuid.UUID, user=None) -> frozenset[int]:
    since = timezone.now() - timedelta(days=settings.PERSONALIZATION_JUST_BOUGHT_DAYS)
    bought = visitor_events(visitor_id, user).filter(kind=Event.Kind.PURCHASE, created_at__gte=since)
    return frozenset(bought.exclude(product_id=None).values_list("product_id", flat=True))


def visitor_gender(visitor_id: uuid.UUID, user=None) -> str | None:
    """The gender most of the visitor's recent views were in (unisex products say nothing); None for a newcomer."""
    viewed = visitor_events(visitor_id, user).filter(kind=Event.Kind.VIEW, product__isnull=False)
    genders = Counter(
        gender
        for gender in viewed.order_by("-created_at").values_list("product__gender", flat=True)[:SEGMENT_VIEWS]
        if gender and gender != "Unisex"
    )
    return genders.most_common(1)[0][0] if genders else None


def is_returning(request: HttpRequest) -> bool:
    """Whether the log can hold anything of this visitor: a browser without the cookie yet is new, unless signed in."""
    user = getattr(request, "user", None)
    return COOKIE_NAME in request.COOKIES or (user is not None and user.is_authenticated)


def visitor_state(request: HttpRequest) -> VisitorState:
    if not hasattr(request, _VISITOR_STATE):
        visitor_id = getattr(request, "visitor_id", None)
        user = getattr(request, "user", None)
        known = visitor_id is not None and is_returning(request)
        setattr(
            request,
            _VISITOR_STATE,
            VisitorState(
                cart_product_ids=cart_product_ids(request),
                bought_product_ids=just_bought_ids(visitor_id, user) if known else frozenset(),
                gender=visitor_gender(visitor_id, user) if known else None,
            ),
        )
    return getattr(request, _VISITOR_STATE)


def request_context(
    request: HttpRequest, *, product: Product | None = None, gender: str | None = None, limit: int | None = None
) -> Context:
    """The context of a page: its product and gender, else the visitor's own segment (a newcomer's is none)."""
    state = visitor_state(request)
    if gender is None:
        gender = product.gender if product is not None else state.gender
    user = getattr(request, "user", None)
    return Context(
        visitor_id=getattr(request, "visitor_id", None),
        user=user if user is not None and user.is_authenticated else None,
        product=product,
        cart_product_ids=state.cart_product_ids,
        bought_product_ids=state.bought_product_ids,
        gender=gender,
        limit=limit or settings.PERSONALIZATION_LIST_SIZE,
    )


@stale_reads_ok()
def recommend(names: list[str], context: Context) -> RecommendedList:
    """The first of the named strategies that has something to show (a fallback chain), else an empty list.

    Read from a replica when there are; the context (the bag above all) is read from the primary before."""
    label = ""
    for name in names:
        strategy = get_strategy(name)
        if strategy is None:
            continue
        label = label or strategy.strategy_label(context)
        found = strategy.recommend(context)
        if found:
            return RecommendedList(strategy.strategy_label(context), found)
    return RecommendedList(label, [])


def experiment_choice(
    request: HttpRequest, placement: str, names: list[str], context: Context
) -> tuple[list[str], Context, Assignment | None]:
    """The strategies and context a placement uses for this visitor: those of their variant when an A/B test runs
    there (its strategy, its list size), else the page's own."""
    assignment = assign(request, placement)
    if assignment is None:
        return names, context, None
    limit = assignment.variant.parameters.get(LIMIT)
    return [assignment.variant.strategy], replace(context, limit=limit) if limit else context, assignment


def load_catalogue(*, embeddings: bool = False) -> CatalogueArrays:
    """Every product, by id; with ``embeddings``, the serving space's vectors (normalised) as one matrix."""
    rows = list(
        Product.objects.order_by("pk").values_list(
            "pk", *(name if name != "brand" else "brand__name" for name in ATTRIBUTES), "price", "in_stock", "added_at"
        )
    )
    width = len(ATTRIBUTES)
    product_ids = np.array([row[0] for row in rows], dtype=np.int64)
    attributes = {name: np.array([row[1 + i] or "" for row in rows], dtype=object) for i, name in enumerate(ATTRIBUTES)}
    price = np.array([float(row[1 + width]) if row[1 + width] is not None else np.nan for row in rows])
    in_stock = np.array([bool(row[2 + width]) for row in rows], dtype=bool)
    added = np.array([row[3 + width].timestamp() if row[3 + width] else np.nan for row in rows])
    vectors = _embeddings(product_ids) if embeddings else None
    return CatalogueArrays(product_ids, attributes, price, in_stock, added, vectors)


def _embeddings(product_ids: np.ndarray) -> np.ndarray | None:
    space = serving_space()
    if space is None:
        return None
    matrix = np.zeros((len(product_ids), space.dimensions), dtype=np.float32)
    index = {int(pid): code for code, pid in enumerate(product_ids)}
    rows = (
        ProductEmbedding.objects.filter(space=space, status=ProductEmbedding.Status.OK)
        .annotate(vector_data=vector_bytes())
        .values_list("product_id", "vector_data")
    )
    for product_id, data in rows.iterator(chunk_size=5000):
        code = index.get(product_id)
        if code is not None:
            matrix[code] = from_vector_bytes(data)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix
