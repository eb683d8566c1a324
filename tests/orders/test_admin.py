"""Orders in the admin: read-only records whose status follows the workflow; cancelling returns the stock."""

import re

import pytest
from django.urls import reverse

from orders.models import Order, Payment
from orders.services import OrderStatusError, change_status, place_order
from shop.models import Sku
from tests.commerce import ADDRESS, SHOE, bag_of, set_stock, size

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(shopper) -> Order:
    sku = set_stock(size(SHOE, 2), 3)
    cart = bag_of(shopper, (sku, 2))
    return place_order(user=shopper, cart=cart, address=ADDRESS, delivery="standard", payment="cod")


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def stock_of(order: Order) -> int:
    return Sku.objects.get(pk=order.lines.get().sku_id).stock


def test_the_workflow_moves_forward_and_follows_the_payment(order, admin_user):
    assert stock_of(order) == 1

    change_status(order, Order.Status.SHIPPED, by=admin_user)
    change_status(order, Order.Status.DELIVERED, by=admin_user)

    order.refresh_from_db()
    assert order.status == "delivered"
    assert list(order.status_changes.values_list("status", "changed_by")) == [
        ("placed", order.user_id),
        ("shipped", admin_user.pk),
        ("delivered", admin_user.pk),
    ]
    assert order.payments.get().status == Payment.Status.PAID  # cash collected on delivery
    with pytest.raises(OrderStatusError, match="is delivered: its status cannot change any more"):
        change_status(order, Order.Status.CANCELLED)
    with pytest.raises(OrderStatusError, match="is delivered"):
        change_status(order, Order.Status.PLACED)
    assert stock_of(order) == 1


def test_cancelling_returns_the_stock_once(order):
    change_status(order, Order.Status.CANCELLED)

    assert stock_of(order) == 3
    assert order.payments.get().status == Payment.Status.CANCELLED
    with pytest.raises(OrderStatusError, match="is cancelled"):
        change_status(order, Order.Status.CANCELLED)
    assert stock_of(order) == 3


def test_the_admin_change_page_offers_only_the_next_statuses_and_ships(order, admin_client, admin_user):
    url = reverse("admin:orders_order_change", args=[order.pk])

    html = admin_client.get(url).content.decode()
    statuses = html[html.index('name="status"') : html.index("</select>", html.index('name="status"'))]
    assert 'value="placed" selected' in statuses
    assert 'value="shipped"' in statuses and 'value="cancelled"' in statuses
    assert 'value="delivered"' not in statuses
    assert order.number in html and "Nike Men&#x27;s LunarFly Blue Shoe" in html

    form = hidden_fields(html)  # the read-only inlines' management forms
    response = admin_client.post(url, form | {"status": "delivered"})  # not next: refused by the form
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()

    response = admin_client.post(url, form | {"status": "shipped"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "shipped"
    assert order.status_changes.last().changed_by == admin_user


def test_the_admin_actions_cancel_with_the_stock_and_warn_about_what_cannot_change(order, admin_client, shopper):
    changelist = reverse("admin:orders_order_changelist")
    delivered = place_order(
        user=shopper, cart=bag_of(shopper, (size(SHOE, 0), 1)), address=ADDRESS, delivery="standard", payment="cod"
    )
    change_status(delivered, Order.Status.SHIPPED)
    change_status(delivered, Order.Status.DELIVERED)

    response = admin_client.post(
        changelist, {"action": "cancel", "_selected_action": [order.pk, delivered.pk]}, follow=True
    )

    html = response.content.decode()
    assert "1 order cancelled." in html
    assert f"Order {delivered.number} is delivered: its status cannot change any more." in html
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert stock_of(order) == 3
    assert Order.objects.get(pk=delivered.pk).status == "delivered"

    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert admin_client.get(changelist, {"q": order.number}).status_code == 200
