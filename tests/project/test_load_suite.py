"""The load suite (benchmarks/load/), briefly: locust for 15 s against the server that scripts/start.sh runs
(gunicorn, DEBUG off) on the test database. Every kind of request is made and none fails, and what the run made
(a shopper, orders, the interaction log of its visitors) is gone afterwards. Then benchmarks/page_throughput.py's
measurement, two rounds of a second per row, on the same server: none of its requests fails. No speed is checked:
the figures come from the full run on the development database (docs/load.md)."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from benchmarks.load.kinds import KINDS
from benchmarks.load.locust_run import run_locust
from benchmarks.load.plan import EMAIL_DOMAIN, clean_up, visitor_range, write_plan
from benchmarks.page_throughput import measure
from events.models import Event
from orders.models import Order
from shop.models import Product, Sku
from tests.processes import production_server

pytestmark = pytest.mark.slow

USERS = 4


def test_the_plan_asks_for_pages_that_answer_and_buys_only_untracked_stock(db, client, fixture_photos_dir, tmp_path):
    # Also sets the test database up for the test below, which reaches it outside any test transaction.
    plan = write_plan(tmp_path / "plan.json", shoppers=2, photos=sorted(fixture_photos_dir.glob("*.jpg")))

    assert len(plan["shoppers"]) == 2 and plan["photos"]
    for path in plan["listings"][:20] + plan["searches"][:20]:
        response = client.get(path)
        assert response.status_code == 200 and b"listing__count" in response.content, path
    sizes = Sku.objects.filter(pk__in=[sku for _, sku in plan["buyable"]])
    assert sizes.count() == len(plan["buyable"]) > 0
    assert not sizes.exclude(stock=None).exists()


def test_a_short_load_run_makes_every_kind_of_request_none_fails_and_leaves_nothing(
    embedded_catalogue, django_db_blocker, fixture_photos_dir: Path, tmp_path: Path
):
    with django_db_blocker.unblock():
        since = timezone.now()
        orders = Order.objects.count()
        plan = tmp_path / "plan.json"
        try:
            write_plan(plan, shoppers=1, photos=sorted(fixture_photos_dir.glob("*.jpg")))
            with production_server(
                tmp_path / "server.log",
                WEB_CONCURRENCY="2",
                EVENTS_ACCEPT_SYNTHETIC_HEADER="true",
                API_PHOTO_SEARCH_RATE="100000/minute",
            ) as url:
                result = run_locust(
                    url, plan, users=USERS, spawn_rate=USERS, run_time="15s", csv_prefix=tmp_path / "locust",
                    every_kind_first=True,
                )  # fmt: skip
                # benchmarks/page_throughput.py's measurement, on the same server
                products = [product.get_absolute_url() for product in Product.objects.exclude(image="")[:20]]
                throughput = measure(url, products, concurrency=2, seconds=2.0, rounds=2, warm_up=1.0)
        finally:
            removed = clean_up()
        low, high = visitor_range()
        left = (
            Order.objects.count() - orders,
            Event.objects.filter(visitor_id__gte=low, visitor_id__lte=high).count(),
            get_user_model().objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").count(),
        )
        # What the server logged of the requests that asked whether it was up (not the load test's).
        Event.objects.filter(created_at__gte=since).delete()

    log = (tmp_path / "server.log").read_text()[-3000:]
    assert result.total.failures == 0, "\n".join(result.failures) + "\n" + log
    assert {kind: result.requests_of(kind) for kind in KINDS if not result.requests_of(kind)} == {}
    assert removed.shoppers == 1
    assert removed.orders >= 1 and removed.events > 0, "the run checked out and was logged, as synthetic"
    assert left == (0, 0, 0)
    assert list(throughput) == ["baseline (admin login)", "product pages, random", "their shelves"]
    for name, rounds in throughput.items():
        assert len(rounds) == 2, name
        for rate, served, failed in rounds:
            assert served > 0 and rate > 0 and failed == 0, name
