"""Popular and trending: views, cart adds and purchases, weighted (a purchase counts most) and halved every
half-life; overall, or within the context's gender and category. Read from each product's decayed score, which the
log's writers keep up to date with every batch (``events.popularity``): one scan of its index, and a new product
trends as soon as shoppers take to it, with nothing to retrain."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from events.models import ProductPopularity
from events.popularity import decayed

from ..filters import product_q
from .base import Candidate, Context, Strategy


class Trending(Strategy):
    label = "trending"

    def segment(self, context: Context) -> str:
        return " / ".join(part for part in (context.gender, context.category) if part)

    def strategy_label(self, context: Context) -> str:
        segment = self.segment(context)
        return f"{self.label}: {segment}" if segment else self.label

    def cache_key(self, context: Context) -> str:
        return f"{context.gender}:{context.category}"

    def candidates(self, context: Context, count: int) -> list[Candidate]:
        now = timezone.now()
        # Only products with an event in the window trend; older events of theirs still count, decayed.
        ranked = ProductPopularity.objects.filter(
            product_q(context, "product__"),
            last_event_at__gte=now - timedelta(days=settings.PERSONALIZATION_WINDOW_DAYS),
        )
        if context.category:
            ranked = ranked.filter(product__master_category=context.category)
        rows = ranked.order_by("-score", "-product_id").values_list("product_id", "score")[:count]
        segment = self.segment(context)
        reason = f"Trending in {segment}" if segment else "Trending now"
        return [Candidate(product_id, decayed(score, now), reason) for product_id, score in rows]
