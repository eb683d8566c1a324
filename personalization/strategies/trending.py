"""Popular and trending: views, cart adds and purchases, weighted (a purchase counts most) and halved every
half-life, over a recent window; overall, or within the context's gender and category. Counted live in SQL, so a
new product trends as soon as shoppers take to it, with nothing to retrain."""

import math
from datetime import timedelta

from django.conf import settings
from django.db.models import Case, DurationField, ExpressionWrapper, F, FloatField, Sum, Value, When
from django.db.models.functions import Exp, Extract
from django.utils import timezone

from events.models import Event

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
        weights = settings.PERSONALIZATION_WEIGHTS
        now = timezone.now()
        half_life = settings.PERSONALIZATION_HALF_LIFE_HOURS * 3600
        age = Extract(ExpressionWrapper(Value(now) - F("created_at"), output_field=DurationField()), "epoch")
        weight = Case(
            *[When(kind=kind, then=Value(float(value))) for kind, value in weights.items()],
            default=Value(0.0),
            output_field=FloatField(),
        )
        events = Event.objects.filter(
            product_q(context, "product__"),
            kind__in=list(weights),
            created_at__gte=now - timedelta(days=settings.PERSONALIZATION_WINDOW_DAYS),
            created_at__lte=now,
        )
        if context.category:
            events = events.filter(product__master_category=context.category)
        ranked = (
            events.values("product_id")
            .annotate(score=Sum(weight * Exp(Value(-math.log(2) / half_life) * age), output_field=FloatField()))
            .order_by("-score", "-product_id")[:count]
        )
        segment = self.segment(context)
        reason = f"Trending in {segment}" if segment else "Trending now"
        return [Candidate(row["product_id"], row["score"], reason) for row in ranked]
