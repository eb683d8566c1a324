"""Each product's decayed popularity, kept by the log's writers in the transaction that writes the events."""

import io
import math
import random
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from events.models import Event, ProductPopularity
from events.popularity import add_popularity, decayed, rebuild_popularity
from events.recorder import EventRecorder, recorder
from events.services import forget_visitor
from shop.models import Product

pytestmark = pytest.mark.django_db

WEIGHTS = {"view": 1.0, "cart_add": 3.0, "purchase": 5.0}
HALF_LIFE_HOURS = 72.0


@pytest.fixture(autouse=True)
def known_settings(settings) -> None:
    settings.PERSONALIZATION_WEIGHTS = WEIGHTS
    settings.PERSONALIZATION_HALF_LIFE_HOURS = HALF_LIFE_HOURS
    ProductPopularity.objects.all().delete()  # what servers of other tests committed


def product_ids(count: int) -> list[int]:
    return list(Product.objects.order_by("pk").values_list("pk", flat=True)[:count])


def fields(kind: str, product_id: int | None, *, hours_ago: float = 0, visitor: uuid.UUID | None = None) -> dict:
    return {
        "kind": kind,
        "product_id": product_id,
        "visitor_id": visitor or uuid.uuid4(),
        "created_at": timezone.now() - timedelta(hours=hours_ago),
    }


def by_hand(events: list[dict], at) -> dict[int, float]:
    """Σ weight · 2^(-age / half-life) per product: the decayed popularity, counted the slow way."""
    totals: dict[int, float] = {}
    for event in events:
        weight = WEIGHTS.get(event["kind"])
        if weight and event["product_id"] is not None:
            age_hours = (at - event["created_at"]).total_seconds() / 3600
            totals[event["product_id"]] = totals.get(event["product_id"], 0.0) + weight * 2 ** (
                -age_hours / HALF_LIFE_HOURS
            )
    return totals


def stored(at) -> dict[int, float]:
    return {row.product_id: decayed(row.score, at) for row in ProductPopularity.objects.all()}


def write(events: list[dict]) -> None:
    Event.objects.bulk_create(Event(**event) for event in events)
    add_popularity(events)


def random_log(seed: int, products: list[int], count: int = 300) -> list[dict]:
    chosen = random.Random(seed)
    kinds = ["view"] * 8 + ["cart_add", "purchase", "impression", "search"]
    return [
        fields(chosen.choice(kinds), chosen.choice(products), hours_ago=chosen.uniform(0, 24 * 60))
        for _ in range(count)
    ]


def test_the_stored_score_is_the_decayed_weighted_sum():
    first, second, third = product_ids(3)
    events = [
        fields("purchase", first, hours_ago=1),
        fields("view", first, hours_ago=72),  # halved once
        fields("cart_add", second, hours_ago=144),  # halved twice
        fields("view", third, hours_ago=24 * 30),
        fields("impression", third),  # not a signal of interest
        fields("view", None),  # a view of no product
    ]
    write(events)

    now = timezone.now()
    expected = by_hand(events, now)
    assert stored(now) == pytest.approx(expected, rel=1e-9)
    assert expected[first] == pytest.approx(5 * 2 ** (-1 / 72) + 0.5, rel=1e-6)
    assert ProductPopularity.objects.get(pk=first).last_event_at == events[0]["created_at"]


def test_a_batch_counts_in_the_transaction_that_writes_it_once_and_a_refused_event_not_at_all(tmp_path):
    first, second = product_ids(2)
    writer = EventRecorder()
    bad = fields("view", second) | {"list_id": "x" * 40}  # longer than the column: the database refuses it
    with override_settings(EVENTS_BUFFERED=True, EVENTS_FLUSH_SECONDS=60, EVENTS_SPOOL_DIR=tmp_path):
        for event in [fields("view", first), fields("purchase", first), bad, fields("cart_add", second)]:
            writer.record(event)
        writer.flush()  # in this thread, in the test's transaction

    now = timezone.now()
    assert stored(now) == pytest.approx({first: 6.0, second: 3.0}, rel=1e-3)
    assert Event.objects.filter(product_id__in=[first, second]).count() == 3


def test_an_unbuffered_event_counts_at_once():
    (product,) = product_ids(1)

    recorder.record(fields("cart_add", product))  # EVENTS_BUFFERED is off in the tests

    assert stored(timezone.now()) == pytest.approx({product: 3.0}, rel=1e-3)


def test_rebuilding_from_the_log_gives_what_the_writers_kept():
    products = product_ids(12)
    events = random_log(7, products)
    for start in range(0, len(events), 37):  # in batches, as the writers get them
        write(events[start : start + 37])
    kept = {row.product_id: (row.score, row.last_event_at) for row in ProductPopularity.objects.all()}

    assert rebuild_popularity() == len(kept)

    rebuilt = {row.product_id: (row.score, row.last_event_at) for row in ProductPopularity.objects.all()}
    assert rebuilt.keys() == kept.keys()
    for product, (score, last) in kept.items():
        assert rebuilt[product][0] == pytest.approx(score, abs=1e-9)
        assert rebuilt[product][1] == last
    now = timezone.now()
    assert stored(now) == pytest.approx(by_hand(events, now), rel=1e-9)


def test_the_command_rebuilds_everything():
    first, second = product_ids(2)
    Event.objects.bulk_create(Event(**fields("view", first)) for _ in range(3))  # written around the writers
    write([fields("purchase", second)])
    ProductPopularity.objects.filter(pk=second).update(score=0.0)  # damaged

    out = io.StringIO()
    call_command("rebuild_popularity", stdout=out)

    assert "Rebuilt the popularity of 2 products from 4 events" in out.getvalue()
    assert stored(timezone.now()) == pytest.approx({first: 3.0, second: 5.0}, rel=1e-3)


def test_a_shopper_who_deletes_their_data_no_longer_counts():
    shared, theirs_only = product_ids(2)
    shopper, other = uuid.uuid4(), uuid.uuid4()
    write(
        [
            fields("purchase", shared, visitor=shopper),
            fields("view", shared, visitor=other),
            fields("view", theirs_only, visitor=shopper),
        ]
    )

    forget_visitor(shopper)

    assert stored(timezone.now()) == pytest.approx({shared: 1.0}, rel=1e-3)


def test_years_of_a_short_half_life_neither_overflow_nor_lose_the_ranking(settings):
    settings.PERSONALIZATION_HALF_LIFE_HOURS = 1.0  # 2^(hours since T0) would overflow float64 after 43 days
    old, recent = product_ids(2)
    write([fields("purchase", old, hours_ago=24 * 365 * 10)] * 50 + [fields("view", recent, hours_ago=2)])

    now = timezone.now()
    scores = stored(now)
    assert all(math.isfinite(row.score) for row in ProductPopularity.objects.all())
    assert scores[recent] == pytest.approx(0.25, rel=1e-3)
    assert scores[old] < scores[recent]
    assert rebuild_popularity() == 2
    assert stored(now)[recent] == pytest.approx(0.25, rel=1e-3)
