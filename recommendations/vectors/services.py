"""Writes about embeddings: computing them, storing them, completing a space."""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from recommendations.models import EmbeddingSpace, ProductEmbedding
from shop import generations
from shop.models import Product

from .encoders import get_encoder
from .index import ensure_index
from .selectors import products_with_image, space_generation

logger = logging.getLogger(__name__)


def get_or_create_space(model: str) -> EmbeddingSpace:
    encoder = get_encoder(model)
    space, _ = EmbeddingSpace.objects.get_or_create(
        version=encoder.version,
        defaults={"backbone": model, "dimensions": encoder.dim},
    )
    return space


def target_space() -> EmbeddingSpace:
    """The space of the configured model, which new embeddings go to."""
    return get_or_create_space(settings.EMBEDDING_MODEL)


def chunked(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


@dataclass
class EmbedOutcome:
    embedded: int = 0
    failed: dict[int, str] = field(default_factory=dict)  # product id -> reason
    skipped: list[int] = field(default_factory=list)  # products without an image


def _read_image(product: Product) -> bytes | None:
    try:
        with default_storage.open(product.image.name) as handle:
            return handle.read()
    except OSError:
        return None


def embed_products(space: EmbeddingSpace, product_ids: list[int], *, batch_size: int | None = None) -> EmbedOutcome:
    """Compute and store the embeddings of these products in ``space``; idempotent."""
    rows, outcome = compute_embeddings(space, product_ids, batch_size=batch_size)
    store_embeddings(space, rows)
    return outcome


def compute_embeddings(
    space: EmbeddingSpace, product_ids: list[int], *, batch_size: int | None = None
) -> tuple[list[ProductEmbedding], EmbedOutcome]:
    """The unsaved rows for these products: a vector, or the reason there is none."""
    encoder = get_encoder(space.backbone)
    if encoder.version != space.version:
        raise RuntimeError(
            f"This process computes {encoder.version}, not {space.version}: its weights or preprocessing differ."
        )
    products = list(
        Product.objects.filter(pk__in=product_ids)
        .only("pk", "image", "image_width", "image_height", "image_sha256")
        .order_by("pk")
    )
    outcome = EmbedOutcome(skipped=[p.pk for p in products if not p.image])
    products = [p for p in products if p.image]
    images = [_read_image(p) for p in products]
    readable = [position for position, data in enumerate(images) if data is not None]
    result = encoder.encode([images[i] for i in readable], batch_size=batch_size or settings.EMBEDDING_BATCH_SIZE)
    result_index = {position: index for index, position in enumerate(readable)}

    rows = []
    for position, product in enumerate(products):
        row = ProductEmbedding(product=product, space=space, image_sha256=product.image_sha256)
        if images[position] is None:
            row.status, row.error = ProductEmbedding.Status.FAILED, f"image file {product.image.name} is missing"
        else:
            index = result_index[position]
            if index in result.errors:
                row.status, row.error = ProductEmbedding.Status.FAILED, result.errors[index]
            else:
                row.status, row.vector = ProductEmbedding.Status.OK, result.vectors[index]
        if row.status == ProductEmbedding.Status.OK:
            outcome.embedded += 1
        else:
            outcome.failed[product.pk] = row.error
        rows.append(row)
    return rows, outcome


def store_embeddings(space: EmbeddingSpace, rows: list[ProductEmbedding]) -> None:
    ProductEmbedding.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["space", "product"],
        update_fields=["vector", "status", "error", "image_sha256", "updated_at"],
    )
    # Similar items cached from this space's vectors are computed again (a changed image moves its product).
    generations.bump(space_generation(space))
    complete_space_if_done(space)


def complete_space_if_done(space: EmbeddingSpace) -> bool:
    """Mark the space complete once every product with an image has a row in it."""
    if space.state == EmbeddingSpace.State.COMPLETE:
        return True
    pending = products_with_image().exclude(embeddings__space=space).exists()
    if pending:
        return False
    # The HNSW index is built in one go once the space is complete: much faster than growing it row by row.
    ensure_index(space)
    with transaction.atomic():
        updated = EmbeddingSpace.objects.filter(pk=space.pk, state=EmbeddingSpace.State.BUILDING).update(
            state=EmbeddingSpace.State.COMPLETE, completed_at=timezone.now()
        )
    if updated:
        logger.info("Embedding space %s is complete and can serve similar items.", space.version)
    space.refresh_from_db()
    return True
