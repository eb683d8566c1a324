"""The catalogue's REST API under /api/products/, against the fixture catalogue (see conftest)."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F
from django.urls import reverse
from rest_framework.test import APIClient

from shop.models import Product
from tests.api_helpers import absolute, detail_url, ids, similar_url, with_image

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:product-list")


def all_ids(api: APIClient, params: dict) -> list[int]:
    """Every result of a listing, through all of its pages."""
    found = []
    url = LIST_URL
    response = api.get(url, {**params, "page_size": 100})
    while True:
        assert response.status_code == 200
        found += ids(response)
        if not response.json()["next"]:
            return found
        response = api.get(response.json()["next"])


def words(query: str) -> SearchQuery:
    return SearchQuery(query, search_type="websearch", config="english")


# Listing


def test_list_pages_through_newest_products_first(api):
    response = api.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == Product.objects.count()
    newest = list(Product.objects.order_by("-id").values_list("pk", flat=True)[: settings.SHOP_PAGE_SIZE])
    assert ids(response) == newest
    assert body["previous"] is None
    assert body["next"] == absolute(f"{LIST_URL}?page=2")
    second = api.get(body["next"]).json()
    assert ids(api.get(LIST_URL, {"page": 2})) == [item["id"] for item in second["results"]]
    assert not set(ids(response)) & {item["id"] for item in second["results"]}


def test_list_cards_have_absolute_links_and_card_fields(api):
    product = with_image()
    Product.objects.filter(pk=product.pk).update(price=Decimal("19.90"), stock=3)

    [card] = api.get(LIST_URL, {"q": str(product.pk)}).json()["results"]

    assert card == {
        "id": product.pk,
        "url": absolute(detail_url(product)),
        "name": product.name,
        "article_type": product.article_type,
        "base_colour": product.base_colour,
        "image": absolute(product.image.url),
        "image_width": product.image_width,
        "image_height": product.image_height,
        "price": "19.90",
        "stock": 3,
    }


def test_page_size_is_chosen_by_the_client_up_to_a_limit(api):
    Product.objects.bulk_create(Product(name=f"Plain tote {i}", gender="Unisex") for i in range(60))
    assert Product.objects.count() > 100
    first = ids(api.get(LIST_URL, {"page_size": 5}))
    second = ids(api.get(LIST_URL, {"page_size": 5, "page": 2}))

    assert first + second == list(Product.objects.order_by("-id").values_list("pk", flat=True)[:10])
    assert len(ids(api.get(LIST_URL, {"page_size": 1000}))) == 100


def test_page_beyond_the_end_is_not_found(api):
    last = -(-Product.objects.count() // 100)

    assert api.get(LIST_URL, {"page_size": 100, "page": last}).status_code == 200
    assert api.get(LIST_URL, {"page_size": 100, "page": last + 1}).status_code == 404


def test_filters_accept_several_values_of_a_facet(api):
    params = {"gender": ["Women", "Girls"], "master_category": "Apparel"}

    found_ids = all_ids(api, params)

    expected = Product.objects.filter(gender__in=["Women", "Girls"], master_category="Apparel")
    assert expected.filter(gender="Girls").exists()
    assert sorted(found_ids) == sorted(expected.values_list("pk", flat=True))
    assert api.get(LIST_URL, params).json()["count"] == expected.count()


def test_unknown_filter_value_matches_nothing(api):
    body = api.get(LIST_URL, {"gender": "Martians"}).json()

    assert body["count"] == 0
    assert body["results"] == []


def test_blank_filter_values_are_ignored(api):
    # What an HTML form sends for an unselected choice.
    response = api.get(LIST_URL, {"gender": ["", "Boys"], "season": ""})

    assert response.status_code == 200
    assert response.json()["count"] == Product.objects.filter(gender="Boys").count() > 0


def test_search_finds_products_by_the_words_of_their_names(api):
    query = "watch"
    expected = Product.objects.filter(search_vector=words(query))
    assert 0 < expected.count() < Product.objects.count()

    found_ids = all_ids(api, {"q": f"  {query} "})

    assert sorted(found_ids) == sorted(expected.values_list("pk", flat=True))


def test_search_sorts_by_relevance_unless_told_otherwise(api):
    query = words("blue shirt")
    matches = Product.objects.filter(search_vector=query)
    by_relevance = matches.annotate(rank=SearchRank(F("search_vector"), query)).order_by("-rank", "-id")
    assert matches.count() >= 3  # 3 in the fixture, in another order by name than by relevance

    found_by_relevance = ids(api.get(LIST_URL, {"q": "blue shirt", "page_size": 100}))
    found_by_name = ids(api.get(LIST_URL, {"q": "blue shirt", "sort": "name", "page_size": 100}))

    assert found_by_relevance == list(by_relevance.values_list("pk", flat=True)[:100])
    assert found_by_name == list(matches.order_by("name", "-id").values_list("pk", flat=True)[:100])
    assert found_by_relevance != found_by_name


def test_search_works_together_with_filters(api):
    found_ids = all_ids(api, {"q": "shirt", "gender": "Women"})

    assert found_ids
    assert set(Product.objects.filter(pk__in=found_ids).values_list("gender", flat=True)) == {"Women"}
    assert len(found_ids) < len(all_ids(api, {"q": "shirt"}))


def test_search_by_id_finds_that_product(api):
    product = Product.objects.order_by("pk")[10]

    assert ids(api.get(LIST_URL, {"q": str(product.pk)})) == [product.pk]


def test_sort_by_name(api):
    names = [item["name"] for item in api.get(LIST_URL, {"sort": "name", "gender": "Men"}).json()["results"]]

    expected = Product.objects.filter(gender="Men").order_by("name", "-id").values_list("name", flat=True)
    assert names == list(expected[: settings.SHOP_PAGE_SIZE])


@pytest.mark.parametrize(
    "params, field",
    [({"sort": "price"}, "sort"), ({"sort": "relevance"}, "sort"), ({"sort": "relevance", "q": "   "}, "sort")],
)
def test_invalid_sort_is_refused_with_a_reason(api, params, field):
    response = api.get(LIST_URL, params)

    assert response.status_code == 400
    assert response.json()[field]


# Detail


def test_detail_has_every_attribute(api):
    product = with_image(season__isnull=False, usage__isnull=False)
    Product.objects.filter(pk=product.pk).update(price=Decimal("49.00"), stock=0)
    product.refresh_from_db()

    response = api.get(detail_url(product))

    assert response.status_code == 200
    body = response.json()
    for name in ("name", "gender", "master_category", "sub_category", "article_type", "base_colour"):
        assert body[name] == getattr(product, name)
    assert (body["season"], body["year"], body["usage"]) == (product.season, product.year, product.usage)
    assert body["id"] == product.pk
    assert body["url"] == absolute(detail_url(product))
    assert body["web_url"] == absolute(product.get_absolute_url())
    assert body["similar"] == absolute(similar_url(product))
    assert body["image"] == absolute(product.image.url)
    assert (body["image_width"], body["image_height"]) == (product.image_width, product.image_height)
    assert (body["price"], body["stock"], body["in_stock"]) == ("49.00", 0, False)


def test_detail_of_a_product_without_image_or_stock(api):
    product = Product.objects.create(name="Plain tote", gender="Unisex")

    body = api.get(detail_url(product)).json()

    assert body["name"] == "Plain tote"
    assert body["image"] is None
    assert (body["price"], body["stock"], body["in_stock"]) == (None, None, None)


def test_unknown_product_is_not_found(api):
    missing = Product.objects.order_by("-pk").first().pk + 1

    assert api.get(reverse("api:product-detail", args=[missing])).status_code == 404
    assert api.get(reverse("api:product-similar", args=[missing])).status_code == 404
