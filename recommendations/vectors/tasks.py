"""Celery tasks: thin wrappers that fetch by id and call a service, and the function that sends them."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from recommendations.models import EmbeddingSpace

from . import services

# Errors worth another try: the database or the broker went away for a moment.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def embed_products(space_id: int, product_ids: list[int]) -> dict[str, int]:
    """Embed one batch of products; safe to run twice (a redelivered batch rewrites the same rows)."""
    space = EmbeddingSpace.objects.get(pk=space_id)
    outcome = services.embed_products(space, product_ids)
    return {"embedded": outcome.embedded, "failed": len(outcome.failed), "skipped": len(outcome.skipped)}


def schedule_embeddings(space: EmbeddingSpace, product_ids: list[int], *, batch_size: int | None = None) -> int:
    """Send these products to the workers in batches (or embed them here when no broker is configured).

    Returns the number of tasks sent.
    """
    batches = services.chunked(sorted(product_ids), batch_size or settings.EMBEDDING_TASK_SIZE)
    for batch in batches:
        embed_products.delay(space.pk, batch)
    return len(batches)
