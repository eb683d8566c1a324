"""Item to item: "shoppers who viewed this also viewed" and "who bought this also bought", from how many shoppers
did both within the recent window. One query: the visitors who viewed (bought) the product, joined back to the
log for what else they viewed (bought)."""

from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from events.models import Event

from ..filters import product_q
from .base import Candidate, Context, Strategy


class CoOccurrence(Strategy):
    kinds: ClassVar[tuple[str, ...]] = ()
    reason: ClassVar[str] = ""

    def cache_key(self, context: Context) -> str | None:
        return None if context.product is None else f"{context.product.pk}:{context.gender}"

    def candidates(self, context: Context, count: int) -> list[Candidate]:
        if context.product is None:
            return []
        since = timezone.now() - timedelta(days=settings.PERSONALIZATION_WINDOW_DAYS)
        recent = Event.objects.filter(kind__in=self.kinds, created_at__gte=since)
        shoppers = recent.filter(product_id=context.product.pk).values("visitor_id")
        together = (
            recent.filter(product_q(context, "product__"), visitor_id__in=shoppers)
            .exclude(product_id=context.product.pk)
            .values("product_id")
            .annotate(shoppers=Count("visitor_id", distinct=True))
            .order_by("-shoppers", "-product_id")[:count]
        )
        return [Candidate(row["product_id"], float(row["shoppers"]), self.reason) for row in together]


class AlsoViewed(CoOccurrence):
    label = "also viewed"
    needs = ("product",)
    kinds = (Event.Kind.VIEW,)
    reason = "Shoppers who viewed this also viewed it"


class AlsoBought(CoOccurrence):
    label = "also bought"
    needs = ("product",)
    kinds = (Event.Kind.PURCHASE,)
    reason = "Shoppers who bought this also bought it"
