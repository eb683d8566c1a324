"""The catalogue's REST API under /api/products/, against the fixture catalogue (see conftest)."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F
from django.urls import reverse
from rest_framework.test import APIClient

from shop.models import Product
from shop.services import refresh_in_stock
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


def newest_first(products=None) -> list[int]:
    """Ids in the listing's default order: latest added to the catalogue first, undated last."""
    products = Product.objects.all() if products is None else products
    return list(products.order_by(F("added_at").desc(nulls_last=True), "-id").values_list("pk", flat=True))


def words(query: str) -> SearchQuery:
    return SearchQuery(query, search_type="websearch", config="english")


# Listing


def test_list_pages_through_newest_products_first(api):
    response = api.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == Product.objects.count()
    newest = newest_first()[: settings.SHOP_PAGE_SIZE]
    assert ids(response) == newest
    assert ids(response)[0] == 32597  # added 2016-09-27: the fixture's latest, not its highest id
    assert body["previous"] is None
    assert body["next"] == absolute(f"{LIST_URL}?page=2")
    second = api.get(body["next"]).json()
    assert ids(api.get(LIST_URL, {"page": 2})) == [item["id"] for item in second["results"]]
    assert not set(ids(response)) & {item["id"] for item in second["results"]}


def test_list_cards_have_absolute_links_and_card_fields(api):
    product = with_image()
    Product.objects.filter(pk=product.pk).update(price=Decimal("19.90"), list_price=Decimal("24.90"))
    product.skus.update(stock=0)
    refresh_in_stock([product.pk])

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
        "list_price": "24.90",
        "in_stock": False,
    }


def test_page_size_is_chosen_by_the_client_up_to_a_limit(api):
    Product.objects.bulk_create(Product(name=f"Plain tote {i}", gender="Unisex") for i in range(60))
    assert Product.objects.count() > 100
    first = ids(api.get(LIST_URL, {"page_size": 5}))
    second = ids(api.get(LIST_URL, {"page_size": 5, "page": 2}))

    assert first + second == newest_first()[:10]
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
    [({"sort": "cheapest"}, "sort"), ({"sort": "relevance"}, "sort"), ({"sort": "relevance", "q": "   "}, "sort")],
)
def test_invalid_sort_is_refused_with_a_reason(api, params, field):
    response = api.get(LIST_URL, params)

    assert response.status_code == 400
    assert response.json()[field]


def test_price_range_filters_the_listing(api):
    found = all_ids(api, {"price_min": "500", "price_max": "999.50"})

    expected = Product.objects.filter(price__gte=500, price__lte=Decimal("999.50"))
    assert 0 < expected.count() < Product.objects.count()
    assert sorted(found) == sorted(expected.values_list("pk", flat=True))
    assert 15970 not in found  # ₹1,195


def test_price_bounds_are_inclusive_and_combine_with_facets_and_search(api):
    assert ids(api.get(LIST_URL, {"price_min": "1195", "price_max": "1195.00", "q": "shirt"})) == [15970]
    found = all_ids(api, {"price_max": "999", "gender": "Men"})
    assert sorted(found) == sorted(Product.objects.filter(price__lte=999, gender="Men").values_list("pk", flat=True))
    assert api.get(LIST_URL, {"price_min": "0"}).json()["count"] == Product.objects.exclude(price=None).count()


def test_brand_is_a_filter_like_the_other_facets(api):
    found = all_ids(api, {"brand": ["Puma", "Nike"], "gender": "Men"})

    assert sorted(found) == sorted(
        Product.objects.filter(brand__name__in=["Puma", "Nike"], gender="Men").values_list("pk", flat=True)
    )
    assert len(found) == 7  # Puma 4, Nike 3


@pytest.mark.parametrize(
    "params, field",
    [
        ({"price_min": "cheap"}, "price_min"),
        ({"price_max": "-1"}, "price_max"),
        ({"price_min": "NaN"}, "price_min"),
        ({"price_max": "1.005"}, "price_max"),
        ({"price_min": "99999999999"}, "price_min"),
        ({"price_min": "1000", "price_max": "999"}, "price_max"),
    ],
)
def test_invalid_price_range_is_refused_with_a_reason(api, params, field):
    response = api.get(LIST_URL, params)

    assert response.status_code == 400
    assert response.json()[field]


def test_sort_by_price_both_ways_with_products_without_a_price_last(api):
    Product.objects.filter(pk__in=[15970, 59263]).update(price=None, list_price=None)

    cheapest = all_ids(api, {"sort": "price"})
    dearest = all_ids(api, {"sort": "price_desc"})

    assert cheapest == list(
        Product.objects.order_by(F("price").asc(nulls_last=True), "-id").values_list("pk", flat=True)
    )
    assert dearest == list(
        Product.objects.order_by(F("price").desc(nulls_last=True), "-id").values_list("pk", flat=True)
    )
    assert cheapest[-2:] == dearest[-2:] == [59263, 15970]
    assert (cheapest[0], dearest[0]) == (34009, 30039)  # ₹124 and ₹8,995


# Detail


def test_detail_has_every_attribute(api):
    product = with_image(season__isnull=False, usage__isnull=False, list_price__isnull=False, pk=49653)
    product.colours.add(15970, 39386)
    first, *_, last = product.skus.all()  # S, M, L, XL
    product.skus.filter(pk=first.pk).update(stock=0)
    product.skus.filter(pk=last.pk).update(stock=7)
    refresh_in_stock([product.pk])
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
    assert body["brand"] == product.brand.name
    assert (body["price"], body["list_price"]) == (f"{product.price:.2f}", f"{product.list_price:.2f}")
    assert body["discount_percent"] == product.discount_percent > 0
    assert (body["cash_on_delivery"], body["in_stock"], body["age_group"]) == (True, True, product.age_group)
    assert body["description"] == product.description
    assert body["attributes"] == product.attributes
    assert datetime.fromisoformat(body["added_at"].replace("Z", "+00:00")) == product.added_at
    assert body["colours"] == [15970, 39386]
    expected_sizes = [
        {"id": sku.pk, "kind": sku.kind, "label": sku.label, "stock": sku.stock, "available": sku.stock != 0}
        for sku in product.skus.all()
    ]
    assert body["sizes"] == expected_sizes
    assert [(size["label"], size["stock"], size["available"]) for size in body["sizes"]] == [
        ("S", 0, False),
        ("M", None, True),
        ("L", None, True),
        ("XL", 7, True),
    ]


def test_detail_of_a_discounted_product(api):
    body = api.get(detail_url(Product.objects.get(pk=16508))).json()

    assert (body["brand"], body["price"], body["list_price"], body["discount_percent"]) == (
        "LOCOMOTIVE",
        "467.00",
        "1169.00",
        60,
    )
    assert body["sizes"][0] == {"id": 83480, "kind": "Size", "label": "28", "stock": None, "available": True}
    assert [size["label"] for size in body["sizes"]] == ["28", "30", "32", "34", "36"]
    assert body["colours"] == []
    assert "style=" not in body["description"] and body["description"].startswith("<p>")


def test_detail_of_a_product_sold_out_in_every_size(api):
    product = Product.objects.get(pk=15970)
    product.skus.update(stock=0)
    refresh_in_stock([product.pk])

    body = api.get(detail_url(product)).json()

    assert body["in_stock"] is False
    assert {(size["stock"], size["available"]) for size in body["sizes"]} == {(0, False)}


def test_detail_of_a_product_without_image_or_details(api):
    product = Product.objects.create(name="Plain tote", gender="Unisex")

    body = api.get(detail_url(product)).json()

    assert body["name"] == "Plain tote"
    assert body["image"] is None
    assert (body["brand"], body["price"], body["list_price"], body["discount_percent"]) == (None, None, None, 0)
    assert (body["in_stock"], body["sizes"], body["colours"]) == (True, [], [])
    assert (body["description"], body["attributes"], body["added_at"]) == ("", {}, None)


def test_unknown_product_is_not_found(api):
    missing = Product.objects.order_by("-pk").first().pk + 1

    assert api.get(reverse("api:product-detail", args=[missing])).status_code == 404
    assert api.get(reverse("api:product-similar", args=[missing])).status_code == 404
