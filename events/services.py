"""Writes to the interaction log: recording what a visitor does, linking a visitor to an account, forgetting."""

import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import Event, Visitor
from .popularity import rebuild_popularity, weights
from .recorder import recorder
from .selectors import visitor_events

logger = logging.getLogger(__name__)

# Crawlers announce themselves; their visits would only blur what shoppers do.
BOT_PATTERN = re.compile(r"bot\b|crawl|spider|slurp|facebookexternalhit|bingpreview", re.IGNORECASE)


def is_bot(request: HttpRequest) -> bool:
    return bool(BOT_PATTERN.search(request.headers.get("User-Agent", "")))


def record_event(request: HttpRequest, kind: str, **fields: Any) -> None:
    """Log what the visitor of ``request`` did; never fails the request and never waits on the database (unless
    ``EVENTS_BUFFERED`` is off). Fields are those of ``Event``, e.g. ``product_id``, ``list_id``, ``position``."""
    visitor_id = getattr(request, "visitor_id", None)
    if visitor_id is None or not settings.EVENTS_ENABLED or is_bot(request):
        return
    user = getattr(request, "user", None)
    if getattr(request, "synthetic", False):  # the simulator's HTTP driver (events.middleware.SYNTHETIC_HEADER)
        fields["synthetic"] = True
    recorder.record(
        {
            "kind": kind,
            "created_at": timezone.now(),
            "visitor_id": visitor_id,
            "user_id": user.pk if user is not None and user.is_authenticated else None,
            **fields,
        }
    )


def link_visitor(visitor_id: uuid.UUID, user: AbstractBaseUser, *, synthetic: bool = False) -> int:
    """The visitor is this user from now on, and was before: their anonymous events become the user's.

    Returns how many events were linked. Buffered events are written first, so that none is left out (if the
    database cannot take them now, they stay buffered and unlinked: the login goes on). ``synthetic``: the
    simulator's browser (the visitor is marked so).
    """
    try:
        recorder.flush()
    except DatabaseError as error:
        logger.warning("Events not written before linking visitor %s: %s", visitor_id, error)
    with transaction.atomic():
        defaults = {"user": user, "linked_at": timezone.now()} | ({"synthetic": True} if synthetic else {})
        Visitor.objects.update_or_create(id=visitor_id, defaults=defaults)
        return Event.objects.filter(visitor_id=visitor_id, user__isnull=True).update(user=user)


def forget_visitor(visitor_id: uuid.UUID, user: AbstractBaseUser | None = None) -> int:
    """Delete what the log holds of this browser and, for a signed-in shopper, of all their browsers.

    Returns how many events were deleted.
    """
    visitor_ids = {visitor_id}
    if user is not None and user.is_authenticated:
        visitor_ids |= set(Visitor.objects.filter(user=user).values_list("id", flat=True))
    recorder.forget(visitor_ids)
    with transaction.atomic():
        events = visitor_events(visitor_id, user)
        counted = set(
            events.filter(kind__in=list(weights()), product__isnull=False).values_list("product_id", flat=True)
        )
        deleted, _ = events.delete()
        Visitor.objects.filter(id__in=visitor_ids).delete()
        rebuild_popularity(counted)  # what they viewed and bought no longer counts for trending
    return deleted


def prune_events(*, days: int | None = None) -> int:
    """Delete events older than the retention period (``EVENTS_RETENTION_DAYS``); returns how many."""
    days = settings.EVENTS_RETENTION_DAYS if days is None else days
    deleted, _ = Event.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted


# What ``record_events_bulk`` writes of each row: the value a row that leaves a field out gets, and the column's
# type for COPY (telling psycopg the types once is twice as fast as letting it look at every value).
BULK_FIELDS: dict[str, tuple[Any, str]] = {
    "kind": (None, "text"),
    "created_at": (None, "timestamptz"),
    "visitor_id": (None, "uuid"),
    "user_id": (None, "int8"),
    "product_id": (None, "int8"),
    "product_ids": ([], "int8[]"),
    "list_id": ("", "text"),
    "placement": ("", "text"),
    "strategy": ("", "text"),
    "position": (None, "int2"),
    "query": ("", "text"),
    "sku_id": (None, "int8"),
    "quantity": (None, "int4"),
    "order_id": (None, "int8"),
    "value": (None, "numeric"),
    "synthetic": (False, "bool"),
}
BULK_DEFAULTS = {name: default for name, (default, _) in BULK_FIELDS.items()}


def record_events_bulk(
    rows: Iterable[Mapping[str, Any]],
    *,
    batch_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write many events at once, for histories made elsewhere (the shopper simulator): PostgreSQL COPY, a batch
    per transaction. Nothing is buffered, and no request is involved: rows are ``Event`` fields by attribute name
    (``kind``, ``created_at``, ``visitor_id``, ``user_id``, ``product_id``, ``order_id``, ``value``,
    ``synthetic``...); those left out take the defaults in ``BULK_FIELDS``. ``progress`` is called with each
    batch's size once it is committed.

    The popularity that trending reads (``events.popularity``) is recounted once, for the products written, after
    the last batch: one query, where adding each batch's would cost more than the copy. A write cut short leaves
    it behind the log until ``manage.py rebuild_popularity``.

    Returns how many events were written. A row with an unknown field or kind, or without ``kind``,
    ``created_at`` or ``visitor_id``, raises ``ValueError`` before its batch is written (earlier batches stay).
    """
    table = connection.ops.quote_name(Event._meta.db_table)
    names = [name.removesuffix("_id") if name in ("user_id", "product_id") else name for name in BULK_FIELDS]
    columns = ", ".join(connection.ops.quote_name(Event._meta.get_field(name).column) for name in names)
    statement = f"COPY {table} ({columns}) FROM STDIN"
    types = [copy_type for _, copy_type in BULK_FIELDS.values()]
    kinds, counted = set(Event.Kind.values), set(weights())
    products: set[int] = set()
    written = 0
    iterator = iter(rows)
    while batch := list(islice(iterator, batch_size)):
        values = [_bulk_values(row, kinds) for row in batch]
        products.update(row["product_id"] for row in batch if row["kind"] in counted and row.get("product_id"))
        with transaction.atomic(), connection.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types(types)
            for row in values:
                copy.write_row(row)
        written += len(batch)
        if progress is not None:
            progress(len(batch))
    rebuild_popularity(products)
    return written


def _bulk_values(row: Mapping[str, Any], kinds: set[str]) -> Iterable[Any]:
    if (
        not row.keys() <= BULK_DEFAULTS.keys()
        or row.get("kind") not in kinds
        or None
        in (
            row.get("created_at"),
            row.get("visitor_id"),
        )
    ):
        raise ValueError(f"Not an event to write: {dict(row)!r} (fields: {', '.join(BULK_FIELDS)}).")
    return {**BULK_DEFAULTS, **row}.values()


def delete_synthetic_events() -> tuple[int, int]:
    """Delete every synthetic event and visitor (docs/simulation.md); the real log is untouched and the
    popularity that trending reads is recounted. Returns (events, visitors) deleted."""
    recorder.flush()
    with transaction.atomic():
        events, _ = Event.objects.filter(synthetic=True).delete()
        visitors, _ = Visitor.objects.filter(synthetic=True).delete()
        rebuild_popularity()
    return events, visitors
