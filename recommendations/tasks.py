"""Celery tasks: thin wrappers that fetch by id and call a service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services
from .models import EmbeddingSpace

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
