"""Each product's time-decayed popularity, kept up to date as events are written, so that trending reads one index.

A product's popularity at time t is Σ w(kind) · 2^(-(t - t_event)/h) over its weighted events: a purchase counts
more than a view, and each halves every half-life h. That equals 2^(-u(t)) · Σ w · 2^(u(t_event)), where
u(t) = (t - T0)/h counts half-lives since a fixed reference time T0. The sum no longer depends on t: an event adds
its own term once, nothing is ever decayed again, and ordering products by the sum orders them by popularity at
any moment.

The sum doubles every half-life, so float64 would overflow after 1024 half-lives (8.4 years at 72 h, 43 days at
1 h). It is stored as its base-2 logarithm instead, which grows by one per half-life; adding a term is then a
log-sum-exp. Nothing needs rebasing.

The weights (``PERSONALIZATION_WEIGHTS``, positive ones only) and the half-life (``PERSONALIZATION_HALF_LIFE_HOURS``)
are read from the settings, not from ``personalization``, which this app never imports. After changing either, or
deleting events in bulk (the simulator's), run ``manage.py rebuild_popularity``.
"""

import math
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from .models import Event, ProductPopularity

REFERENCE = datetime(2025, 1, 1, tzinfo=UTC)  # T0: any fixed time; only differences of scores matter
# A term 2^-64 times smaller than the sum is below float64's precision: it changes nothing, and POWER() must not
# be asked for values that underflow (PostgreSQL raises an error rather than returning 0).
NEGLIGIBLE = 64.0

TABLE = ProductPopularity._meta.db_table
EVENTS = Event._meta.db_table

# Writers sort their rows by product, so that concurrent batches lock rows in one order and never deadlock.
UPSERT = f"""
    INSERT INTO {TABLE} AS p (product_id, score, last_event_at)
    SELECT * FROM unnest(%s::bigint[], %s::float8[], %s::timestamptz[])
    ON CONFLICT (product_id) DO UPDATE SET
        score = GREATEST(p.score, EXCLUDED.score)
            + LN(1 + POWER(2::float8, -LEAST(ABS(p.score - EXCLUDED.score), {NEGLIGIBLE}))) / LN(2::float8),
        last_event_at = GREATEST(p.last_event_at, EXCLUDED.last_event_at)
"""

# Log-sum-exp per product: the largest term, plus log2 of the sum of every term relative to it.
REBUILD = f"""
    WITH terms AS (
        SELECT e.product_id, e.created_at,
               w.log_weight + (EXTRACT(EPOCH FROM e.created_at)::float8 - %(reference)s) / %(half_life)s AS term
        FROM {EVENTS} e
        JOIN unnest(%(kinds)s::text[], %(log_weights)s::float8[]) AS w (kind, log_weight) ON w.kind = e.kind
        WHERE e.product_id IS NOT NULL {{products}}
    ), peaks AS (
        SELECT product_id, MAX(term) AS peak FROM terms GROUP BY product_id
    )
    INSERT INTO {TABLE} (product_id, score, last_event_at)
    SELECT t.product_id,
           p.peak + LN(SUM(POWER(2::float8, GREATEST(t.term - p.peak, -{NEGLIGIBLE})))) / LN(2::float8),
           MAX(t.created_at)
    FROM terms t JOIN peaks p USING (product_id)
    GROUP BY t.product_id, p.peak
"""


def weights() -> dict[str, float]:
    """What each kind of event counts for; kinds weighted 0 or less count for nothing."""
    return {kind: float(weight) for kind, weight in settings.PERSONALIZATION_WEIGHTS.items() if weight > 0}


def half_life_seconds() -> float:
    return settings.PERSONALIZATION_HALF_LIFE_HOURS * 3600


def half_lives(at: datetime) -> float:
    """u(at): how many half-lives ``at`` is after the reference time."""
    return (at - REFERENCE).total_seconds() / half_life_seconds()


def decayed(score: float, at: datetime) -> float:
    """The popularity a stored ``score`` stands for at ``at``: Σ w · 2^(-(at - t_event)/h)."""
    return 2.0 ** min(max(score - half_lives(at), -1000.0), 1000.0)  # within float64, whatever the clocks said


def log_add(a: float, b: float) -> float:
    """log2(2^a + 2^b), without leaving float64's range."""
    high, low = max(a, b), min(a, b)
    return high + math.log2(1.0 + 2.0 ** -min(high - low, NEGLIGIBLE))


def _fields(event: Event | Mapping[str, Any]) -> tuple[str, int | None, datetime]:
    if isinstance(event, Event):
        return event.kind, event.product_id, event.created_at
    product_id = event.get("product_id")
    if product_id is None and event.get("product") is not None:
        product_id = event["product"].pk
    return event["kind"], product_id, event["created_at"]


def add_popularity(events: Iterable[Event | Mapping[str, Any]]) -> int:
    """Add these events to their products' popularity, in one statement; returns how many products changed.

    ``events`` are ``Event`` objects or their fields as dicts (``kind``, ``product_id``, ``created_at``): call it
    in the transaction that writes them, so that the log and the scores never disagree. Unweighted kinds and
    events without a product are skipped.
    """
    known = weights()
    scores: dict[int, float] = {}
    latest: dict[int, datetime] = {}
    for event in events:
        kind, product_id, at = _fields(event)
        weight = known.get(kind)
        if weight is None or product_id is None:
            continue
        term = math.log2(weight) + half_lives(at)
        scores[product_id] = log_add(scores[product_id], term) if product_id in scores else term
        latest[product_id] = max(latest[product_id], at) if product_id in latest else at
    if not scores:
        return 0
    ids = sorted(scores)
    with connection.cursor() as cursor:
        cursor.execute(UPSERT, [ids, [scores[pk] for pk in ids], [latest[pk] for pk in ids]])
    return len(ids)


def rebuild_popularity(product_ids: Collection[int] | None = None) -> int:
    """Recompute the popularity of every product (or of ``product_ids``) from the log; returns how many products
    have one. Readers see the old scores until it commits."""
    if product_ids is not None and not product_ids:
        return 0
    known = weights()
    params = {
        "reference": REFERENCE.timestamp(),
        "half_life": half_life_seconds(),
        "kinds": list(known),
        "log_weights": [math.log2(weight) for weight in known.values()],
        "product_ids": sorted(product_ids or ()),
    }
    only = "" if product_ids is None else "AND e.product_id = ANY(%(product_ids)s::bigint[])"
    with transaction.atomic(), connection.cursor() as cursor:
        # Writers wait for this to commit: each event is then counted once, either in what this reads or added
        # by its writer afterwards (a writer that got in first is waited for, and its events read).
        cursor.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
        if product_ids is None:
            cursor.execute(f"DELETE FROM {TABLE}")
        else:
            cursor.execute(f"DELETE FROM {TABLE} WHERE product_id = ANY(%(product_ids)s::bigint[])", params)
        cursor.execute(REBUILD.format(products=only), params)
        return cursor.rowcount
