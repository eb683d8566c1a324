"""Reads about embeddings."""

from typing import Literal

from django.conf import settings
from django.db.models import F, Q, QuerySet

from shop.models import Product

from .models import EmbeddingSpace, ProductEmbedding

Selection = Literal["all", "missing", "stale"]


def serving_space() -> EmbeddingSpace | None:
    """The space similar items are answered from.

    The newest complete space of the configured model; until one exists (the
    model was just switched) the newest complete space of any model.
    """
    complete = EmbeddingSpace.objects.filter(state=EmbeddingSpace.State.COMPLETE).order_by("-completed_at")
    return complete.filter(backbone=settings.EMBEDDING_MODEL).first() or complete.first()


def products_with_image() -> QuerySet[Product]:
    return Product.objects.exclude(image="")


def products_to_embed(space: EmbeddingSpace, selection: Selection) -> QuerySet[Product]:
    """``all``: every product with an image; ``missing``: no vector yet (never embedded,
    or failed); ``stale``: embedded from an image that has since changed."""
    products = products_with_image()
    if selection == "all":
        return products
    done = ProductEmbedding.objects.filter(space=space)
    if selection == "missing":
        return products.exclude(pk__in=done.filter(status=ProductEmbedding.Status.OK).values("product_id"))
    stale = done.filter(~Q(image_sha256=F("product__image_sha256")))
    return products.filter(pk__in=stale.values("product_id"))


def space_progress(space: EmbeddingSpace) -> dict[str, int]:
    rows = ProductEmbedding.objects.filter(space=space, product__in=products_with_image())
    return {
        "products": products_with_image().count(),
        "embedded": rows.filter(status=ProductEmbedding.Status.OK).count(),
        "failed": rows.filter(status=ProductEmbedding.Status.FAILED).count(),
    }
