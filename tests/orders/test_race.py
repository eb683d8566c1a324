"""The last unit of a size, checked out by several shoppers at the same moment: exactly one order is placed, the
others get a clear message, and the stock ends at zero, never below.

The checkouts run in threads, each with its own database connection, so they see only committed data: the shoppers,
their bags and the stock are committed by the fixture (outside any test transaction) and removed afterwards.
"""

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection

from cart.models import Cart
from orders.models import Order
from orders.services import CheckoutError, place_order
from shop.models import Product, Sku
from tests.commerce import ADDRESS, SHOE, bag_of, make_user, set_stock, size

SHOPPERS = 8


@dataclass
class Race:
    sku: Sku
    shoppers: list
    carts: list[Cart]


@pytest.fixture
def last_unit(django_db_setup, django_db_blocker) -> Iterator[Race]:
    with django_db_blocker.unblock():
        sku = size(SHOE, 4)
        before = sku.stock
        shoppers = [make_user(f"racer{i}@example.com") for i in range(SHOPPERS)]
        try:
            set_stock(sku, 1)
            carts = [bag_of(shopper, (sku, 1)) for shopper in shoppers]
            yield Race(sku, shoppers, carts)
        finally:
            orders = Order.objects.filter(user__in=shoppers)
            if apps.is_installed("events"):  # what the interaction log recorded of these orders
                apps.get_model("events", "Event").objects.filter(order_id__in=orders.values("pk")).delete()
            orders.delete()
            get_user_model().objects.filter(pk__in=[shopper.pk for shopper in shoppers]).delete()  # and their bags
            set_stock(sku, before)


def test_the_size_raced_for_has_no_tracked_stock_of_its_own(db):
    # Also asks for the test database: pytest-django sets it up only for tests that use it through `db`, and the race
    # below reaches it outside any test transaction (django_db_blocker) when this file runs alone.
    assert size(SHOE, 4).stock is None


def test_concurrent_checkouts_of_the_last_unit_place_exactly_one_order(last_unit: Race):
    start = threading.Barrier(SHOPPERS)
    outcomes: list[Order | CheckoutError | BaseException | None] = [None] * SHOPPERS

    def check_out(index: int) -> None:
        try:
            start.wait(timeout=30)
            outcomes[index] = place_order(
                user=last_unit.shoppers[index],
                cart=last_unit.carts[index],
                address=ADDRESS,
                delivery="standard",
                payment="cod",
            )
        except BaseException as error:  # every outcome is asserted below
            outcomes[index] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=check_out, args=(index,)) for index in range(SHOPPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    orders = [outcome for outcome in outcomes if isinstance(outcome, Order)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, CheckoutError)]
    assert len(orders) == 1, outcomes
    assert len(refused) == SHOPPERS - 1, outcomes
    for error in refused:
        assert error.status == 409
        assert "Nike Men's LunarFly Blue Shoe in size US11" in error.message
        assert "sold out" in error.message
        assert "Your bag has been kept" in error.message
    assert Sku.objects.get(pk=last_unit.sku.pk).stock == 0
    assert Order.objects.filter(user__in=last_unit.shoppers).count() == 1
    (winner,) = orders
    assert winner.lines.get().quantity == 1
    winners_cart, *losers_carts = sorted(last_unit.carts, key=lambda cart: cart.user_id != winner.user_id)
    assert not winners_cart.lines.exists()
    assert all(cart.lines.count() == 1 for cart in losers_carts)  # the others keep their bags
    assert Product.objects.get(pk=SHOE).in_stock  # its other sizes are not tracked
