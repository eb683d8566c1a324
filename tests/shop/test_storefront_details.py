"""The storefront's prices, brands, sizes, attributes and other colours, on the fixture catalogue's product files."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from shop.models import Brand, Product, Sku
from shop.services import refresh_in_stock
from shop.templatetags.shop_tags import rupees
from tests.shop.html_forms import radio_inputs

pytestmark = pytest.mark.django_db

LIST_URL = reverse("shop:product-list")


def page_html(client, product: Product) -> str:
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def shown_ids(response) -> list[int]:
    return [product.pk for product in response.context["page"].object_list]


def facet(response, name: str) -> dict[str, int]:
    [found] = [facet for facet in response.context["facets"] if facet.name == name]
    return {value.value: value.count for value in found.values}


def sizes_on_page(html: str) -> dict[int, bool]:
    """Each size offered by the size picker, and whether it can be chosen."""
    return {int(radio["value"]): "disabled" not in radio for radio in radio_inputs(html, "sku")}


def listed_count(response) -> int:
    return response.context["page"].paginator.count


# Prices


@pytest.mark.parametrize(
    "amount, text",
    [
        (0, "₹0"),
        (5, "₹5"),
        (999, "₹999"),
        (1195, "₹1,195"),
        (Decimal("1195.00"), "₹1,195"),
        (Decimal("49.90"), "₹49.90"),
        (99999, "₹99,999"),
        (100000, "₹1,00,000"),
        (119500, "₹1,19,500"),
        (Decimal("1234567.50"), "₹12,34,567.50"),
        (123456789, "₹12,34,56,789"),
        (None, ""),
    ],
)
def test_rupees_are_grouped_the_indian_way(amount, text) -> None:
    assert rupees(amount) == text


def test_product_page_shows_a_price_in_rupees(client) -> None:
    html = page_html(client, Product.objects.get(pk=15970))  # 1195, no discount
    # The product's own part of the page (similar items and other colours below may well be discounted).
    product = html.split('class="product__info"')[1].split("</article>")[0]

    assert '<p class="price product__price"><span class="price__now">₹1,195</span></p>' in product
    assert "price__was" not in product
    assert "% off" not in product


def test_product_page_shows_a_discount_with_the_list_price_struck_through(client) -> None:
    html = page_html(client, Product.objects.get(pk=16508))  # 1169 -> 467

    assert (
        '<span class="price__now">₹467</span> <s class="price__was">₹1,169</s> <span class="price__off">60% off</span>'
    ) in html


def test_large_prices_are_grouped_in_lakhs(client) -> None:
    product = Product.objects.get(pk=15970)
    Product.objects.filter(pk=product.pk).update(price=Decimal("1234567.50"), list_price=Decimal("2500000"))

    html = page_html(client, product)

    assert '<span class="price__now">₹12,34,567.50</span>' in html
    assert '<s class="price__was">₹25,00,000</s>' in html
    assert '<span class="price__off">50% off</span>' in html  # 50.6%, never rounded up


def test_product_cards_show_price_and_discount(client) -> None:
    response = client.get(LIST_URL, {"brand": "LOCOMOTIVE"})

    assert shown_ids(response) == [16508]
    card = response.content.decode().split('<li class="card">')[1].split("</li>")[0]
    assert '<span class="price__now">₹467</span> <s class="price__was">₹1,169</s>' in card
    assert "60% off" in card


# Brand, attributes, sizes, other colours


def test_product_page_links_its_brand_to_the_brands_products(client) -> None:
    product = Product.objects.get(pk=12369)  # Reid & Taylor

    html = page_html(client, product)
    listing = client.get(LIST_URL, {"brand": "Reid & Taylor"})

    assert f'<a href="{LIST_URL}?brand=Reid+%26+Taylor">Reid &amp; Taylor</a>' in html
    assert shown_ids(listing) == [12369]
    assert "Brand: Reid &amp; Taylor" in listing.content.decode()


def test_product_page_lists_the_files_attributes(client) -> None:
    product = Product.objects.get(pk=15970)

    html = page_html(client, product)

    for name, value in [("Fit", "Slim Fit"), ("Pattern", "Checked"), ("Fabric", "Cotton"), ("Collar", "Spread Collar")]:
        assert f"<dt>{name}</dt><dd>{value}</dd>" in html
    assert "<dt>Lining</dt>" not in page_html(client, Product.objects.get(pk=49653))  # "NA" in its file


def test_size_picker_offers_every_size_and_disables_a_sold_out_one(client) -> None:
    product = Product.objects.get(pk=15970)
    Sku.objects.filter(pk=87282).update(stock=0)  # size 40
    Sku.objects.filter(pk=87281).update(stock=2)  # size 42
    refresh_in_stock([product.pk])

    html = page_html(client, product)

    assert sizes_on_page(html) == {87168: True, 87282: False, 87281: True, 87167: True}
    assert [label for label in ("39", "40", "42", "44") if f"<span>{label}</span>" in html] == ["39", "40", "42", "44"]
    assert '<span>40</span><span class="visually-hidden"> (sold out)</span>' in html
    assert "Sold out" not in html.replace("(sold out)", "")
    assert Product.objects.get(pk=product.pk).in_stock


def test_a_product_with_every_size_sold_out_says_so(client) -> None:
    product = Product.objects.get(pk=15970)
    product.skus.update(stock=0)
    refresh_in_stock([product.pk])

    html = page_html(client, product)

    assert not Product.objects.get(pk=product.pk).in_stock
    assert sizes_on_page(html) == {87168: False, 87282: False, 87281: False, 87167: False}
    assert '<p class="stock stock--out">Sold out</p>' in html
    listing = client.get(LIST_URL, {"brand": "Turtle"}).content.decode()
    card = listing.split(f'href="/products/{product.pk}/')[1].split("</li>")[0]
    assert "Out of stock" in card


def test_product_page_shows_other_colours_as_links(client) -> None:
    product = Product.objects.get(pk=3953)
    product.colours.add(3954, 2288)

    html = page_html(client, product)

    strip = html.split('<section class="colours"')[1].split("</section>")[0]
    assert "Other colours" in strip
    for other in Product.objects.filter(pk__in=[3954, 2288]):
        assert f'href="{other.get_absolute_url()}"' in strip
        assert f"<span>{escape(other.base_colour)}</span>" in strip
        assert f'<img src="{other.image.url}"' in strip
    # One way only, as the product files link them.
    assert 'class="colours"' not in page_html(client, Product.objects.get(pk=2288))


def test_other_colours_cost_no_query_per_colour(client) -> None:
    product = Product.objects.get(pk=3953)
    product.colours.add(3954)
    client.get(product.get_absolute_url())  # the cached navigation, the visitor's session

    with CaptureQueriesContext(connection) as one:
        client.get(product.get_absolute_url())
    product.colours.add(*Product.objects.exclude(pk=product.pk).values_list("pk", flat=True)[:8])
    with CaptureQueriesContext(connection) as many:
        html = client.get(product.get_absolute_url()).content.decode()

    assert html.count('class="colours__item"') >= 9
    assert len(many) == len(one)


# Listing: brand facet


def test_listing_counts_products_per_brand(client) -> None:
    response = client.get(LIST_URL)

    expected = dict(Product.objects.values_list("brand__name").annotate(n=Count("*")).order_by())
    counts = facet(response, "brand")
    assert counts == {name: n for name, n in expected.items() if name is not None}
    assert (counts["Gini and Jony"], counts["Puma"], counts["Nike"]) == (6, 5, 5)
    assert ">Brand<" in response.content.decode()


def test_brand_filter_shows_that_brands_products_and_narrows_the_other_facets(client) -> None:
    response = client.get(LIST_URL, {"brand": "Puma"})

    assert sorted(shown_ids(response)) == [2483, 4524, 5891, 9204, 53759]
    assert facet(response, "gender") == {"Men": 4, "Women": 1}
    # Its own facet is not narrowed, so that another brand can be added.
    assert facet(response, "brand")["Nike"] == 5
    both = client.get(LIST_URL, {"brand": ["Puma", "Nike"]})
    assert listed_count(both) == 10
    assert 'href="?brand=Nike"' in both.content.decode()  # the chip that removes Puma


def test_brands_without_products_are_not_offered(client) -> None:
    Brand.objects.create(name="Nobody Wears This")

    assert "Nobody Wears This" not in facet(client.get(LIST_URL), "brand")


# Listing: price range


def test_price_range_links_narrow_the_listing(client) -> None:
    html = client.get(LIST_URL, {"gender": "Men"}).content.decode()

    assert 'href="?gender=Men&amp;price_max=499"' in html
    assert 'href="?gender=Men&amp;price_min=500&amp;price_max=999"' in html
    assert 'href="?gender=Men&amp;price_min=5000"' in html

    response = client.get(LIST_URL, {"gender": "Men", "price_min": "500", "price_max": "999"})

    expected = Product.objects.filter(gender="Men", price__gte=500, price__lte=999)
    assert 0 < expected.count() < Product.objects.filter(gender="Men").count()
    assert sorted(shown_ids(response)) == sorted(expected.values_list("pk", flat=True))
    html = response.content.decode()
    assert 'href="?gender=Men&amp;price_min=500&amp;price_max=999" rel="nofollow" aria-current="true">' in html
    ranges = html.split('<section class="facet facet--price">')[1].split("</section>")[0]
    assert ranges.count('aria-current="true"') == 1


def test_price_bounds_are_inclusive_and_work_alone(client) -> None:
    assert 15970 in shown_ids(client.get(LIST_URL, {"price_min": "1195", "price_max": "1195"}))
    cheap = client.get(LIST_URL, {"price_max": "249"})
    dear = client.get(LIST_URL, {"price_min": "5000"})

    assert sorted(shown_ids(cheap)) == sorted(Product.objects.filter(price__lte=249).values_list("pk", flat=True))
    assert {p.price <= 249 for p in cheap.context["page"].object_list} == {True}
    assert listed_count(dear) == Product.objects.filter(price__gte=5000).count() > 0


def test_price_range_form_keeps_the_other_filters(client) -> None:
    html = client.get(
        LIST_URL, {"gender": "Men", "base_colour": ["Blue", "Black"], "price_min": "500", "page": "2"}
    ).content.decode()

    form = html.split('<form class="price-range" method="get">')[1].split("</form>")[0]
    assert '<input type="hidden" name="gender" value="Men">' in form
    assert '<input type="hidden" name="base_colour" value="Blue">' in form
    assert '<input type="hidden" name="base_colour" value="Black">' in form
    assert 'name="page"' not in form
    assert 'name="price_min" min="0" step="1" inputmode="numeric" value="500"' in form
    assert 'name="price_max" min="0" step="1" inputmode="numeric" value=""' in form


@pytest.mark.parametrize(
    "params",
    [
        {"price_min": "abc"},
        {"price_min": "-5"},
        {"price_max": "NaN"},
        {"price_max": "Infinity"},
        {"price_min": "1e999"},
        {"price_min": "", "price_max": ""},
        {"price_min": "\x00"},
        {"price_max": "9" * 400},
    ],
)
def test_invalid_price_bounds_are_ignored(client, params) -> None:
    response = client.get(LIST_URL, params)

    assert response.status_code == 200
    assert listed_count(response) == Product.objects.count()
    filters = response.context["filters"]
    assert (filters.price_min, filters.price_max) == (None, None)
    assert "Remove filter </span>Price:" not in response.content.decode()


def test_price_chip_removes_the_range_and_keeps_the_rest(client) -> None:
    html = client.get(LIST_URL, {"gender": "Men", "price_min": "500", "price_max": "999", "page": "2"}).content.decode()

    assert (
        '<a class="chip" href="?gender=Men"><span class="visually-hidden">Remove filter </span>Price: ₹500 to ₹999 '
    ) in html
    only_max = " ".join(client.get(LIST_URL, {"price_max": "1999"}).content.decode().split())
    assert (
        '<a class="chip" href="?"><span class="visually-hidden">Remove filter </span>Price: up to ₹1,999 '
    ) in only_max


def test_facet_counts_respect_the_price_range(client) -> None:
    response = client.get(LIST_URL, {"price_min": "1000"})

    expected = dict(Product.objects.filter(price__gte=1000).values_list("gender").annotate(n=Count("*")).order_by())
    assert facet(response, "gender") == expected


# Sorting


def test_sort_by_price_puts_products_without_a_price_last(client, settings) -> None:
    settings.SHOP_PAGE_SIZE = 100  # the whole catalogue on one page
    Product.objects.filter(pk__in=[15970, 59263]).update(price=None, list_price=None)

    cheapest = shown_ids(client.get(LIST_URL, {"sort": "price"}))
    dearest = shown_ids(client.get(LIST_URL, {"sort": "price_desc"}))

    priced = Product.objects.exclude(price=None)
    assert len(cheapest) == len(dearest) == Product.objects.count()
    assert cheapest[:-2] == list(priced.order_by("price", "-id").values_list("pk", flat=True))
    assert dearest[:-2] == list(priced.order_by("-price", "-id").values_list("pk", flat=True))
    assert cheapest[-2:] == dearest[-2:] == [59263, 15970]  # the newest id first among equals
    prices = [Product.objects.get(pk=pk).price for pk in cheapest[:-2]]
    assert prices == sorted(prices) and prices[0] < prices[-1]


def test_sort_by_price_orders_pages_across_the_catalogue(client, settings) -> None:
    settings.SHOP_PAGE_SIZE = 48

    response = client.get(LIST_URL, {"sort": "price"})
    second = client.get(LIST_URL, {"sort": "price", "page": 2})

    assert shown_ids(response) + shown_ids(second) == list(
        Product.objects.order_by(F("price").asc(nulls_last=True), "-id").values_list("pk", flat=True)
    )
    assert shown_ids(response)[0] == 34009  # Gini and Jony, ₹124 (discounted from ₹249)
    assert shown_ids(client.get(LIST_URL, {"sort": "price_desc"}))[0] == 30039  # SKAGEN, ₹8,995


def test_newest_sorts_by_the_date_added_and_undated_products_last(client) -> None:
    undated = Product.objects.create(name="Handmade scarf", gender="Women")  # the highest id

    response = client.get(LIST_URL, {"gender": "Women", "sort": "newest"})

    ids = shown_ids(response)
    expected = list(
        Product.objects.filter(gender="Women")
        .order_by(F("added_at").desc(nulls_last=True), "-id")
        .values_list("pk", flat=True)
    )
    assert ids == expected[: len(ids)]
    assert ids[0] == 32597  # added 2016-09-27, the fixture's latest
    assert shown_ids(client.get(LIST_URL, {"gender": "Women"})) == ids  # newest is the default
    assert undated.pk == max(expected) and ids[-1] == undated.pk


def test_sort_options_offer_price_both_ways(client) -> None:
    html = client.get(LIST_URL, {"gender": "Men"}).content.decode()

    assert 'href="?gender=Men&amp;sort=price">Price: low to high</a>' in html
    assert 'href="?gender=Men&amp;sort=price_desc">Price: high to low</a>' in html
