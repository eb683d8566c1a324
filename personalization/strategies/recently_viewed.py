"""What this visitor (and, signed in, the same shopper on their other browsers) viewed last."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from events.models import Event
from events.selectors import visitor_events

from .base import Candidate, Context, Strategy


class RecentlyViewed(Strategy):
    label = "recently viewed"
    needs = ("visitor",)
    overfetch = 2
    cap_article_types = False  # the shopper's own trail: five pairs of shoes viewed are five to show

    def candidates(self, context: Context, count: int) -> list[Candidate]:
        if context.visitor_id is None:
            return []
        since = timezone.now() - timedelta(days=settings.PERSONALIZATION_WINDOW_DAYS)
        viewed = (
            visitor_events(context.visitor_id, context.user)
            .filter(kind=Event.Kind.VIEW, product__isnull=False, created_at__gte=since)
            .values("product_id")
            .annotate(last=Max("created_at"))
            .order_by("-last", "-product_id")[:count]
        )
        return [Candidate(row["product_id"], row["last"].timestamp(), "You viewed this") for row in viewed]
