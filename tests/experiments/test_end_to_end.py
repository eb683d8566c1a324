"""An A/B test on the running site (gunicorn, the test database): the shopper simulator sends SIMULATED visitors
over HTTP, one variant truly shows them more (a six-product Trending shelf against a single product), and the
results name it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cart.models import Cart, Wishlist
from events.models import Event, ProductPopularity
from experiments.models import Experiment, Metric
from experiments.results import experiment_results
from personalization.simulation.http_driver import Behaviour, drive
from personalization.simulation.writer import remove_synthetic
from tests.processes import production_server

from .conftest import running, trending_products

pytestmark = pytest.mark.slow

SHOPPERS = 400
# The site's shoppers, as the simulator's documented behaviour has them, with fewer product pages and checkouts
# (a faster run: the home page's shelves are what is tested).
BEHAVIOUR = Behaviour(products_per_session=(1, 2), wishlist_rate=0.0, cart_rate=0.2, checkout_rate=0.3)


@pytest.fixture
def empty_log() -> None:
    """Overrides the package's: it would open the test's transaction before the site's data is committed."""


@pytest.fixture
def site(django_db_setup, django_db_blocker, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The site with products trending and the experiment running, committed; everything it made removed after."""
    started = timezone.now()
    with django_db_blocker.unblock():
        Event.objects.all().delete()
        ProductPopularity.objects.all().delete()
        trending_products()
        experiment = running((("control", "trending", {"limit": 1}, 1), ("six", "trending", {"limit": 6}, 1)))
        try:
            with production_server(
                tmp_path / "server.log", EVENTS_BUFFERED="false", EVENTS_ACCEPT_SYNTHETIC_HEADER="true"
            ) as url:
                yield url, experiment.pk
        finally:
            Experiment.objects.filter(pk=experiment.pk).delete()
            remove_synthetic()
            Event.objects.all().delete()
            ProductPopularity.objects.all().delete()
            Cart.objects.filter(user=None, created_at__gte=started).delete()
            Wishlist.objects.filter(user=None, created_at__gte=started).delete()


def test_simulated_shoppers_on_the_real_site_show_the_planted_winner_in_the_results(site, db):
    url, experiment_id = site

    report = drive(url, shoppers=SHOPPERS, sessions=1, seed=11, behaviour=BEHAVIOUR, concurrency=4)

    assert not report.problems, report.problems[:5]
    assert report.shelf_clicks > 0 and report.orders > 0
    experiment = Experiment.objects.get(pk=experiment_id)
    results = experiment_results(experiment)
    control, six = results.variants
    print(
        f"{results.exposed} exposed: CTR {control.metrics['ctr']:.3f} (control, n={control.exposed}) against "
        f"{six.metrics['ctr']:.3f} (six, n={six.exposed}); {six.comparisons['ctr']}; "
        f"sample ratio p = {results.sample_ratio.p_value:.3f}"
    )
    # Every simulated shopper saw the shelf once (the server's start-up probe may have too, unsimulated).
    assert sum(variant.simulated for variant in results.variants) == SHOPPERS
    assert not results.sample_ratio.mismatch
    won = six.comparisons[Metric.CLICK_THROUGH]
    assert won.significant and won.low > 0 and won.difference > 0

    owner = Client()
    owner.force_login(get_user_model().objects.create_superuser("owner", "owner@example.com", "a-long-password-1"))
    page = owner.get(reverse("admin:experiments_experiment_results", args=[experiment_id])).content.decode()
    primary = page.split('id="metric-ctr"', 1)[1].split("</table>", 1)[0]
    assert "<td>six</td>" in primary and "significantly better" in primary
    assert "Sample-ratio mismatch" not in page and "<polyline" in page
