"""Stock reserved and released by orders (``shop.services``): all or nothing, never below zero, untracked stock
untouched, and only inside a transaction."""

import pytest
from django.db import transaction

from shop.models import Product, Sku
from shop.services import InsufficientStock, Shortage, release_stock, reserve_stock
from tests.commerce import SHOE, TOP, set_stock, size

pytestmark = pytest.mark.django_db


def stock(sku: Sku) -> int | None:
    return Sku.objects.get(pk=sku.pk).stock


def test_reserving_takes_tracked_units_and_leaves_untracked_stock_alone():
    tracked, untracked = set_stock(size(SHOE, 0), 3), size(TOP, 0)

    with transaction.atomic():
        reserve_stock({tracked.pk: 2, untracked.pk: 5})

    assert stock(tracked) == 1
    assert stock(untracked) is None


def test_reserving_the_last_units_of_every_size_sells_the_product_out_and_releasing_brings_it_back():
    skus = [set_stock(sku, 1) for sku in Sku.objects.filter(product_id=SHOE)]

    with transaction.atomic():
        reserve_stock({sku.pk: 1 for sku in skus})
    assert Product.objects.get(pk=SHOE).in_stock is False

    with transaction.atomic():
        release_stock({skus[0].pk: 2})
    assert stock(skus[0]) == 2
    assert Product.objects.get(pk=SHOE).in_stock is True


def test_a_shortage_changes_nothing_and_says_what_is_left():
    plenty, scarce = set_stock(size(SHOE, 0), 5), set_stock(size(SHOE, 1), 1)

    with pytest.raises(InsufficientStock) as error, transaction.atomic():
        reserve_stock({plenty.pk: 2, scarce.pk: 2, 999_999_999: 1})

    assert error.value.shortages == [Shortage(scarce.pk, 2, 1), Shortage(999_999_999, 1, 0)]
    assert (stock(plenty), stock(scarce)) == (5, 1)


def test_stock_changes_only_inside_a_transaction_and_by_whole_units():
    sku = set_stock(size(SHOE), 5)
    # The test itself runs in a transaction: leave it for the check, as a caller without one would be.
    connection = transaction.get_connection()
    atomic = connection.in_atomic_block
    connection.in_atomic_block = False
    try:
        with pytest.raises(RuntimeError, match="inside a transaction"):
            reserve_stock({sku.pk: 1})
    finally:
        connection.in_atomic_block = atomic
    for units in (0, -1, 1.5):
        with pytest.raises(ValueError, match="whole numbers of 1 or more"), transaction.atomic():
            reserve_stock({sku.pk: units})
    assert stock(sku) == 5
