"""Bags and wishlists: every change checks price and stock, changes nothing when it fails, and signals once
committed."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from cart import selectors, services
from cart.models import Cart, CartLine, Wishlist
from cart.services import CartError
from cart.signals import cart_line_added, cart_line_removed, wishlist_changed
from tests.commerce import SHOE, TOP, make_user, set_product, set_stock, size

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    """What the bag's signals sent: (signal name, kwargs) in order."""
    sent = []

    def listener(signal_name):
        def receive(sender, signal, **kwargs):
            sent.append((signal_name, kwargs))

        return receive

    receivers = {name: listener(name) for name in ("added", "removed", "wishlist")}
    cart_line_added.connect(receivers["added"])
    cart_line_removed.connect(receivers["removed"])
    wishlist_changed.connect(receivers["wishlist"])
    yield sent
    cart_line_added.disconnect(receivers["added"])
    cart_line_removed.disconnect(receivers["removed"])
    wishlist_changed.disconnect(receivers["wishlist"])


def lines(cart: Cart) -> dict[int, int]:
    return dict(CartLine.objects.filter(cart=cart).values_list("sku_id", "quantity"))


def test_adding_a_size_twice_adds_up_on_one_line_and_signals_after_commit(received, django_capture_on_commit_callbacks):
    cart = services.get_or_create_cart()
    sku = size(SHOE)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.add_to_cart(cart, sku.pk, 1, list_id="ab12")
    assert received == []  # nothing is said before the change is committed
    for callback in callbacks:
        callback()
    with django_capture_on_commit_callbacks(execute=True):
        services.add_to_cart(cart, sku.pk, 2)

    assert lines(cart) == {sku.pk: 3}
    assert [(name, kwargs["sku"].pk, kwargs["quantity"], kwargs["list_id"]) for name, kwargs in received] == [
        ("added", sku.pk, 1, "ab12"),
        ("added", sku.pk, 2, None),
    ]


@pytest.mark.parametrize(
    ("stock", "in_bag", "quantity", "message"),
    [
        (0, 0, 1, "Nike Men's LunarFly Blue Shoe in size US7 is sold out."),
        (2, 0, 3, "Only 2 left of Nike Men's LunarFly Blue Shoe in size US7."),
        (3, 2, 2, "Only 3 left of Nike Men's LunarFly Blue Shoe in size US7; your bag already holds 2."),
        (None, 0, 0, "Choose a quantity of 1 or more."),
        (None, 0, -2, "Choose a quantity of 1 or more."),
        (None, 0, 11, "At most 10 of one size can be bought at a time."),
        (None, 9, 2, "At most 10 of one size can be bought at a time; your bag already holds 9."),
    ],
)
def test_an_addition_beyond_the_stock_or_the_limits_is_refused_and_changes_nothing(
    stock, in_bag, quantity, message, received, django_capture_on_commit_callbacks
):
    cart = services.get_or_create_cart()
    sku = size(SHOE)
    if in_bag:
        services.add_to_cart(cart, sku.pk, in_bag)
    set_stock(sku, stock)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CartError) as error:
        services.add_to_cart(cart, sku.pk, quantity)

    assert error.value.message == message
    assert error.value.status == 400
    assert lines(cart) == ({sku.pk: in_bag} if in_bag else {})
    assert received == []


def test_unknown_sizes_and_products_without_a_price_cannot_go_into_a_bag():
    cart = services.get_or_create_cart()
    for unknown in (999_999_999, 2**70, "6808", None):
        with pytest.raises(CartError, match=r"There is no such size\.") as error:
            services.add_to_cart(cart, unknown, 1)
        assert error.value.field == "sku"
    set_product(TOP, price=None, list_price=None)
    with pytest.raises(CartError, match="has no price yet, so it cannot be bought") as error:
        services.add_to_cart(cart, size(TOP).pk, 1)
    assert error.value.field == "sku"
    assert lines(cart) == {}


def test_untracked_stock_is_always_available_up_to_the_limit():
    cart = services.get_or_create_cart()
    sku = size(SHOE)
    assert sku.stock is None

    services.add_to_cart(cart, sku.pk, 10)

    assert lines(cart) == {sku.pk: 10}


def test_quantities_change_within_the_stock_and_lowering_is_always_allowed(
    received, django_capture_on_commit_callbacks
):
    cart = services.get_or_create_cart()
    sku = set_stock(size(SHOE), 5)
    services.add_to_cart(cart, sku.pk, 4)
    set_stock(sku, 2)  # sold meanwhile: the line now holds more than is left

    with pytest.raises(CartError, match="Only 2 left"):
        services.set_quantity(cart, sku.pk, 5)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_quantity(cart, sku.pk, 3)  # fewer, still more than is left: allowed, and the bag says so
    assert lines(cart) == {sku.pk: 3}
    assert selectors.bag_summary(cart).problems == ["Only 2 left of Nike Men's LunarFly Blue Shoe in size US7."]
    with django_capture_on_commit_callbacks(execute=True):
        services.set_quantity(cart, sku.pk, 2)
        services.remove_line(cart, sku.pk)

    assert lines(cart) == {}
    assert [(name, kwargs["quantity"]) for name, kwargs in received] == [("removed", 1), ("removed", 1), ("removed", 2)]
    with pytest.raises(CartError, match=r"This size is not in your bag\.") as error:
        services.remove_line(cart, sku.pk)
    assert error.value.status == 404


def test_the_bag_summary_prices_each_line_and_flags_what_cannot_be_bought():
    cart = services.get_or_create_cart()
    shoe, top = size(SHOE), size(TOP, 1)
    services.add_to_cart(cart, shoe.pk, 2)
    services.add_to_cart(cart, top.pk, 1)
    set_stock(top, 0)

    bag = selectors.bag_summary(cart)

    assert [(item.sku.pk, item.quantity, item.line_total) for item in bag.items] == [
        (shoe.pk, 2, 2 * shoe.product.price),
        (top.pk, 1, top.product.price),
    ]
    assert bag.count == 3
    assert bag.subtotal == 2 * shoe.product.price + top.product.price
    assert bag.problems == ["Puma Women Spagetti Dahlia Purple Top in size M is sold out."]


def test_merging_a_visitors_bag_adds_quantities_within_stock_and_drops_what_cannot_be_bought():
    user = make_user()
    mine = services.get_or_create_cart(user)
    visitors = services.get_or_create_cart()
    both, only_visitor, sold_out = size(SHOE, 0), size(SHOE, 1), size(TOP, 0)
    services.add_to_cart(mine, both.pk, 2)
    services.add_to_cart(visitors, both.pk, 3)
    services.add_to_cart(visitors, only_visitor.pk, 1)
    services.add_to_cart(visitors, sold_out.pk, 1)
    set_stock(both, 4)
    set_stock(sold_out, 0)

    notes = services.merge_carts(visitors, mine)

    assert lines(mine) == {both.pk: 4, only_visitor.pk: 1}
    assert not Cart.objects.filter(pk=visitors.pk).exists()
    assert notes == [
        "Nike Men's LunarFly Blue Shoe in size US7: only 4 could stay in your bag.",
        "Puma Women Spagetti Dahlia Purple Top in size S: it could not stay in your bag.",
    ]


def test_wishlist_toggles_and_signals(received, django_capture_on_commit_callbacks):
    wishlist = services.get_or_create_wishlist()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.toggle_wishlist(wishlist, SHOE) is True
        assert services.add_to_wishlist(wishlist, SHOE) is False  # there already: no second signal
        assert services.add_to_wishlist(wishlist, TOP) is True
        assert services.toggle_wishlist(wishlist, SHOE) is False

    assert selectors.wishlist_product_ids(wishlist) == {TOP}
    assert [(kwargs["product"].pk, kwargs["added"]) for _, kwargs in received] == [
        (SHOE, True),
        (TOP, True),
        (SHOE, False),
    ]
    with pytest.raises(CartError, match=r"There is no such product\.") as error:
        services.toggle_wishlist(wishlist, 999_999_999)
    assert error.value.status == 404


def test_merging_wishlists_keeps_one_of_each_product():
    user = make_user()
    mine, visitors = services.get_or_create_wishlist(user), services.get_or_create_wishlist()
    services.add_to_wishlist(mine, SHOE)
    services.add_to_wishlist(visitors, SHOE)
    services.add_to_wishlist(visitors, TOP)

    services.merge_wishlists(visitors, mine)

    assert selectors.wishlist_product_ids(mine) == {SHOE, TOP}
    assert not Wishlist.objects.filter(pk=visitors.pk).exists()


@override_settings(CART_MAX_QUANTITY=3)
def test_the_quantity_limit_is_a_setting():
    cart = services.get_or_create_cart()
    with pytest.raises(CartError, match="At most 3 of one size"):
        services.add_to_cart(cart, size(SHOE).pk, 4)


def test_abandoned_visitor_bags_are_deleted_and_accounts_bags_kept():
    old, recent = services.get_or_create_cart(), services.get_or_create_cart()
    account = services.get_or_create_cart(make_user())
    Cart.objects.filter(pk__in=[old.pk, account.pk]).update(updated_at=timezone.now() - timedelta(days=40))

    carts, _ = services.delete_abandoned(timezone.now() - timedelta(days=30))

    assert carts == 1
    assert set(Cart.objects.values_list("pk", flat=True)) >= {recent.pk, account.pk}
    assert not Cart.objects.filter(pk=old.pk).exists()
