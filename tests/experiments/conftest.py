from collections.abc import Sequence

import pytest

from events.models import Event, ProductPopularity
from experiments.models import Experiment, Variant
from experiments.services import start_experiment
from tests.personalization.helpers import log, products

TRENDING = "home: Trending"


@pytest.fixture(autouse=True)
def empty_log(db) -> None:
    """Each test writes the log it measures: none of what servers started by other tests committed."""
    Event.objects.all().delete()
    ProductPopularity.objects.all().delete()


def trending_products(count: int = 8) -> list[int]:
    """Makes ``count`` fixture products (each of another article type) trend, so that the Trending shelf shows."""
    ids = products(count, in_stock=True)
    for rank, product_id in enumerate(ids):
        log("view", product_id, times=count - rank)
    return ids


def running(
    variants: Sequence[tuple[str, str, dict, int]] = (
        ("control", "trending", {"limit": 2}, 1),
        ("b", "trending", {"limit": 6}, 1),
    ),
    *,
    placement: str = TRENDING,
    name: str = "Shelf size",
    **fields,
) -> Experiment:
    """A started experiment; ``variants`` are (key, strategy, parameters, weight), the first the control."""
    experiment = Experiment.objects.create(name=name, placement=placement, **fields)
    for index, (key, strategy, parameters, weight) in enumerate(variants):
        Variant.objects.create(
            experiment=experiment,
            key=key,
            strategy=strategy,
            parameters=parameters,
            weight=weight,
            is_control=index == 0,
        )
    start_experiment(experiment)
    return experiment
