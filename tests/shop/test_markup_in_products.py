"""Product names and descriptions with markup (issue 19, part 6): every page shows the name as text and the
description sanitised, wherever the product appears; the API gives them as data.

A merchant's feed or a careless edit can put anything in a name. The descriptions' sanitiser has tests of its own
(test_sanitise.py); here the product is written to the database directly, as neither the import nor the admin would.
"""

import io
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from recommendations.vectors.selectors import similar_products
from shop.models import Product
from tests.api_helpers import with_image

pytestmark = pytest.mark.django_db

NAME = 'Tee "><script>alert(1)</script>'
DESCRIPTION = "<img src=x onerror=alert(1)><b>ok</b>"
LIVE_MARKUP = ("<script>alert(1)", "onerror=", '"><script')
# The name as text: its tag's brackets escaped (quotes are escaped too, as &quot; or &#34;).
NAME_AS_TEXT = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def neighbour_page(embedded_catalogue) -> tuple[Product, Product]:
    """A product, and the first of its similar items, which is given the hostile name and description."""
    product = with_image(article_type="Tshirts")
    hostile = similar_products(product)[0].product
    Product.objects.filter(pk=hostile.pk).update(name=NAME, description=DESCRIPTION)
    hostile.refresh_from_db()
    return product, hostile


def assert_shown_as_text(html: str) -> None:
    assert NAME_AS_TEXT in html, "the product is not on the page"
    live = [markup for markup in LIVE_MARKUP if markup in html]
    assert not live, f"live markup on the page: {live}"


def test_the_product_page_shows_the_name_as_text_and_the_description_sanitised(client, neighbour_page) -> None:
    _, hostile = neighbour_page

    html = client.get(hostile.get_absolute_url()).content.decode()

    assert_shown_as_text(html)
    assert "<b>ok</b>" in html


def test_listing_cards_show_the_name_as_text(client, neighbour_page) -> None:
    _, hostile = neighbour_page
    filters = {"gender": hostile.gender, "article_type": hostile.article_type, "base_colour": hostile.base_colour}

    html = client.get(reverse("shop:product-list"), filters).content.decode()

    assert_shown_as_text(html)


def test_search_results_show_the_name_as_text(client, neighbour_page) -> None:
    _, hostile = neighbour_page

    for query in (str(hostile.pk), "alert script"):
        html = client.get(reverse("shop:search"), {"q": query}).content.decode()

        assert_shown_as_text(html)


def test_similar_items_cards_show_the_name_as_text(client, neighbour_page) -> None:
    product, _ = neighbour_page

    html = client.get(product.get_absolute_url(), {"shelves": "1"}).content.decode()

    assert_shown_as_text(html)


def test_search_by_photo_cards_show_the_name_as_text(client, neighbour_page) -> None:
    _, hostile = neighbour_page
    photo = io.BytesIO(Path(hostile.image.path).read_bytes())
    photo.name = "photo.jpg"

    response = client.post(reverse("recommendations:photo-search"), {"image": photo})

    assert response.status_code == 200
    assert_shown_as_text(response.content.decode())


def test_the_api_gives_the_name_as_data_and_the_description_sanitised(neighbour_page) -> None:
    product, hostile = neighbour_page
    client = Client()

    detail = client.get(reverse("api:product-detail", args=[hostile.pk]), headers={"Accept": "application/json"})
    similar = client.get(reverse("api:product-similar", args=[product.pk]), headers={"Accept": "application/json"})
    browsable = client.get(reverse("api:product-detail", args=[hostile.pk]), headers={"Accept": "text/html"})

    assert detail.json()["name"] == NAME
    assert detail.json()["description"] == "<b>ok</b>"
    assert NAME in [item["name"] for item in similar.json()["results"]]
    # The browsable API is a page: there the data is text.
    assert browsable["Content-Type"].startswith("text/html")
    assert_shown_as_text(browsable.content.decode())
