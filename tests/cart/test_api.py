"""The bag and wishlist API: logged-in shoppers only, CSRF enforced for session authentication, and bad input
answered with a 4xx and a message, changing nothing."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cart.models import CartLine
from cart.signals import cart_line_added
from tests.commerce import SHOE, TOP, set_product, set_stock, size

pytestmark = pytest.mark.django_db

CART = reverse("api:cart")
LINES = reverse("api:cart-lines")
WISHLIST = reverse("api:wishlist")


@pytest.fixture
def api_shopper(api, shopper) -> APIClient:
    api.force_authenticate(shopper)
    return api


def line_url(sku) -> str:
    return reverse("api:cart-line", args=[sku.pk])


def held(user) -> dict[int, int]:
    return dict(CartLine.objects.filter(cart__user=user).values_list("sku_id", "quantity"))


def test_only_logged_in_shoppers_reach_their_bag(api):
    for method, url in (("get", CART), ("post", LINES), ("get", WISHLIST), ("get", reverse("api:checkout"))):
        response = getattr(api, method)(url, {}, format="json")
        assert response.status_code == 403
        assert "Authentication credentials were not provided." in response.json()["detail"]


def test_a_session_needs_its_csrf_token(shopper):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(shopper)
    sku = size(SHOE)

    response = api.post(LINES, {"sku": sku.pk}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert held(shopper) == {}

    api.get(CART)  # sets the token's cookie
    token = api.cookies["csrftoken"].value
    response = api.post(LINES, {"sku": sku.pk}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    assert held(shopper) == {sku.pk: 1}


def test_adding_changing_and_removing_lines(api_shopper, shopper, django_capture_on_commit_callbacks):
    sku = set_stock(size(SHOE, 2), 5)
    sent = []

    def receive(sender, **kwargs):
        sent.append(kwargs)

    cart_line_added.connect(receive)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = api_shopper.post(LINES, {"sku": sku.pk, "quantity": 2, "list_id": "AB12"}, format="json")
    finally:
        cart_line_added.disconnect(receive)

    assert response.status_code == 201
    body = response.json()
    assert body["count"] == 2
    assert body["subtotal"] == "7990.00"
    line = body["lines"][0]
    assert {key: line[key] for key in ("sku", "kind", "size", "quantity", "max_quantity", "unit_price", "problem")} == {
        "sku": sku.pk,
        "kind": "Size",
        "size": "US9",
        "quantity": 2,
        "max_quantity": 5,
        "unit_price": "3995.00",
        "problem": None,
    }
    assert line["product"]["id"] == SHOE and line["product"]["url"].endswith(f"/api/products/{SHOE}/")
    assert [(kwargs["sku"].pk, kwargs["quantity"], kwargs["list_id"]) for kwargs in sent] == [(sku.pk, 2, "ab12")]
    assert sent[0]["request"].path == LINES

    response = api_shopper.patch(line_url(sku), {"quantity": 4}, format="json")
    assert response.status_code == 200
    assert response.json()["count"] == 4

    response = api_shopper.delete(line_url(sku))
    assert response.status_code == 200
    assert response.json() == {"lines": [], "count": 0, "subtotal": "0.00"}


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"sku": 999_999_999}, "sku", "There is no such size."),
        ({"sku": "US9"}, "sku", "A valid integer is required."),
        ({}, "sku", "This field is required."),
        ({"sku": "SIZE", "quantity": 1}, "sku", "A valid integer is required."),
        ({"sku": "SHOE0", "quantity": 0}, "quantity", "Choose a quantity of 1 or more."),
        ({"sku": "SHOE0", "quantity": -1}, "quantity", "Choose a quantity of 1 or more."),
        ({"sku": "SHOE0", "quantity": 6}, "quantity", "Only 5 left of Nike Men's LunarFly Blue Shoe in size US7."),
        ({"sku": "SHOE0", "quantity": 2.5}, "quantity", "A valid integer is required."),
        ({"sku": "SHOE1"}, "sku", "Nike Men's LunarFly Blue Shoe in size US8 is sold out."),
        ({"sku": "TOP0"}, "sku", "Puma Women Spagetti Dahlia Purple Top has no price yet, so it cannot be bought."),
        ({"sku": "SHOE0", "list_id": "<script>"}, "list_id", "This value does not match the required pattern."),
    ],
)
def test_bad_additions_are_refused_with_a_message_and_change_nothing(api_shopper, shopper, payload, field, message):
    set_stock(size(SHOE, 0), 5)
    set_stock(size(SHOE, 1), 0)
    set_product(TOP, price=None, list_price=None)
    named = {"SHOE0": size(SHOE, 0).pk, "SHOE1": size(SHOE, 1).pk, "TOP0": size(TOP, 0).pk}
    payload = {key: named.get(value, value) if isinstance(value, str) else value for key, value in payload.items()}

    response = api_shopper.post(LINES, payload, format="json")

    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert held(shopper) == {}


def test_changing_a_line_that_is_not_in_the_bag_is_a_404(api_shopper):
    sku = size(SHOE)
    changes = (api_shopper.patch(line_url(sku), {"quantity": 1}, format="json"), api_shopper.delete(line_url(sku)))
    for response in changes:
        assert response.status_code == 404
        assert response.json() == {"detail": "This size is not in your bag."}
    api_shopper.post(LINES, {"sku": sku.pk}, format="json")
    response = api_shopper.patch(line_url(sku), {"quantity": "two"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"quantity": ["A valid integer is required."]}


def test_the_wishlist(api_shopper):
    response = api_shopper.post(WISHLIST, {"product": SHOE}, format="json")
    assert response.status_code == 201
    assert [product["id"] for product in response.json()] == [SHOE]
    assert api_shopper.post(WISHLIST, {"product": SHOE}, format="json").status_code == 200
    api_shopper.post(WISHLIST, {"product": TOP}, format="json")
    assert [product["id"] for product in api_shopper.get(WISHLIST).json()] == [TOP, SHOE]

    response = api_shopper.post(WISHLIST, {"product": 999_999_999}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no such product."}

    assert api_shopper.delete(reverse("api:wishlist-item", args=[SHOE])).status_code == 204
    response = api_shopper.delete(reverse("api:wishlist-item", args=[SHOE]))
    assert response.status_code == 404
    assert response.json() == {"detail": "This product is not on the wishlist."}
    assert [product["id"] for product in api_shopper.get(WISHLIST).json()] == [TOP]
