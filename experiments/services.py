"""Writes: starting and stopping experiments, and a visitor's exposure when a placement renders their variant."""

from collections.abc import Iterable

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import Experiment, Exposure, Variant
from .placements import LIMIT, get_placement
from .selectors import RUNNING_CACHE_KEY, Assignment

# A visitor's exposure is written once; this long the cache remembers it was.
EXPOSURE_MEMORY_SECONDS = 24 * 3600
MAX_LIMIT = 24


def record_exposure(request: HttpRequest, assignment: Assignment) -> None:
    """The placement was shown with the visitor's variant: counted once per visitor and experiment."""
    key = f"experiments:exposed:{assignment.experiment.id}:{assignment.unit}"
    if not cache.add(key, True, EXPOSURE_MEMORY_SECONDS):
        return
    Exposure.objects.bulk_create(
        [
            Exposure(
                experiment_id=assignment.experiment.id,
                variant_id=assignment.variant.id,
                unit=assignment.unit,
                visitor_id=request.visitor_id,
                exposed_at=timezone.now(),
                synthetic=getattr(request, "synthetic", False),
            )
        ],
        ignore_conflicts=True,
    )


def check_variants(placement_key: str, variants: Iterable[Variant]) -> None:
    """Raises ``ValidationError`` with every problem of these variants on this placement."""
    variants = list(variants)
    placement = get_placement(placement_key)
    problems = []
    if placement is None:
        problems.append(f"Unknown placement {placement_key!r}.")
    if len(variants) < 2:
        problems.append("An experiment needs at least two variants.")
    if sum(variant.is_control for variant in variants) != 1:
        problems.append("Exactly one variant must be the control.")
    for variant in variants:
        if placement is not None and variant.strategy not in placement.strategies():
            problems.append(
                f"{variant.key}: the strategy {variant.strategy!r} cannot fill {placement_key!r} "
                f"(it can use {', '.join(placement.strategies())})."
            )
        if not isinstance(variant.parameters, dict):
            problems.append(f'{variant.key}: parameters must be a JSON object, e.g. {{"limit": 4}}.')
            continue
        allowed = placement.parameters if placement is not None else {}
        for name, value in sorted(variant.parameters.items()):
            if name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                problems.append(f"{variant.key}: unknown parameter {name!r} (known: {known}).")
            elif name == LIMIT and (type(value) is not int or not 1 <= value <= MAX_LIMIT):
                problems.append(f"{variant.key}: limit must be a whole number from 1 to {MAX_LIMIT}.")
            elif type(value) is not allowed[name]:
                kind = "true or false" if allowed[name] is bool else f"a {allowed[name].__name__}"
                problems.append(f"{variant.key}: {name} must be {kind}.")
    if problems:
        raise ValidationError(problems)


class ExperimentError(Exception):
    """What the shop owner is told when an experiment cannot start or stop."""


def start_experiment(experiment: Experiment) -> None:
    if experiment.status != Experiment.Status.DRAFT:
        raise ExperimentError(f"{experiment} is {experiment.get_status_display()}: only a draft can start.")
    try:
        check_variants(experiment.placement, experiment.variants.all())
    except ValidationError as error:
        raise ExperimentError(" ".join(error.messages)) from error
    try:
        with transaction.atomic():
            experiment.status = Experiment.Status.RUNNING
            experiment.started_at = timezone.now()
            experiment.save(update_fields=["status", "started_at"])
    except IntegrityError as error:
        experiment.status, experiment.started_at = Experiment.Status.DRAFT, None
        running = Experiment.objects.filter(placement=experiment.placement, status=Experiment.Status.RUNNING).first()
        raise ExperimentError(
            f"{running} is already running on {experiment.placement!r}: stop it before starting {experiment}."
        ) from error
    cache.delete(RUNNING_CACHE_KEY)


def stop_experiment(experiment: Experiment) -> None:
    """Stops showing the variants; the exposures and the log stay, and the results keep counting the time it ran."""
    if experiment.status != Experiment.Status.RUNNING:
        raise ExperimentError(f"{experiment} is not running.")
    experiment.status = Experiment.Status.STOPPED
    experiment.stopped_at = timezone.now()
    experiment.save(update_fields=["status", "stopped_at"])
    cache.delete(RUNNING_CACHE_KEY)
