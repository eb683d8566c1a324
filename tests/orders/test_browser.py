"""A purchase in a real browser: Debian's Chromium driven by Playwright against a server process on the test
database (as in tests/project/test_browser.py). A shopper browses to a product, picks a size, adds it to the bag,
signs up on the way to checkout, pays cash on delivery and sees the order; then an admin ships it.

The server sees only committed data: the fixture catalogue, the admin this module commits, and what the browser
does. Everything the test adds is removed afterwards.
"""

from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from shop.models import Product
from tests import browsers
from tests.browsers import running_server
from tests.catalogues import NO_DATASET_DIR
from tests.commerce import PASSWORD, SHOE, browser_accounts

pytestmark = pytest.mark.browser

SHOPPER_EMAIL = "browser-shopper@example.com"
ADMIN = "browser-admin"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def committed(django_db_setup, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock(), browser_accounts(ADMIN, SHOPPER_EMAIL):
        yield


@pytest.fixture(scope="module")
def server(committed, django_db_blocker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with (
        django_db_blocker.unblock(),
        running_server(
            tmp_path_factory.mktemp("server"),
            CATALOG_DATASET_DIR=str(NO_DATASET_DIR),
        ) as url,
    ):
        yield url


def new_page(browser: Browser, server: str) -> Page:
    return browsers.new_page(browser, server, timeout_ms=TIMEOUT_MS, viewport={"width": 1280, "height": 900})


def test_the_shoe_can_be_bought_cash_on_delivery_in_size_us9(db):
    # Also asks for the test database: pytest-django sets it up only for tests that use it through `db`, and the
    # server reaches it outside any test transaction when this file runs alone.
    shoe = Product.objects.get(pk=SHOE)
    assert shoe.price is not None and shoe.cash_on_delivery
    assert shoe.skus.get(label="US9").available


def test_a_shopper_buys_with_cash_on_delivery_and_an_admin_ships_the_order(browser: Browser, server: str):
    shopper = new_page(browser, server)

    # Browse to the shoe and put a size into the bag.
    shopper.goto(reverse("shop:product-list") + "?gender=Men&article_type=Sports+Shoes")
    shopper.locator(f'.card__link[href^="/products/{SHOE}/"]').click()
    expect(shopper.locator("h1.product__name")).to_have_text("Nike Men's LunarFly Blue Shoe")
    shopper.locator(".size", has_text="US9").click()
    shopper.get_by_role("button", name="Add to bag").click()
    added = "Added to your bag: Nike Men's LunarFly Blue Shoe in size US9."
    expect(shopper.locator(".messages")).to_contain_text(added)
    expect(shopper.locator(".mini-bag summary")).to_have_attribute("data-bag-count", "1")

    # Check out from the header's bag: logging in is asked for; sign up instead, and the bag comes along.
    shopper.locator(".mini-bag summary").click()
    shopper.locator(".mini-bag__panel").get_by_role("link", name="Checkout").click()
    expect(shopper).to_have_url(f"{server}{reverse('account_login')}?next=/checkout/")
    shopper.get_by_role("link", name="sign up").click()
    shopper.locator('input[name="email"]').fill(SHOPPER_EMAIL)
    shopper.locator('input[name="password1"]').fill(PASSWORD)
    shopper.locator('input[name="password2"]').fill(PASSWORD)
    shopper.get_by_role("button", name="Sign Up").click()
    expect(shopper).to_have_url(f"{server}{reverse('orders:checkout')}")
    expect(shopper.locator(".checkout__summary")).to_contain_text("Nike Men's LunarFly Blue Shoe")

    # Address, delivery, cash on delivery.
    for name, value in {
        "full_name": "Asha Rao",
        "phone": "+91 98450 12345",
        "line1": "12 MG Road",
        "city": "Bengaluru",
        "state": "Karnataka",
        "postcode": "560001",
    }.items():
        shopper.locator(f'input[name="new-{name}"]').fill(value)
    expect(shopper.locator('input[name="payment"][value="cod"]')).to_be_checked()
    shopper.get_by_role("button", name="Place order").click()

    expect(shopper.locator("h1")).to_have_text("Thank you for your order")
    number = shopper.locator(".order__number").inner_text()
    expect(shopper.locator(".order__status")).to_contain_text("Placed")
    expect(shopper.locator(".mini-bag summary")).to_have_attribute("data-bag-count", "0")

    shopper.goto(reverse("accounts:profile"))
    row = shopper.locator(".order-history tr", has_text=number)
    expect(row).to_contain_text("Placed")
    expect(shopper.locator(".addresses")).to_contain_text("12 MG Road")

    # The admin marks it shipped.
    admin = new_page(browser, server)
    admin.goto(reverse("admin:orders_order_changelist"))
    admin.locator('input[name="username"]').fill(ADMIN)
    admin.locator('input[name="password"]').fill(PASSWORD)
    admin.locator('input[type="submit"]').click()
    admin.get_by_role("link", name=number).click()
    admin.locator('select[name="status"]').select_option("shipped")
    admin.locator('input[name="_save"]').first.click()
    expect(admin.locator(".messagelist")).to_contain_text("was changed successfully")

    shopper.goto(reverse("orders:detail", args=[number]))
    expect(shopper.locator(".order__status")).to_contain_text("Shipped")
    admin.context.close()
    shopper.context.close()
