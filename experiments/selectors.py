"""Reads: the experiments running now (cached), whom a request counts as, and an experiment's outcomes per visitor."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest

from events.models import Event, Visitor
from events.services import is_bot

from .assignment import choose
from .models import Experiment, Exposure, Metric

RUNNING_CACHE_KEY = "experiments:running"
ATTRIBUTED_KINDS = {
    Event.Kind.CLICK: "click",
    Event.Kind.CART_ADD: "cart_add",
    Event.Kind.PURCHASE: "purchase",
}


@dataclass(frozen=True)
class RunningVariant:
    id: int
    key: str
    strategy: str
    parameters: dict
    weight: int


@dataclass(frozen=True)
class RunningExperiment:
    id: int
    placement: str
    salt: str
    variants: tuple[RunningVariant, ...]


def running_experiments() -> dict[str, RunningExperiment]:
    """The running experiment of each placement; cached (the admin's start and stop clear the cache)."""
    running = cache.get(RUNNING_CACHE_KEY)
    if running is None:
        running = {
            experiment.placement: RunningExperiment(
                experiment.pk,
                experiment.placement,
                experiment.salt,
                tuple(
                    RunningVariant(variant.pk, variant.key, variant.strategy, variant.parameters, variant.weight)
                    for variant in experiment.variants.all()
                ),
            )
            for experiment in Experiment.objects.filter(status=Experiment.Status.RUNNING).prefetch_related("variants")
        }
        cache.set(RUNNING_CACHE_KEY, running, settings.EXPERIMENTS_CACHE_SECONDS)
    return running


def user_unit(user_id: int) -> str:
    """A signed-in shopper counts as the first browser they logged in with, on every browser."""
    key = f"experiments:unit:{user_id}"
    unit = cache.get(key)
    if unit is None:
        first = Visitor.objects.filter(user_id=user_id).order_by("linked_at", "pk").values_list("pk", flat=True)[:1]
        if not first:
            return f"user-{user_id}"  # not cached: their first browser is linked when they log in
        unit = first[0].hex
        cache.set(key, unit, 24 * 3600)
    return unit


def request_unit(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user_unit(user.pk)
    visitor_id = getattr(request, "visitor_id", None)
    return visitor_id.hex if visitor_id is not None else None


@dataclass(frozen=True)
class Assignment:
    experiment: RunningExperiment
    variant: RunningVariant
    unit: str


def assign(request: HttpRequest, placement: str) -> Assignment | None:
    """The variant this visitor gets on ``placement``; None when no experiment runs there (or for a crawler)."""
    experiment = running_experiments().get(placement)
    if experiment is None or not experiment.variants or is_bot(request):
        return None
    unit = request_unit(request)
    if unit is None:
        return None
    index = choose([variant.weight for variant in experiment.variants], experiment.salt, unit)
    return Assignment(experiment, experiment.variants[index], unit)


@dataclass
class VariantOutcomes:
    """One entry per exposed visitor: when they were first shown the placement and what followed from its lists."""

    exposed_at: np.ndarray  # epoch seconds
    synthetic: np.ndarray  # bool
    clicks: np.ndarray  # click events on the placement's lists
    carts: np.ndarray  # add-to-carts from them
    purchases: np.ndarray  # purchased lines from them
    revenue: np.ndarray  # rupees

    def metric(self, metric: str) -> np.ndarray:
        """Per visitor: 0/1 for the rates, rupees for revenue."""
        return {
            Metric.CLICK_THROUGH: self.clicks > 0,
            Metric.ADD_TO_CART: self.carts > 0,
            Metric.CONVERSION: self.purchases > 0,
            Metric.REVENUE: self.revenue,
        }[metric].astype(float)


@dataclass
class _Visitor:
    exposed_at: float
    synthetic: bool
    counts: dict[str, float] = field(default_factory=lambda: defaultdict(float))


def experiment_outcomes(experiment: Experiment) -> dict[int, VariantOutcomes]:
    """Per variant id, the outcomes of its exposed visitors.

    A click, add-to-cart or purchase counts when it carries the id of a list that the placement showed the visitor
    during the experiment, at most ``EXPERIMENTS_ATTRIBUTION_HOURS`` after the list was shown.
    """
    visitors: dict[str, _Visitor] = {}
    variant_of: dict[str, int] = {}
    for unit, variant_id, exposed_at, synthetic in Exposure.objects.filter(experiment=experiment).values_list(
        "unit", "variant_id", "exposed_at", "synthetic"
    ):
        visitors[unit] = _Visitor(exposed_at.timestamp(), synthetic)
        variant_of[unit] = variant_id

    impressions = _impressions(experiment)
    lists = _lists_shown(impressions)
    window = timedelta(hours=settings.EXPERIMENTS_ATTRIBUTION_HOURS)
    actions = Event.objects.filter(
        kind__in=list(ATTRIBUTED_KINDS),
        list_id__in=impressions.values("list_id"),
        created_at__gte=experiment.started_at,
    ).values_list("kind", "list_id", "created_at", "value")
    for kind, list_id, created_at, value in actions.iterator(chunk_size=5000):
        units, shown_at = lists[list_id]
        visitor = next((visitors[unit] for unit in units if unit in visitors), None)
        if visitor is None or not (shown_at <= created_at <= shown_at + window):
            continue
        name = ATTRIBUTED_KINDS[kind]
        visitor.counts[name] += 1
        if name == "purchase":
            visitor.counts["revenue"] += float(value or 0)

    by_variant: dict[int, list[_Visitor]] = defaultdict(list)
    for unit, visitor in visitors.items():
        by_variant[variant_of[unit]].append(visitor)
    return {
        variant.pk: _outcomes(sorted(by_variant.get(variant.pk, []), key=lambda visitor: visitor.exposed_at))
        for variant in experiment.variants.all()
    }


def _impressions(experiment: Experiment) -> QuerySet[Event]:
    """The placement's lists shown while the experiment ran."""
    shown = Event.objects.filter(
        kind=Event.Kind.IMPRESSION, placement=experiment.placement, created_at__gte=experiment.started_at
    )
    return shown.filter(created_at__lte=experiment.stopped_at) if experiment.stopped_at is not None else shown


def _lists_shown(impressions: QuerySet[Event]) -> dict[str, tuple[tuple[str, ...], datetime]]:
    """List id -> (whom the list counts as, when it was shown).

    A list shown to a signed-in shopper (or to a browser later linked to an account) counts as the account's unit,
    else as the browser's, whichever was exposed."""
    rows = list(impressions.values_list("list_id", "visitor_id", "user_id", "created_at"))
    users = {user_id for _, _, user_id, _ in rows if user_id is not None}
    first_browsers = dict(
        Visitor.objects.filter(user_id__in=users)
        .order_by("user_id", "linked_at", "pk")
        .distinct("user_id")
        .values_list("user_id", "pk")
    )

    def units(visitor_id: uuid.UUID, user_id: int | None) -> tuple[str, ...]:
        if user_id is None:
            return (visitor_id.hex,)
        first = first_browsers.get(user_id)
        return (first.hex if first is not None else f"user-{user_id}", visitor_id.hex)

    return {list_id: (units(visitor_id, user_id), created_at) for list_id, visitor_id, user_id, created_at in rows}


def _outcomes(visitors: list[_Visitor]) -> VariantOutcomes:
    def column(name: str) -> np.ndarray:
        return np.array([visitor.counts.get(name, 0.0) for visitor in visitors], dtype=float)

    return VariantOutcomes(
        exposed_at=np.array([visitor.exposed_at for visitor in visitors], dtype=float),
        synthetic=np.array([visitor.synthetic for visitor in visitors], dtype=bool),
        clicks=column("click"),
        carts=column("cart_add"),
        purchases=column("purchase"),
        revenue=column("revenue"),
    )
