"""Who gets which variant: deterministic, in the set shares, independent between experiments, sticky across
sessions and logging in; exposed only when the placement renders; crawlers left out."""

import uuid
from collections import Counter

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from scipy.stats import chi2_contingency

from events.middleware import COOKIE_NAME
from events.services import link_visitor
from experiments.assignment import choose
from experiments.models import Exposure
from experiments.services import stop_experiment
from shop.models import Product
from tests.shelves import SHELVES

from .conftest import running, trending_products

UNITS = [uuid.UUID(int=number).hex for number in range(1, 20_001)]


def shelf_size(client: Client) -> int:
    """How many cards the home page's Trending shelf shows (0: none)."""
    page = client.get("/").content.decode()
    if 'id="trending"' not in page:
        return 0
    shelf = page.split('id="trending"', 1)[1].split("</section>", 1)[0]
    return shelf.count('<li class="card"')


def test_the_same_visitor_always_gets_the_same_variant_and_the_shares_are_honoured():
    first = [choose([1, 3], "salt-a", unit) for unit in UNITS]

    assert first == [choose([1, 3], "salt-a", unit) for unit in UNITS]
    share = Counter(first)[1] / len(UNITS)
    assert 0.74 < share < 0.76, share


def test_assignments_in_two_experiments_are_independent():
    one = np.array([choose([1, 1], "experiment-1", unit) for unit in UNITS])
    other = np.array([choose([1, 1], "experiment-2", unit) for unit in UNITS])
    table = [[int(((one == a) & (other == b)).sum()) for b in (0, 1)] for a in (0, 1)]

    assert chi2_contingency(table).pvalue > 0.001, table
    assert not (one == other).all()


def test_a_visitor_keeps_their_variant_across_sessions_logging_in_and_other_browsers():
    trending_products()
    running((("control", "trending", {"limit": 1}, 1), ("b", "trending", {"limit": 4}, 1)))
    browser = Client()
    size = shelf_size(browser)
    visitor = uuid.UUID(hex=browser.cookies[COOKIE_NAME].value)
    user = get_user_model().objects.create_user("sticky@example.com", "sticky@example.com", "a-long-password-1")

    again = [shelf_size(browser) for _ in range(3)]
    link_visitor(visitor, user)  # what logging in on this browser does
    browser.force_login(user)
    signed_in = shelf_size(browser)
    elsewhere = Client()
    elsewhere.force_login(user)
    on_another_browser = shelf_size(elsewhere)

    assert size in (1, 4)
    assert again == [size] * 3 and signed_in == size and on_another_browser == size
    exposure = Exposure.objects.get()
    assert exposure.unit == visitor.hex and exposure.variant.parameters == {"limit": size}


def test_many_visitors_split_between_the_variants_and_each_is_counted_once():
    trending_products()
    experiment = running((("control", "trending", {"limit": 1}, 1), ("b", "trending", {"limit": 4}, 1)))
    sizes = Counter()
    for _ in range(40):
        browser = Client()
        sizes[shelf_size(browser)] += 1
        shelf_size(browser)

    assert set(sizes) == {1, 4}
    counted = Counter(Exposure.objects.filter(experiment=experiment).values_list("variant__key", flat=True))
    assert counted == {"control": sizes[1], "b": sizes[4]}


def test_a_visitor_is_exposed_only_when_the_placement_renders():
    experiment = running()
    browser = Client()

    assert shelf_size(browser) == 0  # nothing trends yet: no shelf
    assert not Exposure.objects.filter(experiment=experiment).exists()
    trending_products()
    cache.clear()  # trending's list, cached empty
    assert shelf_size(browser) in (2, 6)
    assert Exposure.objects.filter(experiment=experiment).count() == 1


@pytest.mark.parametrize("agent", ["Mozilla/5.0 (compatible; Googlebot/2.1)", "Mozilla/5.0 bingpreview/1.0b"])
def test_crawlers_get_the_page_without_being_assigned(agent: str):
    trending_products()
    experiment = running()

    assert shelf_size(Client(HTTP_USER_AGENT=agent)) > 0
    assert not Exposure.objects.filter(experiment=experiment).exists()


def test_a_stopped_experiment_serves_the_placement_as_before_and_keeps_its_exposures():
    trending_products()
    experiment = running((("control", "trending", {"limit": 1}, 1), ("b", "trending", {"limit": 1}, 1)))
    shelf_size(Client())
    stop_experiment(experiment)

    assert shelf_size(Client()) == 6  # PERSONALIZATION_LIST_SIZE: the page's own list again
    assert Exposure.objects.filter(experiment=experiment).count() == 1


def test_similar_items_on_the_product_page_can_be_tested(embedded_catalogue):
    experiment = running(
        (("control", "visual", {"limit": 2}, 1), ("more", "visual", {"limit": 5, "metadata_ranking": True}, 1)),
        placement="product page: similar items",
    )
    product = Product.objects.exclude(image="").order_by("pk").first()
    sizes = Counter()
    for _ in range(12):
        page = Client().get(product.get_absolute_url(), headers=SHELVES).content.decode()
        sizes[page.split('id="similar-items"', 1)[1].split("</section>", 1)[0].count('class="card card--similar"')] += 1

    assert set(sizes) == {2, 5}
    counted = Counter(Exposure.objects.filter(experiment=experiment).values_list("variant__key", flat=True))
    assert counted == {"control": sizes[2], "more": sizes[5]}
