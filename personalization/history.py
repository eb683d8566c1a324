"""A visitor's latest events, as the learnt algorithms read a shopper's history (shopper code 0)."""

from __future__ import annotations

import numpy as np
from django.conf import settings

from events.selectors import visitor_events

from .interactions import KIND_CODES, KINDS, EventLog
from .strategies.base import Context


def latest_events(context: Context, limit: int | None = None) -> list[tuple[int, str, float]]:
    """(product id, kind, timestamp) of the visitor's latest events that say what they like, oldest first."""
    if context.visitor_id is None:
        return []
    limit = settings.PERSONALIZATION_HISTORY_EVENTS if limit is None else limit
    rows = (
        visitor_events(context.visitor_id, context.user)
        .filter(kind__in=KINDS, product__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("product_id", "kind", "created_at")[:limit]
    )
    return [(product_id, kind, created_at.timestamp()) for product_id, kind, created_at in reversed(rows)]


def history_log(events: list[tuple[int, str, float]], product_ids: np.ndarray, code) -> EventLog:
    """The events as a one-shopper log in a model's product codes (``code``: product id -> code or None);
    products the model does not know (added since it was trained) are left out."""
    kept = [(code(product_id), kind, at) for product_id, kind, at in events if code(product_id) is not None]
    return EventLog(
        shopper=np.zeros(len(kept), dtype=np.int32),
        product=np.array([row[0] for row in kept], dtype=np.int32),
        kind=np.array([KIND_CODES[row[1]] for row in kept], dtype=np.int8),
        timestamp=np.array([row[2] for row in kept], dtype=np.float64),
        shopper_ids=np.array(["visitor"], dtype=object),
        product_ids=product_ids,
    )
