"""Celery tasks: thin wrappers around the log's services."""

from celery import shared_task

from . import services


@shared_task
def prune_old_events() -> int:
    """Delete the events older than the retention period; scheduled daily by celery beat."""
    return services.prune_events()
