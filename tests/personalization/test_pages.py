"""The lists on the storefront's pages: the registry that chooses their strategies, what they show, and the
impression that the log records of each, with the id that its links carry."""

import uuid

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.urls import reverse

from events.middleware import COOKIE_NAME
from events.models import Event
from personalization.registry import get_strategy
from personalization.strategies.base import Candidate, Context, Strategy
from personalization.strategies.trending import Trending
from shop.models import Product
from tests.commerce import size
from tests.personalization.helpers import log, products
from tests.shelves import SHELVES

pytestmark = pytest.mark.django_db

VIEW, PURCHASE = Event.Kind.VIEW, Event.Kind.PURCHASE


class Cheapest(Strategy):
    """A shop's own strategy, registered through the setting."""

    label = "cheapest"

    def candidates(self, context: Context, count: int) -> list[Candidate]:
        cheapest = Product.objects.exclude(price=None).order_by("price", "pk").values_list("pk", flat=True)[:count]
        return [Candidate(pk, 0.0, "A bargain") for pk in cheapest]


SWAPPED = {"trending": "tests.personalization.test_pages.Cheapest"}


def visitor(client: Client) -> uuid.UUID:
    return uuid.UUID(client.cookies[COOKIE_NAME].value)


def impressions(client: Client, placement: str) -> list[Event]:
    found = Event.objects.filter(visitor_id=visitor(client), kind=Event.Kind.IMPRESSION, placement=placement)
    return list(found.order_by("id"))


def test_the_registry_maps_names_to_strategies_and_a_setting_swaps_adds_or_turns_one_off():
    assert isinstance(get_strategy("trending"), Trending)
    assert get_strategy("nothing such") is None

    with override_settings(PERSONALIZATION_STRATEGIES=SWAPPED | {"bargains": SWAPPED["trending"], "also_viewed": ""}):
        assert isinstance(get_strategy("trending"), Cheapest)
        assert isinstance(get_strategy("bargains"), Cheapest) and get_strategy("bargains").name == "bargains"
        assert get_strategy("also_viewed") is None

    not_a_strategy = {"trending": "shop.models.Product"}
    with override_settings(PERSONALIZATION_STRATEGIES=not_a_strategy), pytest.raises(ImproperlyConfigured):
        get_strategy("trending")


def test_the_home_page_shows_trending_logs_it_and_its_links_carry_the_list_id(client):
    top, second = products(2, gender="Men")
    log(VIEW, top, times=3)
    log(VIEW, second)

    html = client.get("/").content.decode()

    [shown] = impressions(client, "home: Trending")
    assert (shown.strategy, shown.product_ids) == ("trending", [top, second])
    assert 'id="trending-title"' in html and "Trending now" in html
    assert f'/products/{top}/?lid={shown.list_id}&amp;pos=1"' in html
    assert f'/products/{second}/?lid={shown.list_id}&amp;pos=2"' in html
    client.get(f"/products/{second}/?lid={shown.list_id}&pos=2")
    click = Event.objects.get(visitor_id=visitor(client), kind=Event.Kind.CLICK)
    assert (click.placement, click.strategy, click.position) == ("home: Trending", "trending", 2)


def test_a_new_visitor_gets_trending_overall_and_a_returning_one_trending_in_their_segment(client):
    men = products(1, gender="Men")[0]
    women = products(2, gender="Women")
    log(VIEW, men, times=5)
    log(VIEW, women[0])

    client.get("/")
    client.get(f"/products/{women[1]}/")  # a view in Women makes it the visitor's segment
    client.get("/")

    newcomer, returning = impressions(client, "home: Trending")
    assert newcomer.strategy == "trending" and newcomer.product_ids[0] == men
    assert returning.strategy == "trending: Women" and men not in returning.product_ids
    assert women[0] in returning.product_ids


def test_nothing_is_shown_or_logged_without_a_log(client):
    html = client.get("/").content.decode()

    assert 'id="trending"' not in html and 'id="recently-viewed"' not in html
    assert impressions(client, "home: Trending") == []


def test_the_product_page_shows_also_bought_below_similar_items_else_also_viewed(client):
    seed, bought_too, viewed_too = products(3, gender="Men")
    shopper = uuid.uuid4()
    log(VIEW, seed, shopper)
    log(VIEW, viewed_too, shopper)

    html = client.get(f"/products/{seed}/", headers=SHELVES).content.decode()
    [viewed] = impressions(client, "product page: also bought")
    assert "Shoppers also viewed" in html and viewed.strategy == "also viewed"
    assert viewed.product_ids == [viewed_too]
    assert html.index('id="similar-items"') < html.index('id="also-bought"')

    log(PURCHASE, seed, shopper)
    log(PURCHASE, bought_too, shopper)
    cache.clear()  # the lists are cached for a minute
    html = client.get(f"/products/{seed}/", headers=SHELVES).content.decode()
    bought = impressions(client, "product page: also bought")[-1]
    assert "Shoppers also bought" in html and bought.strategy == "also bought"
    assert bought.product_ids == [bought_too]
    assert f'/products/{bought_too}/?lid={bought.list_id}&amp;pos=1"' in html


def test_recently_viewed_follows_the_visitor_and_leaves_out_the_page_and_the_bag(client):
    first, second, third = products(3, gender="Men")
    for product_id in (first, second, third):
        client.get(f"/products/{product_id}/")

    client.get("/")
    [on_home] = impressions(client, "home: recently viewed")
    assert on_home.product_ids == [third, second, first]

    client.get(f"/products/{second}/")
    client.get(f"/products/{second}/", headers=SHELVES)
    assert impressions(client, "product page: recently viewed")[-1].product_ids == [third, first]

    sku = size(third)
    client.post(reverse("cart:add"), {"product": third, "sku": sku.pk, "quantity": 1})
    client.get("/")
    assert impressions(client, "home: recently viewed")[-1].product_ids == [second, first]


def test_a_swapped_strategy_fills_the_trending_shelf(client):
    with override_settings(PERSONALIZATION_STRATEGIES=SWAPPED):
        html = client.get("/").content.decode()

    [shown] = impressions(client, "home: Trending")
    assert shown.strategy == "cheapest" and "A bargain" in html
    prices = [Product.objects.get(pk=pk).price for pk in shown.product_ids]
    assert prices == sorted(prices)
