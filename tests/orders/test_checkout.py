"""Checkout: the order placed in one transaction with its stock, copies of what was bought, the payment, the emptied
bag, and the confirmation e-mail and signal once committed; and every reason an order cannot be placed."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Address
from cart import services as cart_services
from cart.models import CartLine
from orders.models import Order, Payment, StatusChange
from orders.services import CheckoutError, place_order
from orders.signals import order_placed
from shop.models import Product, Sku
from tests.commerce import ADDRESS, SHOE, TOP, bag_of, make_user, set_product, set_stock, size

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("orders:checkout")


def new_address() -> dict[str, str]:
    return {f"new-{name}": value for name, value in vars(ADDRESS).items()}


def place(user, cart, **options):
    return place_order(
        user=user,
        cart=cart,
        address=options.pop("address", ADDRESS),
        delivery=options.pop("delivery", "standard"),
        payment=options.pop("payment", "cod"),
        **options,
    )


def test_placing_an_order_reserves_stock_copies_the_bag_and_empties_it(shopper, django_capture_on_commit_callbacks):
    shoe = set_stock(size(SHOE, 2), 2)
    top = size(TOP, 1)  # stock not tracked
    cart = bag_of(shopper, (shoe, 2), (top, 1))
    placed = []

    def receive(sender, **kwargs):
        placed.append(kwargs)

    order_placed.connect(receive)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = place(shopper, cart, delivery="express")
    finally:
        order_placed.disconnect(receive)

    assert re.fullmatch(r"LK-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", order.number)
    assert (order.user, order.email, order.status) == (shopper, "shopper@example.com", "placed")
    assert (order.full_name, order.postcode, order.country) == ("Asha Rao", "560001", "India")
    assert order.subtotal == Decimal("7990") + Decimal("599")
    assert (order.delivery_method, order.delivery_price) == ("express", Decimal("149"))
    assert order.total == order.subtotal + Decimal("149")
    assert [(line.product_name, line.size_label, line.unit_price, line.quantity) for line in order.lines.all()] == [
        ("Nike Men's LunarFly Blue Shoe", "US9", Decimal("3995"), 2),
        ("Puma Women Spagetti Dahlia Purple Top", "M", Decimal("599"), 1),
    ]
    assert list(order.payments.values_list("method", "amount", "status")) == [("cod", order.total, "pending")]
    assert list(order.status_changes.values_list("status", flat=True)) == ["placed"]
    assert Sku.objects.get(pk=shoe.pk).stock == 0
    assert Sku.objects.get(pk=top.pk).stock is None
    assert not CartLine.objects.filter(cart=cart).exists()
    assert [kwargs["order"] for kwargs in placed] == [order]

    (email,) = mail.outbox
    assert email.to == ["shopper@example.com"]
    assert email.subject == f"Lookalike: your order {order.number}"
    assert "Nike Men's LunarFly Blue Shoe, size US9: 2 x ₹3,995 = ₹7,990" in email.body
    assert "Total: ₹8,738" in email.body
    assert "Payment: Cash on delivery" in email.body
    assert order.number in email.alternatives[0][0]


def test_the_order_keeps_what_was_bought_when_the_catalogue_changes(shopper):
    order = place(shopper, bag_of(shopper, (size(SHOE), 1)))

    set_product(SHOE, name="Renamed", price=Decimal("1"))
    Sku.objects.filter(product_id=SHOE).delete()

    line = order.lines.get()
    assert (line.product_name, line.size_label, line.unit_price, line.sku_id) == (
        "Nike Men's LunarFly Blue Shoe",
        "US7",
        Decimal("3995.00"),
        None,
    )


def test_no_email_and_no_signal_before_the_order_is_committed(shopper, django_capture_on_commit_callbacks):
    cart = bag_of(shopper, (size(SHOE), 1))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        place(shopper, cart)
    assert mail.outbox == []
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


def test_the_order_line_keeps_the_listing_the_size_was_added_from(shopper):
    cart = bag_of(shopper)
    cart_services.add_to_cart(cart, size(SHOE).pk, 1, list_id="ab12")
    cart_services.add_to_cart(cart, size(TOP).pk, 1)

    order = place(shopper, cart)

    assert list(order.lines.values_list("list_id", flat=True)) == ["ab12", ""]


@pytest.mark.parametrize(
    ("change", "options", "message", "status"),
    [
        ("empty", {}, "Your bag is empty.", 400),
        ("sold out", {}, "Nike Men's LunarFly Blue Shoe in size US7 is sold out.", 409),
        ("too few", {}, "Only 1 left of Nike Men's LunarFly Blue Shoe in size US7.", 409),
        ("no price", {}, "Nike Men's LunarFly Blue Shoe has no price yet, so it cannot be bought.", 409),
        ("no cod", {}, "Cash on delivery is not offered for Nike Men's LunarFly Blue Shoe.", 400),
        (None, {"delivery": "teleport"}, "Choose a delivery method: standard, express.", 400),
        (None, {"payment": "iou"}, "Choose a payment method: cod.", 400),
        (None, {"expected_subtotal": Decimal("7000")}, "its subtotal is now ₹7,990", 409),
        (None, {"expected_total": Decimal("8039")}, "its total is now ₹8,039", None),
    ],
)
def test_an_order_that_cannot_be_placed_changes_nothing(shopper, change, options, message, status):
    sku = set_stock(size(SHOE), 5)
    cart = bag_of(shopper, (sku, 2))
    if change == "empty":
        CartLine.objects.filter(cart=cart).delete()
    elif change == "sold out":
        set_stock(sku, 0)
    elif change == "too few":
        set_stock(sku, 1)
    elif change == "no price":
        set_product(SHOE, price=None, list_price=None)
    elif change == "no cod":
        set_product(SHOE, cash_on_delivery=False)
    stock_before = Sku.objects.get(pk=sku.pk).stock
    lines_before = list(CartLine.objects.filter(cart=cart).values_list("sku_id", "quantity"))

    if status is None:  # the right total: placed
        place(shopper, cart, **options)
        return
    with pytest.raises(CheckoutError) as error:
        place(shopper, cart, **options)

    assert message in error.value.message
    assert error.value.status == status
    assert not Order.objects.exists()
    assert Sku.objects.get(pk=sku.pk).stock == stock_before
    assert list(CartLine.objects.filter(cart=cart).values_list("sku_id", "quantity")) == lines_before


def test_checkout_needs_a_logged_in_shopper_and_comes_back_after_login(client):
    response = client.get(CHECKOUT)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={CHECKOUT}"


def test_an_empty_bag_sends_the_shopper_back_to_it(shopper_client):
    response = shopper_client.get(CHECKOUT)
    assert response["Location"] == reverse("cart:detail")


def test_checking_out_with_a_new_address_places_the_order_and_shows_its_confirmation(shopper_client, shopper):
    sku = size(SHOE, 3)
    shopper_client.post(reverse("cart:add"), {"product": SHOE, "sku": sku.pk, "quantity": 1})
    page = shopper_client.get(CHECKOUT)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Cash on delivery" in html and "Standard delivery" in html and "₹49" in html
    assert 'name="expected_subtotal" value="3995.00"' in html
    assert "total ₹4,144" in html  # with express delivery

    response = shopper_client.post(
        CHECKOUT,
        {
            "address": "new",
            **new_address(),
            "save_address": "on",
            "delivery": "standard",
            "payment": "cod",
            "expected_subtotal": "3995.00",
        },
    )

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:detail", args=[order.number])
    assert order.total == Decimal("4044")
    confirmation = shopper_client.get(response["Location"]).content.decode()
    assert "Thank you for your order" in confirmation and order.number in confirmation
    assert "Nike Men&#x27;s LunarFly Blue Shoe" in confirmation
    again = shopper_client.get(response["Location"]).content.decode()
    assert "Thank you for your order" not in again and f'Order <span class="order__number">{order.number}' in again
    (address,) = Address.objects.filter(user=shopper)
    assert (address.full_name, address.is_default) == ("Asha Rao", True)
    profile = shopper_client.get(reverse("accounts:profile")).content.decode()
    assert order.number in profile and "Placed" in profile
    assert shopper_client.get(CHECKOUT)["Location"] == reverse("cart:detail")  # the bag is empty now


def test_checking_out_to_a_saved_address(shopper_client, shopper):
    saved = Address.objects.create(user=shopper, is_default=True, **vars(ADDRESS) | {"full_name": "Ravi Rao"})
    shopper_client.post(reverse("cart:add"), {"product": TOP, "sku": size(TOP).pk})

    response = shopper_client.post(CHECKOUT, {"address": saved.pk, "delivery": "express", "payment": "cod"})

    assert response.status_code == 302
    assert Order.objects.get().full_name == "Ravi Rao"
    assert Address.objects.filter(user=shopper).count() == 1


def test_a_bad_checkout_form_is_shown_again_with_its_errors_and_nothing_placed(shopper_client, shopper):
    shopper_client.post(reverse("cart:add"), {"product": SHOE, "sku": size(SHOE).pk})
    other = Address.objects.create(user=make_user("other@example.com"), **vars(ADDRESS))

    response = shopper_client.post(
        CHECKOUT, {"address": "new", "new-full_name": "Asha", "new-postcode": "!!", "delivery": "standard"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose a payment method." in html
    assert "Enter a postcode (PIN code)." in html
    assert 'value="Asha"' in html  # what was typed is kept

    response = shopper_client.post(CHECKOUT, {"address": other.pk, "delivery": "standard", "payment": "cod"})
    assert response.status_code == 400
    assert "Choose one of your addresses." in response.content.decode()

    set_stock(size(SHOE), 0)
    response = shopper_client.post(
        CHECKOUT,
        {"address": "new", **new_address(), "delivery": "standard", "payment": "cod"},
    )
    assert response.status_code == 409
    assert "is sold out." in response.content.decode()
    assert not Order.objects.exists()
    assert Product.objects.get(pk=SHOE).in_stock is True  # other sizes are left


def test_a_shopper_sees_only_their_own_orders(client, shopper):
    order = place(shopper, bag_of(shopper, (size(SHOE), 1)))
    client.force_login(make_user("other@example.com"))

    assert client.get(order.get_absolute_url()).status_code == 404
    assert order.number not in client.get(reverse("accounts:profile")).content.decode()
    assert Payment.objects.count() == 1 and StatusChange.objects.count() == 1
