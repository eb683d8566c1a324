"""The customer-facing pages, against the fixture catalogue (see conftest)."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.core.cache import cache
from django.db.models import Count, F
from django.test import override_settings
from django.urls import reverse
from django.utils.html import escape

from events.models import Event, ProductPopularity
from experiments.selectors import running_experiments
from shop.models import Product
from shop.selectors import ProductFilters, facet_counts
from shop.services import refresh_in_stock
from tests.shelves import SHELVES

pytestmark = pytest.mark.django_db

LIST_URL = reverse("shop:product-list")
SEARCH_URL = reverse("shop:search")


@pytest.fixture(autouse=True)
def empty_cache():
    # Navigation and facet counts are cached; each test changes the catalogue in its own way.
    cache.clear()
    yield
    cache.clear()


def shown_products(response) -> list[Product]:
    return list(response.context["page"].object_list)


def words(query: str) -> SearchQuery:
    return SearchQuery(query, search_type="websearch", config="english")


def newest_first(products=None) -> list[int]:
    """Ids as the listing's "newest" sorts them: latest added to the catalogue first, undated last."""
    products = Product.objects.all() if products is None else products
    return list(products.order_by(F("added_at").desc(nulls_last=True), "-id").values_list("pk", flat=True))


def facet(response, name: str) -> dict[str, int]:
    [found] = [facet for facet in response.context["facets"] if facet.name == name]
    return {value.value: value.count for value in found.values}


# Home


def test_home_links_every_gender_and_its_categories(client):
    response = client.get(reverse("shop:home"))

    assert response.status_code == 200
    html = response.content.decode()
    assert settings.SHOP_NAME in html
    genders = Product.objects.exclude(gender=None).values_list("gender", flat=True).distinct()
    for gender in genders:
        assert f'href="{LIST_URL}?gender={gender}"' in html
    apparel_for_men = Product.objects.filter(gender="Men", master_category="Apparel").count()
    assert apparel_for_men > 0
    assert "?gender=Men&amp;master_category=Apparel" in html
    assert f"{apparel_for_men:,}" in html


def test_home_shows_newest_products_in_few_queries(client, django_assert_max_num_queries):
    newest = Product.objects.order_by(F("added_at").desc(nulls_last=True), "-id").first()
    # the catalogue's own queries: no Trending shelf, which has tests of its own
    Event.objects.all().delete()
    ProductPopularity.objects.all().delete()
    running_experiments()  # the A/B tests running are read once per process and EXPERIMENTS_CACHE_SECONDS, not per page

    # The interaction log's writes are not the page's: in production they are buffered and written by a thread of
    # their own (benchmarks/event_logging.py measures what they cost a page).
    with override_settings(EVENTS_ENABLED=False), django_assert_max_num_queries(3):
        response = client.get(reverse("shop:home"))

    assert newest.get_absolute_url() in response.content.decode()
    assert response.context["shelves"][0].products[0] == newest


# Listing and filters


def test_filter_by_gender_shows_only_that_gender(client):
    response = client.get(LIST_URL, {"gender": "Women"})

    assert response.status_code == 200
    products = shown_products(response)
    assert products
    assert {product.pk for product in products} <= set(
        Product.objects.filter(gender="Women").values_list("pk", flat=True)
    )
    assert response.context["page"].paginator.count == Product.objects.filter(gender="Women").count()
    assert "Gender: Women" in response.content.decode()


def test_values_of_one_facet_are_alternatives(client):
    response = client.get(f"{LIST_URL}?base_colour=Red&base_colour=Blue&gender=Men")

    expected = Product.objects.filter(base_colour__in=["Red", "Blue"], gender="Men")
    assert response.context["page"].paginator.count == expected.count()
    assert {product.base_colour for product in shown_products(response)} == {"Red", "Blue"}


def test_facet_counts_respect_the_other_facets_only(client):
    response = client.get(LIST_URL, {"gender": "Women", "base_colour": "Red"})

    # A facet's own selection does not narrow its counts, so that other values can be added.
    red_by_gender = dict(
        Product.objects.filter(base_colour="Red").values_list("gender").annotate(n=Count("*")).order_by()
    )
    assert facet(response, "gender") == red_by_gender
    women_by_colour = dict(
        Product.objects.filter(gender="Women").values_list("base_colour").annotate(n=Count("*")).order_by()
    )
    assert facet(response, "base_colour") == women_by_colour
    red_women_by_type = dict(
        Product.objects.filter(gender="Women", base_colour="Red")
        .values_list("article_type")
        .annotate(n=Count("*"))
        .order_by()
    )
    assert facet(response, "article_type") == red_women_by_type


def test_selected_values_are_listed_first_even_without_matches():
    facets = facet_counts(filters=ProductFilters({"base_colour": ("Ultraviolet", "Red")}))

    [colours] = [facet for facet in facets if facet.name == "base_colour"]
    assert [(value.value, value.selected) for value in colours.values[:2]] == [("Red", True), ("Ultraviolet", True)]
    assert colours.values[1].count == 0
    assert not any(value.selected for value in colours.values[2:])


def test_filter_chips_remove_one_value_and_keep_the_rest(client):
    response = client.get(f"{LIST_URL}?gender=Women&base_colour=Red&base_colour=Blue&page=2")

    html = response.content.decode()
    assert 'href="?gender=Women&amp;base_colour=Blue"' in html  # removes Red, back to page 1
    assert 'href="?base_colour=Red&amp;base_colour=Blue"' in html  # removes Women


def test_sort_by_name(client):
    response = client.get(LIST_URL, {"sort": "name", "gender": "Men"})

    names = [product.name for product in shown_products(response)]
    expected = list(Product.objects.filter(gender="Men").order_by("name", "-id").values_list("name", flat=True)[:48])
    assert names == expected[: len(names)]
    assert names != sorted(names, reverse=True)


def test_pages_continue_and_keep_the_filters(client, settings):
    settings.SHOP_PAGE_SIZE = 10  # the fixture has 27 men's products: three pages
    first = client.get(LIST_URL, {"gender": "Men"})
    second = client.get(LIST_URL, {"gender": "Men", "page": 2})

    first_ids = [product.pk for product in shown_products(first)]
    second_ids = [product.pk for product in shown_products(second)]
    assert len(first_ids) == settings.SHOP_PAGE_SIZE
    assert second_ids and not set(first_ids) & set(second_ids)
    # Newest first, the second page continuing the first (the fixture's dates differ from its ids' order).
    expected = newest_first(Product.objects.filter(gender="Men"))
    assert first_ids + second_ids == expected[: len(first_ids) + len(second_ids)]
    assert expected != sorted(expected, reverse=True)
    assert 'href="?gender=Men&amp;page=2"' in first.content.decode()


def test_page_beyond_the_end_shows_the_last_page(client, settings):
    settings.SHOP_PAGE_SIZE = 10
    last_page = client.get(LIST_URL, {"gender": "Men"}).context["page"].paginator.num_pages

    response = client.get(LIST_URL, {"gender": "Men", "page": 100_000})

    assert response.status_code == 200
    assert response.context["page"].number == last_page > 1
    assert shown_products(response)


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=-3",
        "page=1e9",
        "page=%00",
        "sort=price&gender=Men",
        "sort=relevance",
        "gender=%00",
        "gender=" + "x" * 500,
        "gender=&base_colour=",
        "base_colour=%F0%9F%98%80&season=Mid-winter",
        "usage=Casual&" + "&".join(f"article_type=t{i}" for i in range(200)),
        "unknown=1&gender[]=Men",
    ],
)
@pytest.mark.parametrize("url", [LIST_URL, SEARCH_URL])
def test_garbage_parameters_never_fail(client, url, query):
    response = client.get(f"{url}?{query}")

    assert response.status_code == 200
    assert "page" in response.context


def test_unknown_filter_value_shows_no_products(client):
    response = client.get(LIST_URL, {"gender": "Martians"})

    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert "No products found" in response.content.decode()


@override_settings(EVENTS_ENABLED=False)  # the log's writes are not the page's (see the home page's test)
def test_listing_needs_few_queries_and_caches_counts(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        client.get(LIST_URL, {"gender": "Women", "base_colour": "Blue"})
    # Again: the navigation and facet counts come from the cache; left are the count and the page.
    with django_assert_max_num_queries(2):
        client.get(LIST_URL, {"gender": "Women", "base_colour": "Blue"})


# Search


def test_search_finds_products_by_words_in_their_names(client):
    response = client.get(SEARCH_URL, {"q": "jeans"})

    products = shown_products(response)
    assert products
    assert all("jean" in product.name.lower() or product.article_type == "Jeans" for product in products)
    assert response.context["page"].paginator.count == Product.objects.filter(search_vector=words("jeans")).count()
    assert not response.context["fuzzy"]


def test_search_ranks_better_matches_first(client):
    strong = Product.objects.create(name="Kestrel Kestrel Kestrel Scarf", gender="Unisex")
    weak = Product.objects.create(name="Kestrel Men Cotton Scarf", gender="Men")  # newer, so first by date

    response = client.get(SEARCH_URL, {"q": "kestrel"})

    assert shown_products(response) == [strong, weak]
    assert response.context["sort"] == "relevance"


def test_search_with_a_typo_falls_back_to_similar_names(client):
    response = client.get(SEARCH_URL, {"q": "tshrt"})

    products = shown_products(response)
    assert products
    assert response.context["fuzzy"]
    assert "tshirt" in products[0].name.lower().replace("-", "")
    assert "showing names spelled like it" in response.content.decode()


def test_search_finds_a_product_by_its_id(client):
    product = Product.objects.order_by("pk")[34]

    response = client.get(SEARCH_URL, {"q": f" {product.pk} "})

    assert shown_products(response) == [product]


def test_search_works_together_with_filters(client):
    response = client.get(SEARCH_URL, {"q": "shirt", "gender": "Women", "sort": "newest"})

    products = shown_products(response)
    assert products
    women_ids = set(Product.objects.filter(gender="Women").values_list("pk", flat=True))
    assert all(product.pk in women_ids for product in products)
    expected = Product.objects.filter(gender="Women", search_vector=words("shirt")).count()
    assert response.context["page"].paginator.count == expected
    matches = Product.objects.filter(gender="Women", search_vector=words("shirt"))
    assert [product.pk for product in products] == newest_first(matches)[: len(products)]
    # Filter links stay on the search page and keep the words.
    assert 'href="?q=shirt&amp;gender=Women&amp;sort=newest&amp;gender=Men"' in response.content.decode()


def test_search_without_matches_says_so(client):
    response = client.get(SEARCH_URL, {"q": "qqqqzzzz"})

    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert "No products found" in response.content.decode()


# Product page


def test_product_page_shows_every_attribute_and_breadcrumbs(client):
    product = Product.objects.exclude(usage=None).exclude(season=None).exclude(year=None).first()

    response = client.get(product.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    for value in [
        product.name,
        product.gender,
        product.master_category,
        product.sub_category,
        product.article_type,
        product.base_colour,
        product.season,
        str(product.year),
        product.usage,
        str(product.pk),
    ]:
        assert f">{escape(value)}<" in html
    crumb = f'href="{LIST_URL}?gender={product.gender}&amp;master_category={product.master_category}'.replace(" ", "+")
    assert crumb in html
    assert 'data-shelves="' in html  # the similar items come after the page
    # And the attributes of its product file.
    assert product.attributes
    for name, value in product.attributes.items():
        assert f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" in html


def test_the_product_page_leaves_its_shelves_for_after_the_page(client):
    product = Product.objects.exclude(image="").first()
    url = product.get_absolute_url()

    page = client.get(url, {"same_gender": "1"})
    html = page.content.decode()
    assert 'id="similar-items"' not in html and 'id="also-bought"' not in html
    assert f'data-shelves="{url}?same_gender=1"' in html
    assert f'<a href="{url}?shelves=1#similar-items">' in html
    assert "shop/js/shelves" in html
    assert "X-Shelves" in page["Vary"]

    shelves = client.get(url, {"same_gender": "1"}, headers=SHELVES)
    fragment = shelves.content.decode()
    assert 'id="similar-items"' in fragment and "<html" not in fragment
    assert 'name="same_gender" value="1" checked' in fragment
    assert "X-Shelves" in shelves["Vary"]

    # Without JavaScript, the page's link shows the page with its shelves in it.
    inline = client.get(url, {"shelves": "1"}).content.decode()
    assert "<html" in inline and 'id="similar-items"' in inline and "data-shelves" not in inline
    assert '<input type="hidden" name="shelves" value="1">' in inline


def test_the_shelves_of_no_product_are_not_found(client):
    missing = Product.objects.order_by("-pk").first().pk + 1
    assert client.get(reverse("shop:product-detail", args=[missing]), headers=SHELVES).status_code == 404


def test_product_page_shows_price_and_sold_out_when_set(client):
    product = Product.objects.filter(skus__isnull=False).first()
    product.price = Decimal("49.90")
    product.save()
    product.skus.update(stock=0)
    refresh_in_stock([product.pk])

    html = client.get(product.get_absolute_url()).content.decode()

    assert '<span class="price__now">₹49.90</span>' in html
    assert "Sold out" in html


def test_product_without_details_shows_nothing_made_up(client):
    product = Product.objects.create(name="Plain tote", gender="Unisex")

    html = client.get(product.get_absolute_url()).content.decode()

    assert "product__price" not in html
    assert "₹" not in html.split('class="product__info"')[1].split("</article>")[0]
    assert "product__brand" not in html
    assert 'name="sku"' not in html
    assert "Sold out" not in html
    assert "Not available to buy" in html


def test_unknown_product_is_not_found(client):
    assert client.get(reverse("shop:product-detail", args=[999_999_999])).status_code == 404
    assert client.get("/products/99999999999999999999999/").status_code == 404


def test_product_without_image_shows_a_placeholder(client):
    product = Product.objects.get(pk=newest_first()[0])  # the listing's first card
    Product.objects.filter(pk=product.pk).update(image="")

    detail = client.get(product.get_absolute_url()).content.decode()
    listing = client.get(LIST_URL).content.decode()

    main_image = detail[detail.index('<div class="product__image">') :].split("</div>", 1)[0]
    assert 'class="no-image"' in main_image
    assert "<img" not in main_image
    first_card = listing[listing.index('<li class="card">') :][:1500]
    assert 'class="no-image"' in first_card
