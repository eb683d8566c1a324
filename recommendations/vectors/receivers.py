"""Keep embeddings in step with product images."""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from recommendations.models import EmbeddingSpace
from shop.signals import product_images_changed

from . import services
from .index import drop_index
from .tasks import schedule_embeddings

logger = logging.getLogger(__name__)


@receiver(product_images_changed)
def embed_changed_images(sender: object, product_ids: list[int], **kwargs: object) -> None:
    # Without a broker tasks run in the saving process: fine for an admin edit, too slow for a catalogue import.
    if settings.CELERY_TASK_ALWAYS_EAGER and len(product_ids) > settings.EMBEDDING_INLINE_LIMIT:
        logger.warning(
            "%d products have new images and no Celery broker is configured: "
            "run `python manage.py rebuild_embeddings --missing` (or --stale) to embed them.",
            len(product_ids),
        )
        return
    transaction.on_commit(lambda: schedule_embeddings(services.target_space(), product_ids))


@receiver(post_delete, sender=EmbeddingSpace)
def drop_space_index(sender: type[EmbeddingSpace], instance: EmbeddingSpace, **kwargs: object) -> None:
    drop_index(instance)
