"""The Commerce issue's end-to-end check on the real catalogue, in Chromium: product 15970 (Turtle's check shirt)
shows its brand, price, description and sizes; the admin sets a stock of 1 on one size; a shopper reaches it from
a listing, buys that last unit cash on delivery, and the size then shows as sold out; the interaction log has
each step of the visit with the listing's id.

The server runs with the log as in production (buffered, written by its background thread) and sees only
committed data: the test removes what it and the browsers added.
"""

import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from events.middleware import COOKIE_NAME
from events.models import Event
from orders.models import Order
from shop.models import Product, Sku
from shop.services import refresh_in_stock
from tests import browsers
from tests.browsers import running_server
from tests.commerce import PASSWORD, browser_accounts

pytestmark = [pytest.mark.browser, pytest.mark.dataset]

PRODUCT = 15970
SIZE = "40"
SHOPPER_EMAIL = "turtle-shopper@example.com"
ADMIN = "turtle-admin"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def started() -> datetime:
    return timezone.now()


@pytest.fixture(scope="module")
def committed(django_db_setup, django_db_blocker, started: datetime) -> Iterator[None]:
    with django_db_blocker.unblock():
        try:
            with browser_accounts(ADMIN, SHOPPER_EMAIL):
                yield
        finally:
            Event.objects.filter(created_at__gte=started).delete()
            Sku.objects.filter(product_id=PRODUCT).update(stock=None)
            refresh_in_stock([PRODUCT])


@pytest.fixture(scope="module")
def server(committed, django_db_blocker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with (
        django_db_blocker.unblock(),
        running_server(
            tmp_path_factory.mktemp("server"),
            EVENTS_ENABLED="true",
            EVENTS_BUFFERED="true",
            EVENTS_FLUSH_SECONDS="0.2",
            EVENTS_SPOOL_DIR=str(tmp_path_factory.mktemp("events")),
        ) as url,
    ):
        yield url


def new_page(browser: Browser, server: str) -> Page:
    return browsers.new_page(browser, server, timeout_ms=TIMEOUT_MS, viewport={"width": 1280, "height": 900})


def logged(visitor: uuid.UUID, kinds: set[str], timeout: float = 20) -> list[Event]:
    """The visitor's events, once the server's writer has written every kind asked for."""
    deadline = time.monotonic() + timeout
    while True:
        events = list(Event.objects.filter(visitor_id=visitor).order_by("created_at", "id"))
        if kinds <= {event.kind for event in events} or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def test_product_15970_is_the_turtle_shirt_with_four_sizes(db):
    # Also asks for the test database: pytest-django sets it up only for tests that use it through `db`.
    product = Product.objects.select_related("brand").get(pk=PRODUCT)
    assert (product.brand.name, product.price) == ("Turtle", 1195)
    assert [sku.label for sku in product.skus.all()] == ["39", "40", "42", "44"]


def test_the_last_unit_of_a_size_is_bought_end_to_end_and_every_step_is_logged(
    browser: Browser, server: str, monkeypatch: pytest.MonkeyPatch
):
    # Playwright's sync API keeps an event loop in this thread; the ORM's checks take it for async code, which it
    # is not: every call here blocks until the browser is done.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    # The shop owner sets a stock of 1 on size 40.
    admin = new_page(browser, server)
    admin.goto(reverse("admin:shop_product_change", args=[PRODUCT]))
    admin.locator('input[name="username"]').fill(ADMIN)
    admin.locator('input[name="password"]').fill(PASSWORD)
    admin.locator('input[type="submit"]').click()
    row = admin.locator("tr.form-row", has=admin.locator(f'input[name$="-label"][value="{SIZE}"]'))
    row.locator('input[name$="-stock"]').fill("1")
    admin.locator('input[name="_continue"]').first.click()
    expect(admin.locator(".messagelist")).to_contain_text("was changed successfully")

    # A shopper finds the shirt in a listing and opens it.
    shopper = new_page(browser, server)
    shopper.goto(reverse("shop:product-list") + "?brand=Turtle&article_type=Shirts")
    shopper.locator(f'.card__link[href^="/products/{PRODUCT}/?lid="]').click()
    expect(shopper.locator("h1.product__name")).to_have_text("Turtle Check Men Navy Blue Shirt")
    expect(shopper.locator(".product__brand")).to_have_text("Turtle")
    expect(shopper.locator(".product__price .price__now")).to_have_text("₹1,195")
    description = shopper.locator(".product__description")
    expect(description).to_contain_text("Dark brown and indigo blue plaid check shirt")
    assert not re.search(r"<script|\bon\w+=|style=", description.inner_html())
    for label in ("39", "40", "42", "44"):
        expect(shopper.locator(".size", has_text=label)).to_be_visible()
    expect(shopper.locator(".size", has_text=SIZE)).to_contain_text("1 left")

    # Size 40 into the bag, sign up on the way to checkout, cash on delivery.
    shopper.locator(".size", has_text=SIZE).click()
    shopper.get_by_role("button", name="Add to bag").click()
    expect(shopper.locator(".mini-bag summary")).to_have_attribute("data-bag-count", "1")
    shopper.goto(reverse("orders:checkout"))
    shopper.get_by_role("link", name="sign up").click()
    shopper.locator('input[name="email"]').fill(SHOPPER_EMAIL)
    shopper.locator('input[name="password1"]').fill(PASSWORD)
    shopper.locator('input[name="password2"]').fill(PASSWORD)
    shopper.get_by_role("button", name="Sign Up").click()
    expect(shopper).to_have_url(f"{server}{reverse('orders:checkout')}")
    address = {"full_name": "Ravi Kumar", "phone": "+91 98450 54321", "line1": "4 Park Street"}
    address |= {"city": "Kolkata", "state": "West Bengal", "postcode": "700016"}
    for name, value in address.items():
        shopper.locator(f'input[name="new-{name}"]').fill(value)
    shopper.get_by_role("button", name="Place order").click()
    expect(shopper.locator("h1")).to_have_text("Thank you for your order")

    # The size is sold out now.
    shopper.goto(reverse("shop:product-detail", args=[PRODUCT]))
    expect(shopper.locator(".size", has_text=SIZE).locator("input")).to_be_disabled()
    expect(shopper.locator(".size", has_text="42").locator("input")).to_be_enabled()
    assert Sku.objects.get(product_id=PRODUCT, label=SIZE).stock == 0

    # The log: the listing shown, the click on it, the view, the bag, the purchase, all with the listing's id.
    cookie = next(c for c in shopper.context.cookies() if c["name"] == COOKIE_NAME)
    events = logged(uuid.UUID(cookie["value"]), {"impression", "click", "view", "cart_add", "purchase"})
    listing = next(e for e in events if e.kind == "impression" and e.placement == "listing")
    assert PRODUCT in listing.product_ids
    steps = {e.kind: e for e in events if e.list_id == listing.list_id and e.kind != "impression"}
    assert set(steps) == {"click", "view", "cart_add", "purchase"}
    assert steps["click"].position == listing.product_ids.index(PRODUCT) + 1
    assert steps["click"].placement == "listing"
    order = Order.objects.get(email=SHOPPER_EMAIL)
    assert (steps["purchase"].order_id, steps["purchase"].value) == (order.pk, 1195)
    assert steps["cart_add"].sku_id == Sku.objects.get(product_id=PRODUCT, label=SIZE).pk
    assert {e.user_id for e in events if e.created_at >= steps["purchase"].created_at} == {order.user_id}
    admin.context.close()
    shopper.context.close()
