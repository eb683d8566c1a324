"""A hand-made interaction log on the fixture catalogue."""

import uuid
from datetime import timedelta

from django.utils import timezone

from events.models import Event
from events.popularity import add_popularity
from shop.models import Product


def log(kind: str, product_id: int, visitor: uuid.UUID | None = None, *, hours_ago: float = 0, times: int = 1) -> None:
    visitor = visitor or uuid.uuid4()
    at = timezone.now() - timedelta(hours=hours_ago)
    events = Event.objects.bulk_create(
        Event(kind=kind, product_id=product_id, visitor_id=visitor, created_at=at) for _ in range(times)
    )
    add_popularity(events)  # as the log's writers do


def products(count: int, **filters) -> list[int]:
    """Ids of ``count`` fixture products matching ``filters``, each of another article type (no cap applies)."""
    found: dict[str | None, int] = {}
    for pk, article_type in Product.objects.filter(**filters).order_by("pk").values_list("pk", "article_type"):
        found.setdefault(article_type, pk)
    ids = list(found.values())[:count]
    assert len(ids) == count, f"the fixture has fewer than {count} article types for {filters}"
    return ids
