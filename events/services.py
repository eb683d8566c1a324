"""Writes to the interaction log: recording what a visitor does, linking a visitor to an account, forgetting."""

import logging
import re
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DatabaseError, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import Event, Visitor
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
    recorder.record(
        {
            "kind": kind,
            "created_at": timezone.now(),
            "visitor_id": visitor_id,
            "user_id": user.pk if user is not None and user.is_authenticated else None,
            **fields,
        }
    )


def link_visitor(visitor_id: uuid.UUID, user: AbstractBaseUser) -> int:
    """The visitor is this user from now on, and was before: their anonymous events become the user's.

    Returns how many events were linked. Buffered events are written first, so that none is left out (if the
    database cannot take them now, they stay buffered and unlinked: the login goes on).
    """
    try:
        recorder.flush()
    except DatabaseError as error:
        logger.warning("Events not written before linking visitor %s: %s", visitor_id, error)
    with transaction.atomic():
        Visitor.objects.update_or_create(id=visitor_id, defaults={"user": user, "linked_at": timezone.now()})
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
        deleted, _ = visitor_events(visitor_id, user).delete()
        Visitor.objects.filter(id__in=visitor_ids).delete()
    return deleted


def prune_events(*, days: int | None = None) -> int:
    """Delete events older than the retention period (``EVENTS_RETENTION_DAYS``); returns how many."""
    days = settings.EVENTS_RETENTION_DAYS if days is None else days
    deleted, _ = Event.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted
