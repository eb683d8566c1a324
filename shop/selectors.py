"""Reads of the catalogue for the storefront."""

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple, Self, overload

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import CharField, Count, F, Q, QuerySet, Value
from django.http import QueryDict

from config.replicas import stale_reads_ok

from . import generations
from .models import FACET_FIELDS, FACET_LOOKUPS, Product
from .product_page_query import product_with_relations

FACET_NAMES = [name for name, _ in FACET_FIELDS]
FACET_LABELS = dict(FACET_FIELDS)

# What a product card shows; price and stock are included so that showing them never costs a query per card.
CARD_FIELDS = (
    "id",
    "name",
    "article_type",
    "base_colour",
    "image",
    "image_width",
    "image_height",
    "price",
    "list_price",
    "in_stock",
)

SORT_ORDERINGS: dict[str, tuple] = {
    "relevance": ("-relevance", "-id"),
    "newest": (F("added_at").desc(nulls_last=True), "-id"),
    "price": (F("price").asc(nulls_last=True), "-id"),
    "price_desc": (F("price").desc(nulls_last=True), "-id"),
    "name": ("name", "-id"),
}
# The largest price a filter accepts, in rupees: above every price the field can hold.
MAX_PRICE = Decimal("99999999")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

MAX_VALUES_PER_FACET = 30
# Counts are cached under the catalogue's generation, so that a change of the catalogue shows at once; products
# themselves are never cached.
COUNTS_CACHE_SECONDS = 3600
NAVIGATION_CACHE_KEY = "shop:navigation-tree"

# A plain number that could be a product id (the id doubles as the SKU); bigint holds 18 digits safely.
PRODUCT_ID_PATTERN = re.compile(r"\d{1,18}", re.ASCII)
# pg_trgm's default word similarity threshold (0.6) misses everyday typos: "tshrt" scores 0.5 against "Tshirt".
FUZZY_THRESHOLD = 0.4
FUZZY_MAX_RESULTS = 500
# Shorter words have too few trigrams to tell names apart, and make the trigram index scan most of itself.
FUZZY_WORD_PATTERN = re.compile(r"\w{3,}")


@dataclass(frozen=True)
class ProductFilters:
    """Selected facet values (values of one facet are alternatives, different facets must all match) and a price
    range in rupees."""

    selected: dict[str, tuple[str, ...]] = field(default_factory=dict)
    price_min: Decimal | None = None
    price_max: Decimal | None = None

    @classmethod
    def from_querydict(cls, params: QueryDict) -> Self:
        selected = {}
        for name in FACET_NAMES:
            values = _clean_facet_values(name, params.getlist(name))
            if values:
                selected[name] = values
        return cls(selected, _clean_price(params.get("price_min")), _clean_price(params.get("price_max")))

    def __bool__(self) -> bool:
        return bool(self.selected) or self.price_min is not None or self.price_max is not None

    def as_q(self, *, exclude: str | None = None, prefix: str = "") -> Q:
        """``prefix`` applies the filters through a relation, e.g. ``"product__"``."""
        q = Q(
            *(
                Q(**{f"{prefix}{facet_lookup(name)}__in": values})
                for name, values in self.selected.items()
                if name != exclude
            )
        )
        if self.price_min is not None:
            q &= Q(**{f"{prefix}price__gte": self.price_min})
        if self.price_max is not None:
            q &= Q(**{f"{prefix}price__lte": self.price_max})
        return q

    def chips(self) -> list[tuple[str, str, str]]:
        """(facet name, facet label, value) for every selected value, in facet order."""
        return [(name, FACET_LABELS[name], value) for name, values in self.selected.items() for value in values]


def facet_lookup(name: str) -> str:
    """The lookup a facet's values are read and filtered through."""
    return FACET_LOOKUPS.get(name, name)


def _clean_facet_values(name: str, values: list[str]) -> tuple[str, ...]:
    # Drop what no stored value can equal (and what PostgreSQL would reject, such as NUL) instead of failing.
    model_field = Product._meta.get_field(name)
    if model_field.is_relation:  # a facet read through a relation: its values are the related model's names
        model_field = model_field.related_model._meta.get_field("name")
    max_length = model_field.max_length
    kept = dict.fromkeys(value for value in values if value and len(value) <= max_length and "\x00" not in value)
    return tuple(kept)[:MAX_VALUES_PER_FACET]


def _clean_price(value: str | None) -> Decimal | None:
    """A price bound in rupees; what is not one (text, a negative or absurd amount) is no bound at all."""
    try:
        price = Decimal((value or "").strip())
    except InvalidOperation:
        return None
    return price if price.is_finite() and 0 <= price <= MAX_PRICE else None


@dataclass(frozen=True)
class ProductSearch:
    """Products matching a search query, annotated with ``relevance``."""

    query: str
    products: QuerySet[Product]
    # True when nothing matched the words themselves and the products are near spellings of them.
    fuzzy: bool = False
    # The matches' ids, most relevant first; cached until the catalogue changes.
    ranked_ids: list[int] | None = None


@stale_reads_ok()
def product_search(query: str) -> ProductSearch:
    """Find products by id, else by full-text search on their names, else by names spelled like the query."""
    catalogue = Product.objects.using(router.db_for_read(Product))
    if PRODUCT_ID_PATTERN.fullmatch(query):
        by_id = catalogue.filter(pk=int(query))
        if by_id.exists():
            return ProductSearch(query, by_id.annotate(relevance=Value(1.0)))

    search_query = SearchQuery(query, search_type="websearch", config="english")
    ranked = _cached_ranking("full-text", query, lambda: _full_text_ranking(search_query))
    if ranked:
        full_text = catalogue.filter(search_vector=search_query)
        relevance = SearchRank(F("search_vector"), search_query)
        return ProductSearch(query, full_text.annotate(relevance=relevance), ranked_ids=ranked)

    ranked = _cached_ranking("fuzzy", query, lambda: _fuzzy_match_ids(query, DEFAULT_DB_ALIAS))
    return ProductSearch(
        query,
        catalogue.filter(pk__in=ranked).annotate(relevance=TrigramWordSimilarity(query, "name")),
        fuzzy=True,
        ranked_ids=ranked,
    )


def _cached_ranking(kind: str, query: str, rank: Callable[[], list[int]]) -> list[int]:
    # Ranked on the primary: a replica lagging behind would leave an old ranking in the cache (see _count_facet_values).
    return _until_the_catalogue_changes(f"shop:{kind}-ranking:{hashlib.sha256(query.encode()).hexdigest()}", rank)


def _until_the_catalogue_changes(key: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, cached under the catalogue's generation: any change of the catalogue makes a new one."""
    return cache.get_or_set(key, compute, COUNTS_CACHE_SECONDS, version=generations.current(generations.CATALOGUE))


def _full_text_ranking(search_query: SearchQuery) -> list[int]:
    relevance = SearchRank(F("search_vector"), search_query)
    matches = Product.objects.using(DEFAULT_DB_ALIAS).filter(search_vector=search_query).annotate(relevance=relevance)
    return list(matches.order_by(*SORT_ORDERINGS["relevance"]).values_list("pk", flat=True))


def _fuzzy_match_ids(query: str, using: str) -> list[int]:
    if not FUZZY_WORD_PATTERN.search(query):
        return []
    # The threshold is a session setting, so the ids are fetched right away inside the transaction that lowers it.
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(FUZZY_THRESHOLD)])
        return list(
            Product.objects.using(using)
            .filter(name__trigram_word_similar=query)
            .annotate(similarity=TrigramWordSimilarity(query, "name"))
            .order_by("-similarity", "-id")
            .values_list("pk", flat=True)[:FUZZY_MAX_RESULTS]
        )


class RankedProducts(Sequence[Product]):
    """A search's matches in their cached ranking, for a paginator: only the cards of the page asked for are read,
    fresh, by primary key."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Product: ...
    @overload
    def __getitem__(self, index: slice) -> list[Product]: ...
    def __getitem__(self, index: int | slice) -> Product | list[Product]:
        if isinstance(index, int):
            return self[index : index + 1 or None][0]
        ids = self.ids[index]
        cards = Product.objects.using(router.db_for_read(Product)).only(*CARD_FIELDS).in_bulk(ids)
        return [cards[pk] for pk in ids if pk in cards]


@stale_reads_ok()
def product_list(
    *, filters: ProductFilters, sort: str = "newest", search: ProductSearch | None = None
) -> QuerySet[Product] | RankedProducts:
    """Products (all, or the search's matches) narrowed by the filters, ready for product cards; read from a
    replica when there are. A search's matches by relevance, unfiltered, come in their cached ranking."""
    if search and search.ranked_ids is not None and sort == "relevance" and not filters:
        return RankedProducts(search.ranked_ids)
    products = search.products if search else Product.objects.all()
    return (
        products.using(router.db_for_read(Product))
        .filter(filters.as_q())
        .only(*CARD_FIELDS)
        .order_by(*SORT_ORDERINGS[sort])
    )


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    values: list[FacetValue]


def facet_counts(*, filters: ProductFilters, search: ProductSearch | None = None) -> list[Facet]:
    """For each facet, how many products each value would show, given the other facets' selections.

    Selected values come first so that they stay visible, also when nothing matches them.
    """
    key = _counts_cache_key("facet-counts", filters, search.query if search else "")
    counts = _until_the_catalogue_changes(key, lambda: _count_facet_values(filters, search))
    facets = []
    for name, label in FACET_FIELDS:
        selected = filters.selected.get(name, ())
        values = [FacetValue(value, counts[name].get(value, 0), True) for value in selected]
        values += [FacetValue(value, count, False) for value, count in counts[name].items() if value not in selected]
        values.sort(key=lambda facet_value: (not facet_value.selected, -facet_value.count, facet_value.value))
        facets.append(Facet(name, label, values))
    return facets


def product_count(*, filters: ProductFilters, search: ProductSearch | None = None) -> int:
    """How many products the listing shows; cached until the catalogue changes, like the facets' counts."""
    return _until_the_catalogue_changes(
        _counts_cache_key("product-count", filters, search.query if search else ""),
        lambda: product_list(filters=filters, search=search).using(DEFAULT_DB_ALIAS).order_by().count(),
    )


def listing_fragment_key(params: QueryDict) -> str:
    """A key for a listing's rendered filters, which link to the page's own query string with one value toggled:
    its parameters but the page number, and the catalogue's generation."""
    kept = sorted((name, values) for name, values in params.lists() if name != "page")
    digest = hashlib.sha256(json.dumps(kept).encode()).hexdigest()
    return f"{digest}:{generations.current(generations.CATALOGUE)}"


def _counts_cache_key(kind: str, filters: ProductFilters, query: str) -> str:
    selection = sorted((name, sorted(values)) for name, values in filters.selected.items())
    prices = [str(filters.price_min), str(filters.price_max)]
    digest = hashlib.sha256(json.dumps([query, selection, prices]).encode()).hexdigest()
    return f"shop:{kind}:{digest}"


def _count_facet_values(filters: ProductFilters, search: ProductSearch | None) -> dict[str, dict[str, int]]:
    # One query: the counts of all facets, each narrowed by the other facets' selections. On the primary, like every
    # count cached until the catalogue changes: a replica that lags behind would keep the old counts in the cache.
    products = (search.products if search else Product.objects.all()).using(DEFAULT_DB_ALIAS)
    per_facet = [
        products.filter(filters.as_q(exclude=name), **{f"{facet_lookup(name)}__isnull": False})
        .order_by()
        .values_list(Value(name, output_field=CharField()), F(facet_lookup(name)))
        .annotate(count=Count("*"))
        for name in FACET_NAMES
    ]
    counts: dict[str, dict[str, int]] = {name: {} for name in FACET_NAMES}
    for name, value, count in per_facet[0].union(*per_facet[1:], all=True):
        counts[name][value] = count
    return counts


class NavigationNode(NamedTuple):
    # A named tuple rather than a dataclass: the cached tree of a few hundred nodes unpickles several times faster.
    name: str
    count: int
    children: tuple["NavigationNode", ...] = ()


def navigation_tree() -> tuple[NavigationNode, ...]:
    """Genders > categories > article types with product counts, largest first; cached until the catalogue
    changes, and held in each process meanwhile (every page's header shows it)."""
    return _NAVIGATION.get()


def _cached_navigation_tree(generation: int) -> tuple[NavigationNode, ...]:
    return cache.get_or_set(NAVIGATION_CACHE_KEY, _build_navigation_tree, COUNTS_CACHE_SECONDS, version=generation)


_NAVIGATION = generations.HeldPerGeneration(generations.CATALOGUE, _cached_navigation_tree)


def _build_navigation_tree() -> tuple[NavigationNode, ...]:
    rows = (
        Product.objects.using(DEFAULT_DB_ALIAS)  # cached until the catalogue changes: see _count_facet_values
        .filter(gender__isnull=False, master_category__isnull=False, article_type__isnull=False)
        .values_list("gender", "master_category", "article_type")
        .annotate(count=Count("*"))
        .order_by()
    )
    tree: dict[str, dict[str, list[NavigationNode]]] = defaultdict(lambda: defaultdict(list))
    for gender, category, article_type, count in rows:
        tree[gender][category].append(NavigationNode(article_type, count))
    return _largest_first(
        [
            _parent(gender, [_parent(category, article_types) for category, article_types in categories.items()])
            for gender, categories in tree.items()
        ]
    )


def _parent(name: str, children: list[NavigationNode]) -> NavigationNode:
    return NavigationNode(name, sum(child.count for child in children), _largest_first(children))


def _largest_first(nodes: list[NavigationNode]) -> tuple[NavigationNode, ...]:
    return tuple(sorted(nodes, key=lambda node: (-node.count, node.name)))


@dataclass
class Shelf:
    title: str
    products: list[Product]
    master_category: str | None = None
    list_id: str = ""  # set where the shelf is shown, for the interaction log


@stale_reads_ok()
def home_shelves(*, categories: int = 4, size: int = 6) -> list[Shelf]:
    """The newest products overall, then the newest of each of the largest categories.

    Which products each shelf shows is cached until the catalogue changes (choosing them sorts the catalogue once per
    shelf); their cards are read afresh, in one query by primary key, so that no price or stock shown is stale."""
    key = f"shop:home-shelves:{categories}:{size}"
    version = generations.current(generations.CATALOGUE)
    chosen = cache.get(key, version=version)
    if chosen is None:
        shelves = _newest_shelves(categories, size)
        chosen = [(shelf.title, shelf.master_category, [product.pk for product in shelf.products]) for shelf in shelves]
        cache.set(key, chosen, COUNTS_CACHE_SECONDS, version=version)
        return shelves
    cards = Product.objects.only(*CARD_FIELDS, "added_at").in_bulk([pk for _, _, ids in chosen for pk in ids])
    shelves = [Shelf(title, [cards[pk] for pk in ids if pk in cards], category) for title, category, ids in chosen]
    return [shelf for shelf in shelves if shelf.products]


def _newest_shelves(categories: int, size: int) -> list[Shelf]:
    """The shelves, in one query."""
    names = _largest_categories(navigation_tree())[:categories]
    shelves = {None: Shelf("New arrivals", [])} | {name: Shelf(name, [], name) for name in names}
    newest = Product.objects.only(*CARD_FIELDS, "added_at").order_by(*SORT_ORDERINGS["newest"])
    parts = [newest.annotate(shelf=Value(None, output_field=CharField()))[:size]]
    parts += [
        newest.filter(master_category=name).annotate(shelf=Value(name, output_field=CharField()))[:size]
        for name in names
    ]
    for product in parts[0].union(*parts[1:], all=True):
        shelves[product.shelf].products.append(product)
    for shelf in shelves.values():  # the union loses each part's order: "newest" again, undated last
        shelf.products.sort(
            key=lambda product: (product.added_at is None, -(product.added_at or _EPOCH).timestamp(), -product.pk)
        )
    return [shelf for shelf in shelves.values() if shelf.products]


def _largest_categories(departments: tuple[NavigationNode, ...]) -> list[str]:
    totals: dict[str, int] = defaultdict(int)
    for gender in departments:
        for category in gender.children:
            totals[category.name] += category.count
    return sorted(totals, key=lambda name: (-totals[name], name))


def product_detail(pk: int) -> Product | None:
    """A product with its brand, sizes and other colours (as cards), in one query (shop/product_page_query.py)."""
    return product_with_relations(pk, colour_fields=CARD_FIELDS)


def product_for_shelves(pk: int) -> Product | None:
    """A product for the shelves under its page, which compare it with others: its own fields, one query."""
    return Product.objects.defer("search_vector", "description").filter(pk=pk).first()
