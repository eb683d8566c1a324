"""Reads of the interaction log."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q, QuerySet

from .models import Event, Visitor


def visitor_events(visitor_id: uuid.UUID, user: AbstractBaseUser | None = None) -> QuerySet[Event]:
    """What the log holds of this browser and, for a signed-in shopper, of all their browsers."""
    matches = Q(visitor_id=visitor_id)
    if user is not None and user.is_authenticated:
        matches |= Q(user=user) | Q(visitor_id__in=Visitor.objects.filter(user=user).values("id"))
    return Event.objects.filter(matches)
