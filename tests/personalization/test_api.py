"""The recommendations API: a route per strategy, the similar-items result shape with the list id, logged as shown."""

import uuid

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from drf_spectacular.validation import validate_schema

from events.middleware import COOKIE_NAME
from events.models import Event
from personalization.strategies.base import Candidate, Context, Strategy
from recommendations.api.serializers import SimilarItemSerializer
from shop.models import Product
from tests.commerce import size
from tests.personalization.helpers import log, products

pytestmark = pytest.mark.django_db

VIEW, PURCHASE = Event.Kind.VIEW, Event.Kind.PURCHASE
TRENDING = reverse("api:recommendations-trending")
ITEM_FIELDS = set(SimilarItemSerializer().fields) | {"reason"}


class WithTheBag(Strategy):
    """Stands in for "complete your order": names what it was given from the visitor's bag."""

    label = "with the bag"

    def candidates(self, context: Context, count: int) -> list[Candidate]:
        others = Product.objects.exclude(pk__in=context.cart_product_ids).order_by("pk")[:count]
        reason = f"Goes with {sorted(context.cart_product_ids)}"
        return [Candidate(pk, 1.0, reason) for pk in others.values_list("pk", flat=True)]


def strategy_url(name: str, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("api:recommendations-strategy", args=[name]) + (f"?{query}" if query else "")


def product_url(route: str, pk: int) -> str:
    return reverse(f"api:product-{route}", args=[pk])


def visitor(client: Client) -> uuid.UUID:
    return uuid.UUID(client.cookies[COOKIE_NAME].value)


def impression(list_id: str) -> Event:
    return Event.objects.get(kind=Event.Kind.IMPRESSION, list_id=list_id)


def result_ids(body: dict) -> list[int]:
    return [item["id"] for item in body["results"]]


def test_the_strategies_are_listed_with_what_each_needs(client):
    body = client.get(reverse("api:recommendations")).json()

    listed = {entry["name"]: entry for entry in body["results"]}
    assert {"recently_viewed", "trending", "also_viewed", "also_bought"} <= set(listed)
    assert listed["trending"]["needs"] == [] and listed["trending"]["label"] == "trending"
    assert listed["also_bought"]["needs"] == ["product"] and listed["recently_viewed"]["needs"] == ["visitor"]
    assert listed["also_bought"]["url"].endswith(strategy_url("also_bought"))


def test_trending_answers_the_similar_items_shape_and_logs_the_list_as_shown(client):
    top, second = products(2, gender="Men")
    log(VIEW, top, times=3)
    log(VIEW, second)

    response = client.get(TRENDING)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"list_id", "strategy", "placement", "results"}
    assert body["strategy"] == "trending" and body["placement"] == "api: trending"
    assert result_ids(body) == [top, second]
    first = body["results"][0]
    assert set(first) == ITEM_FIELDS
    assert first["reason"] == "Trending now" and first["reasons"] == ["Trending now"]
    assert first["score"] == pytest.approx(3, rel=0.01) and first["similarity"] is None
    assert first["url"].endswith(reverse("api:product-detail", args=[top]))
    shown = impression(body["list_id"])
    assert (shown.visitor_id, shown.placement, shown.strategy) == (visitor(client), "api: trending", "trending")
    assert shown.product_ids == [top, second]


def test_trending_keeps_to_the_gender_asked_and_falls_back_to_overall_when_it_has_nothing(client):
    men, women = products(1, gender="Men")[0], products(1, gender="Women")[0]
    log(VIEW, men, times=2)
    log(VIEW, women)

    for_women = client.get(TRENDING, {"gender": "Women", "limit": 5}).json()
    for_girls = client.get(TRENDING, {"gender": "Girls"}).json()

    assert for_women["strategy"] == "trending: Women" and result_ids(for_women) == [women]
    assert for_girls["strategy"] == "trending" and result_ids(for_girls) == [men, women]


def test_limit_caps_the_list(client):
    ranked = products(4)
    for times, pk in enumerate(reversed(ranked), start=1):
        log(VIEW, pk, times=times)

    assert result_ids(client.get(TRENDING, {"limit": 2}).json()) == ranked[:2]


def test_recently_viewed_is_the_visitors_own_trail(client):
    first, second = products(2)
    client.get(reverse("api:recommendations"))  # the visitor cookie
    log(VIEW, first, visitor(client), hours_ago=2)
    log(VIEW, second, visitor(client), hours_ago=1)
    log(VIEW, products(3)[2])  # someone else's

    body = client.get(reverse("api:recommendations-recently-viewed")).json()

    assert result_ids(body) == [second, first]
    assert body["strategy"] == "recently viewed" and body["results"][0]["reason"] == "You viewed this"
    assert body["placement"] == "api: recently_viewed"
    assert impression(body["list_id"]).visitor_id == visitor(client)


def test_a_product_page_lists_also_bought_and_also_viewed(client):
    seed, bought_too, viewed_too = products(3, gender="Men")
    for _ in range(2):
        shopper = uuid.uuid4()
        log(PURCHASE, seed, shopper)
        log(PURCHASE, bought_too, shopper)
        log(VIEW, seed, shopper)
        log(VIEW, viewed_too, shopper)

    bought = client.get(product_url("also-bought", seed)).json()
    viewed = client.get(product_url("also-viewed", seed)).json()

    assert result_ids(bought) == [bought_too] and bought["strategy"] == "also bought"
    assert bought["placement"] == "api: also_bought"
    assert bought["results"][0]["reason"] == "Shoppers who bought this also bought it"
    assert result_ids(viewed) == [viewed_too] and viewed["strategy"] == "also viewed"
    assert impression(viewed["list_id"]).product_ids == [viewed_too]


def test_any_registered_strategy_answers_on_the_generic_route(client):
    seed, viewed_too = products(2, gender="Women")
    shopper = uuid.uuid4()
    log(VIEW, seed, shopper)
    log(VIEW, viewed_too, shopper)

    by_name = client.get(strategy_url("also_viewed", product=seed)).json()
    hyphenated = client.get(strategy_url("also-viewed", product=seed, limit=3)).json()

    assert result_ids(by_name) == result_ids(hyphenated) == [viewed_too]
    assert by_name["placement"] == "api: also_viewed"


def test_for_you_falls_back_to_trending_while_it_has_nothing(client):
    (product,) = products(1)
    log(VIEW, product)

    with override_settings(PERSONALIZATION_STRATEGIES={"for_you": ""}):
        body = client.get(reverse("api:recommendations-for-you")).json()

    assert result_ids(body) == [product]
    assert body["strategy"] == "trending" and body["placement"] == "api: for_you"


def test_complete_your_order_is_given_the_visitors_bag(client):
    (in_bag,) = products(1)
    client.post(reverse("cart:add"), {"product": in_bag, "sku": size(in_bag).pk, "quantity": 1})

    swapped = {"complete_order": "tests.personalization.test_api.WithTheBag"}
    with override_settings(PERSONALIZATION_STRATEGIES=swapped):
        body = client.get(reverse("api:cart-complete"), {"limit": 3}).json()

    assert len(body["results"]) == 3 and in_bag not in result_ids(body)
    assert body["results"][0]["reason"] == f"Goes with [{in_bag}]"
    assert body["strategy"] == "with the bag" and body["placement"] == "api: complete_order"


def test_an_empty_list_has_an_id_but_is_not_logged(client):
    body = client.get(TRENDING).json()

    assert body["results"] == [] and len(body["list_id"]) == 32
    assert not Event.objects.filter(kind=Event.Kind.IMPRESSION).exists()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": "six"}, "limit", "A valid integer is required."),
        ({"limit": 0}, "limit", "greater than or equal to 1"),
        ({"limit": 51}, "limit", "less than or equal to 50"),
        ({"product": "abc"}, "product", "A valid integer is required."),
        ({}, "product", "The also_bought strategy recommends from a product: send ?product=<id>."),
    ],
)
def test_invalid_parameters_answer_400_with_the_reason(client, params, field, message):
    response = client.get(strategy_url("also_bought", **params))

    assert response.status_code == 400
    assert message in response.json()[field][0]


def test_a_bad_limit_on_a_friendly_route_answers_400(client):
    response = client.get(TRENDING, {"limit": 100})

    assert response.status_code == 400 and "limit" in response.json()


@pytest.mark.parametrize(
    "url",
    [
        strategy_url("also_bought", product=999_999_999),
        product_url("also-bought", 999_999_999),
        product_url("bought-together", 999_999_999),
    ],
)
def test_an_unknown_product_answers_404(client, url):
    response = client.get(url)

    assert response.status_code == 404 and response.json() == {"detail": "No such product."}


def test_a_name_not_registered_answers_404_saying_where_the_names_are(client):
    response = client.get(strategy_url("made_up_strategy"))

    assert response.status_code == 404
    assert "made_up_strategy" in response.json()["detail"] and "/api/recommendations/" in response.json()["detail"]


def test_a_strategy_turned_off_answers_404_on_its_route(client):
    (product,) = products(1)

    with override_settings(PERSONALIZATION_STRATEGIES={"also_bought": ""}):
        response = client.get(product_url("also-bought", product))

    assert response.status_code == 404 and "also_bought" in response.json()["detail"]


def test_the_schema_describes_the_recommendation_routes(client):
    schema = client.get(reverse("api:schema"), {"format": "json"}).json()

    validate_schema(schema)
    paths = schema["paths"]
    routes = {
        "/api/recommendations/",
        "/api/recommendations/{name}/",
        "/api/recommendations/for-you/",
        "/api/recommendations/trending/",
        "/api/recommendations/recently-viewed/",
        "/api/products/{id}/also-bought/",
        "/api/products/{id}/also-viewed/",
        "/api/products/{id}/bought-together/",
        "/api/cart/complete/",
    }
    assert routes <= set(paths)
    generic = paths["/api/recommendations/{name}/"]["get"]
    params = {param["name"]: param for param in generic["parameters"]}
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 50}
    assert {"product", "gender", "category", "name"} <= set(params)
    assert {"200", "400", "404"} <= set(generic["responses"])
    also_bought = paths["/api/products/{id}/also-bought/"]["get"]
    assert also_bought["summary"] == "Shoppers who bought this also bought"
    assert {"200", "400", "404"} <= set(also_bought["responses"])
    listed = also_bought["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][listed]["properties"]) == {"list_id", "strategy", "placement", "results"}
    item = schema["components"]["schemas"]["RecommendedItem"]["properties"]
    assert set(item) == ITEM_FIELDS
