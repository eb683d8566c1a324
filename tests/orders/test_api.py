"""The checkout and orders API, and the commerce routes in the OpenAPI schema."""

from dataclasses import asdict

import pytest
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from accounts.models import Address
from orders.models import Order
from tests.commerce import ADDRESS, SHOE, TOP, make_user, set_product, set_stock, size

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("api:checkout")
ORDERS = reverse("api:order-list")
BAD_POSTCODE = "Enter a postcode (PIN code)."
CHANGED = "Your bag has changed since you saw it: its total is now ₹4,044. Check it and place the order again."


@pytest.fixture
def api_shopper(api, shopper) -> APIClient:
    api.force_authenticate(shopper)
    return api


def fill_bag(api: APIClient, *lines) -> None:
    for sku, quantity in lines:
        response = api.post(reverse("api:cart-lines"), {"sku": sku.pk, "quantity": quantity}, format="json")
        assert response.status_code == 201


def checkout(api: APIClient, **overrides):
    payload = {"address": asdict(ADDRESS), "delivery": "standard", "payment": "cod"} | overrides
    return api.post(CHECKOUT, {key: value for key, value in payload.items() if value is not None}, format="json")


def test_checkout_options_describe_the_bag_delivery_and_payment(api_shopper, shopper):
    fill_bag(api_shopper, (size(SHOE), 1))
    set_product(SHOE, cash_on_delivery=False)
    Address.objects.create(user=shopper, is_default=True, **asdict(ADDRESS))

    body = api_shopper.get(CHECKOUT).json()

    assert body["bag"]["subtotal"] == "3995.00"
    assert [address["full_name"] for address in body["addresses"]] == ["Asha Rao"]
    assert [(m["code"], m["price"]) for m in body["delivery_methods"]] == [("standard", "49.00"), ("express", "149.00")]
    assert body["payment_methods"] == [
        {
            "code": "cod",
            "label": "Cash on delivery",
            "description": "Pay the courier in cash when your order arrives.",
            "available": False,
            "reason": "Cash on delivery is not offered for Nike Men's LunarFly Blue Shoe.",
        }
    ]


def test_placing_an_order_and_reading_it_back(api_shopper, shopper):
    sku = set_stock(size(SHOE, 1), 2)
    fill_bag(api_shopper, (sku, 2), (size(TOP), 1))

    response = checkout(api_shopper, save_address=True, expected_total="8638.00")

    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "placed"
    assert (order["subtotal"], order["delivery_price"], order["total"]) == ("8589.00", "49.00", "8638.00")
    lines = [(line["product"], line["size"], line["quantity"]) for line in order["lines"]]
    assert lines == [(SHOE, "US8", 2), (TOP, "S", 1)]
    assert order["payments"] == [{"method": "cod", "amount": "8638.00", "status": "pending"}]
    assert order["address"]["postcode"] == "560001"
    assert order["web_url"] == f"http://testserver/orders/{order['number']}/"
    assert api_shopper.get(reverse("api:cart")).json()["count"] == 0
    assert Address.objects.filter(user=shopper).count() == 1

    listed = api_shopper.get(ORDERS).json()
    assert [item["number"] for item in listed["results"]] == [order["number"]]
    detail = api_shopper.get(order["url"])
    assert detail.status_code == 200 and detail.json()["number"] == order["number"]


def test_checking_out_to_a_saved_address(api_shopper, shopper):
    saved = Address.objects.create(user=shopper, **asdict(ADDRESS) | {"full_name": "Ravi Rao"})
    someone_elses = Address.objects.create(user=make_user("other@example.com"), **asdict(ADDRESS))
    fill_bag(api_shopper, (size(SHOE), 1))

    response = checkout(api_shopper, address=None, address_id=someone_elses.pk)
    assert response.status_code == 400
    assert response.json() == {"address_id": ["You have no saved address with this id."]}

    response = checkout(api_shopper, address=None, address_id=saved.pk)
    assert response.status_code == 201
    assert response.json()["address"]["full_name"] == "Ravi Rao"


@pytest.mark.parametrize(
    ("fill", "overrides", "status", "body"),
    [
        (False, {}, 400, {"detail": "Your bag is empty."}),
        (True, {"delivery": "drone"}, 400, {"delivery": ["Choose a delivery method: standard, express."]}),
        (True, {"payment": "card"}, 400, {"payment": ["Choose a payment method: cod."]}),
        (True, {"address": None}, 400, {"address": ["Give either address_id (a saved address) or address."]}),
        (True, {"address_id": 1}, 400, {"address": ["Give either address_id (a saved address) or address."]}),
        (True, {"address": asdict(ADDRESS) | {"postcode": "<>"}}, 400, {"address": {"postcode": [BAD_POSTCODE]}}),
        (True, {"expected_total": "1.00"}, 409, {"detail": CHANGED}),
    ],
)  # fmt: skip
def test_bad_checkouts_are_refused_with_a_message_and_place_nothing(api_shopper, fill, overrides, status, body):
    if fill:
        fill_bag(api_shopper, (size(SHOE), 1))

    response = checkout(api_shopper, **overrides)

    assert response.status_code == status
    assert response.json() == body
    assert not Order.objects.exists()


def test_a_size_sold_out_since_it_was_added_is_a_conflict(api_shopper):
    sku = set_stock(size(SHOE), 1)
    fill_bag(api_shopper, (sku, 1))
    set_stock(sku, 0)

    response = checkout(api_shopper)

    assert response.status_code == 409
    assert "Nike Men's LunarFly Blue Shoe in size US7 is sold out." in response.json()["detail"]
    assert api_shopper.get(reverse("api:cart")).json()["count"] == 1  # the bag is kept


def test_orders_are_the_shoppers_own(api_shopper, api):
    fill_bag(api_shopper, (size(SHOE), 1))
    number = checkout(api_shopper).json()["number"]
    other = APIClient()
    other.force_authenticate(make_user("other@example.com"))

    response = other.get(reverse("api:order-detail", args=[number]))
    assert response.status_code == 404
    assert response.json() == {"detail": "You have no order with this number."}
    assert other.get(ORDERS).json()["results"] == []
    assert APIClient().get(ORDERS).status_code == 403


def test_the_schema_describes_the_commerce_routes(api):
    schema = api.get(reverse("api:schema"), {"format": "json"}).json()

    validate_schema(schema)
    paths = schema["paths"]
    assert {
        "/api/cart/",
        "/api/cart/lines/",
        "/api/cart/lines/{sku_id}/",
        "/api/wishlist/",
        "/api/wishlist/{product_id}/",
        "/api/checkout/",
        "/api/orders/",
        "/api/orders/{number}/",
    } <= set(paths)
    assert {"201", "400", "403"} <= set(paths["/api/cart/lines/"]["post"]["responses"])
    assert {"201", "400", "403", "409"} <= set(paths["/api/checkout/"]["post"]["responses"])
    assert {"200", "400", "403", "404"} <= set(paths["/api/cart/lines/{sku_id}/"]["patch"]["responses"])
