"""POST /api/events/: a headless front end's events, checked before anything is logged."""

import uuid

import pytest
from django.urls import reverse

from events.middleware import COOKIE_NAME
from events.models import Event
from shop.models import Product

pytestmark = pytest.mark.django_db

URL = reverse("api:events")
LIST_ID = uuid.uuid4().hex


def product_ids(count: int) -> list[int]:
    return list(Product.objects.order_by("pk").values_list("pk", flat=True)[:count])


def test_a_front_end_logs_an_impression_a_click_and_a_view(api):
    first, second = product_ids(2)
    events = [
        {"kind": "impression", "list_id": LIST_ID, "placement": "app: home", "strategy": "trending",
         "product_ids": [first, second]},
        {"kind": "click", "product": second, "list_id": LIST_ID, "position": 2},
        {"kind": "view", "product": second},
    ]  # fmt: skip

    response = api.post(URL, events, format="json")

    assert response.status_code == 202 and response.json() == {"recorded": 3}
    visitor = uuid.UUID(response.cookies[COOKIE_NAME].value)
    logged = list(Event.objects.filter(visitor_id=visitor).order_by("id"))
    assert [event.kind for event in logged] == ["impression", "click", "view"]
    assert logged[0].product_ids == [first, second] and logged[0].placement == "app: home"
    assert (logged[1].product_id, logged[1].position, logged[1].list_id) == (second, 2, LIST_ID)


def test_one_event_may_be_sent_alone(api):
    response = api.post(URL, {"kind": "search", "query": "red dress"}, format="json")

    assert response.status_code == 202
    visitor = uuid.UUID(response.cookies[COOKIE_NAME].value)
    assert Event.objects.get(visitor_id=visitor).query == "red dress"


@pytest.mark.parametrize(
    ("event", "field", "message"),
    [
        ({"kind": "view", "product": 999_999_999}, "product", "No such product: 999999999."),
        ({"kind": "impression", "list_id": LIST_ID, "product_ids": [999_999_998]}, "product_ids", "No such product"),
        ({"kind": "click", "product": None}, "product", ""),
        ({"kind": "click", "product": "abc", "list_id": LIST_ID}, "product", "A valid integer is required."),
        ({"kind": "purchase", "product": "PRODUCT"}, "kind", "is not a valid choice"),
        ({"kind": "view"}, "product", "A view event needs it."),
        ({"kind": "click", "product": "PRODUCT", "list_id": "xyz"}, "list_id", ""),
        ({"kind": "click", "product": "PRODUCT", "list_id": LIST_ID, "position": 0}, "position", ""),
        ({"kind": "search", "query": "x" * 201}, "query", ""),
    ],
)
def test_bad_events_are_refused_with_a_reason_and_nothing_is_logged(api, event, field, message):
    event = {key: (product_ids(1)[0] if value == "PRODUCT" else value) for key, value in event.items()}
    batch = [{"kind": "search", "query": "fine"}, event]
    before = Event.objects.count()

    response = api.post(URL, batch, format="json")

    assert response.status_code == 400
    errors = response.json()["1"]  # the second event's
    assert field in errors and message in " ".join(errors[field])
    assert Event.objects.count() == before


def test_a_body_that_is_not_events_is_a_bad_request(api):
    for body in ("not json", "[1, 2]", '{"kind": 3}'):
        response = api.post(URL, body, content_type="application/json")
        assert response.status_code == 400, body
