"""An experiment's results per variant: the metrics, the lift against the control with its interval and p-value,
the sample-ratio check, the visitors still needed, and the cumulative lift over time (what the admin and the API
show)."""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.conf import settings

from .models import Experiment, Metric
from .selectors import VariantOutcomes, experiment_outcomes
from .statistics import Comparison, SampleRatio, compare, sample_ratio, visitors_needed

RATES = {Metric.CLICK_THROUGH, Metric.ADD_TO_CART, Metric.CONVERSION}
TIMELINE_POINTS = 24


@dataclass(frozen=True)
class VariantResult:
    key: str
    strategy: str
    parameters: dict
    is_control: bool
    share: float  # of the traffic, as set
    exposed: int
    simulated: int  # of them, sent by the shopper simulator
    clicks: int
    metrics: dict[str, float]  # Metric -> per exposed visitor
    comparisons: dict[str, Comparison]  # Metric -> against the control (none for the control)
    visitors_needed: int | None  # per variant, to detect EXPERIMENTS_MINIMUM_LIFT on the primary metric


@dataclass(frozen=True)
class TimelinePoint:
    at: datetime
    lifts: dict[str, float | None]  # variant key -> cumulative relative lift of the primary metric


@dataclass(frozen=True)
class Results:
    experiment: Experiment
    variants: list[VariantResult]
    sample_ratio: SampleRatio
    guardrail_warnings: list[str]
    timeline: list[TimelinePoint]
    attribution_hours: float
    minimum_lift: float

    @property
    def exposed(self) -> int:
        return sum(variant.exposed for variant in self.variants)


def experiment_results(experiment: Experiment) -> Results:
    variants = list(experiment.variants.all())
    outcomes = experiment_outcomes(experiment) if experiment.started_at else {}
    empty = VariantOutcomes(*(np.zeros(0) for _ in range(6)))
    control = next((variant for variant in variants if variant.is_control), variants[0] if variants else None)
    control_outcomes = outcomes.get(control.pk, empty) if control else empty
    total_weight = sum(variant.weight for variant in variants) or 1
    primary = experiment.primary_metric
    minimum_lift = settings.EXPERIMENTS_MINIMUM_LIFT

    results = []
    for variant in variants:
        found = outcomes.get(variant.pk, empty)
        comparisons = (
            {}
            if variant.pk == control.pk
            else {
                metric: compare(metric in RATES, control_outcomes.metric(metric), found.metric(metric))
                for metric in Metric.values
            }
        )
        results.append(
            VariantResult(
                key=variant.key,
                strategy=variant.strategy,
                parameters=variant.parameters,
                is_control=variant.pk == control.pk,
                share=variant.weight / total_weight,
                exposed=len(found.exposed_at),
                simulated=int(found.synthetic.sum()),
                clicks=int(found.clicks.sum()),
                metrics={
                    metric: float(found.metric(metric).mean()) if len(found.exposed_at) else 0.0
                    for metric in Metric.values
                },
                comparisons=comparisons,
                visitors_needed=visitors_needed(primary in RATES, control_outcomes.metric(primary), minimum_lift),
            )
        )
    warnings = [
        f"{result.key}: {Metric(metric).label} is significantly worse than the control's "
        f"({result.comparisons[metric].difference:+.4g}, p = {result.comparisons[metric].p_value:.3g})."
        for result in results
        for metric in experiment.guardrails
        if metric in result.comparisons
        and result.comparisons[metric].significant
        and result.comparisons[metric].difference < 0
    ]
    return Results(
        experiment=experiment,
        variants=results,
        sample_ratio=sample_ratio([result.exposed for result in results], [variant.weight for variant in variants]),
        guardrail_warnings=warnings,
        timeline=_timeline(primary, control, variants, outcomes, empty),
        attribution_hours=settings.EXPERIMENTS_ATTRIBUTION_HOURS,
        minimum_lift=minimum_lift,
    )


def _timeline(primary, control, variants, outcomes, empty) -> list[TimelinePoint]:
    """The primary metric's lift over the control among the visitors exposed so far, at evenly spaced times."""
    times = np.concatenate([found.exposed_at for found in outcomes.values()]) if outcomes else np.zeros(0)
    if control is None or len(times) == 0:
        return []
    steps = np.linspace(times.min(), times.max(), TIMELINE_POINTS)[1:] if times.max() > times.min() else times[:1]
    base = outcomes.get(control.pk, empty)
    points = []
    for at in steps:
        level = _mean_until(base, primary, at)
        lifts = {}
        for variant in variants:
            if variant.pk != control.pk:
                mean = _mean_until(outcomes.get(variant.pk, empty), primary, at)
                lifts[variant.key] = (mean / level - 1) if level and mean is not None else None
        points.append(TimelinePoint(datetime.fromtimestamp(float(at), tz=UTC), lifts))
    return points


def _mean_until(found: VariantOutcomes, metric: str, at: float) -> float | None:
    seen = found.exposed_at <= at
    return float(found.metric(metric)[seen].mean()) if seen.any() else None


@dataclass(frozen=True)
class Cell:
    key: str
    is_control: bool
    value: str
    difference: str = ""  # against the control, with its 95% interval
    lift: str = ""
    p_value: str = ""
    verdict: str = ""  # "better", "worse" or "" (not significant)


@dataclass(frozen=True)
class MetricTable:
    metric: str
    label: str
    primary: bool
    cells: list[Cell]


def metric_tables(results: Results) -> list[MetricTable]:
    """The results as the admin shows them: one table per metric, a row per variant, the primary metric first."""
    metrics = sorted(Metric.values, key=lambda metric: metric != results.experiment.primary_metric)
    return [
        MetricTable(
            metric,
            Metric(metric).label,
            metric == results.experiment.primary_metric,
            [_cell(variant, metric) for variant in results.variants],
        )
        for metric in metrics
    ]


def _cell(variant: VariantResult, metric: str) -> Cell:
    shown = _format(metric)
    comparison = variant.comparisons.get(metric)
    if comparison is None:
        return Cell(variant.key, variant.is_control, shown(variant.metrics[metric]))
    interval = (
        f" [{shown(comparison.low, signed=True)}, {shown(comparison.high, signed=True)}]"
        if comparison.low is not None
        else ""
    )
    verdict = ("better" if comparison.difference > 0 else "worse") if comparison.significant else ""
    return Cell(
        variant.key,
        False,
        shown(variant.metrics[metric]),
        shown(comparison.difference, signed=True) + interval,
        f"{comparison.lift:+.1%}" if comparison.lift is not None else "",
        f"{comparison.p_value:.3g}",
        verdict,
    )


def _format(metric: str):
    if metric in RATES:
        return lambda value, signed=False: f"{value * 100:{'+' if signed else ''}.2f}" + (" pp" if signed else "%")
    return lambda value, signed=False: ("-" if value < 0 else "+" if signed else "") + f"₹{abs(value):,.2f}"
