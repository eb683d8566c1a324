"""What is cached from the catalogue (the navigation, facet counts) follows its changes once they commit: a product or
brand saved or deleted, an import, and a product going out of stock or coming back (``shop.generations``).

These run on the in-process cache; tests/project/test_shared_cache.py runs the same on Redis, across processes."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from shop import generations
from shop.catalog_import import import_catalog
from shop.models import Brand, Product, Sku
from shop.selectors import NAVIGATION_CACHE_KEY, ProductFilters, facet_counts, home_shelves, navigation_tree
from shop.services import release_stock, reserve_stock
from tests.catalogues import FIXTURE_CATALOG_DIR
from tests.shop.html_forms import form_fields

pytestmark = pytest.mark.django_db


def article_types() -> set[str]:
    return {
        article.name for gender in navigation_tree() for category in gender.children for article in category.children
    }


def counts(facet: str, filters: ProductFilters) -> dict[str, int]:
    return {
        value.value: value.count
        for facet_ in facet_counts(filters=filters)
        if facet_.name == facet
        for value in facet_.values
    }


def admin_save(client: Client, product: Product, **changes: str) -> None:
    url = reverse("admin:shop_product_change", args=[product.pk])
    data = form_fields(client.get(url).content.decode(), "product_form")
    response = client.post(url, {**data, **changes})
    assert response.status_code == 302, response.context["adminform"].form.errors


def test_the_navigation_is_cached_and_follows_a_product_saved_in_the_admin(
    admin_client: Client, django_capture_on_commit_callbacks
):
    product = Product.objects.exclude(article_type=None).exclude(gender=None).exclude(master_category=None).first()
    assert "Cache Test Type" not in article_types()
    # A write that sends no signal leaves the cached tree as it was: it is cached.
    Product.objects.filter(pk=product.pk).update(article_type="Cache Test Type")
    assert "Cache Test Type" not in article_types()

    with django_capture_on_commit_callbacks(execute=True):
        admin_save(admin_client, product, article_type="Cache Test Type 2")

    assert "Cache Test Type 2" in article_types()


def test_the_navigation_is_held_in_the_process_until_the_catalogue_changes(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    tree = navigation_tree()
    cache.delete(NAVIGATION_CACHE_KEY, version=generations.current(generations.CATALOGUE))
    with django_assert_num_queries(0):
        assert navigation_tree() is tree  # neither counted again nor read from the cache

    with django_capture_on_commit_callbacks(execute=True):
        generations.bump(generations.CATALOGUE)
    with django_assert_num_queries(1):
        assert navigation_tree() == tree  # counted again, for the new generation


def test_facet_counts_under_a_price_filter_follow_a_price_changed_in_the_admin(
    admin_client: Client, django_capture_on_commit_callbacks
):
    product = Product.objects.exclude(article_type=None).exclude(price=None).first()
    top = Product.objects.exclude(price=None).order_by("-price").first().price
    above = ProductFilters(price_min=top + 1)
    assert counts("article_type", above) == {}

    with django_capture_on_commit_callbacks(execute=True):
        admin_save(admin_client, product, price=str(top + 100), list_price="")

    assert counts("article_type", above) == {product.article_type: 1}


def test_a_brand_renamed_shows_in_the_brand_facet(django_capture_on_commit_callbacks):
    brand = Brand.objects.filter(products__isnull=False).first()
    assert brand.name in counts("brand", ProductFilters())
    with django_capture_on_commit_callbacks(execute=True):
        brand.name = "Renamed Brand"
        brand.save()
    assert "Renamed Brand" in counts("brand", ProductFilters())


def test_a_generation_moves_on_only_when_the_transaction_commits(django_capture_on_commit_callbacks):
    before = generations.current(generations.CATALOGUE)
    with django_capture_on_commit_callbacks() as callbacks:
        product = Product.objects.first()
        product.name = "Renamed"
        product.save()
        # Uncommitted: a reader elsewhere still reads the old row, so the old generation must still hold.
        assert generations.current(generations.CATALOGUE) == before
    for callback in callbacks:
        callback()
    assert generations.current(generations.CATALOGUE) > before


def test_many_changes_in_one_transaction_bump_once(django_capture_on_commit_callbacks):
    before = generations.current(generations.CATALOGUE)
    with django_capture_on_commit_callbacks(execute=True):
        deleted, _ = Product.objects.filter(pk__in=Product.objects.values("pk")[:10]).delete()
    assert deleted >= 10
    assert generations.current(generations.CATALOGUE) == before + 1


def test_a_change_rolled_back_bumps_nothing_and_leaves_later_changes_free_to_bump(django_capture_on_commit_callbacks):
    before = generations.current(generations.CATALOGUE)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            Product.objects.first().save()
            raise RuntimeError("rolled back")
        assert generations.current(generations.CATALOGUE) == before
        Product.objects.first().save()
    assert generations.current(generations.CATALOGUE) == before + 1


def test_the_import_starts_a_new_catalogue_generation(django_capture_on_commit_callbacks):
    before = generations.current(generations.CATALOGUE)
    with django_capture_on_commit_callbacks(execute=True):
        import_catalog(FIXTURE_CATALOG_DIR)
    assert generations.current(generations.CATALOGUE) > before


def test_selling_out_and_restocking_start_new_availability_generations(django_capture_on_commit_callbacks):
    sku = Sku.objects.order_by("pk").first()
    Sku.objects.filter(product=sku.product).exclude(pk=sku.pk).update(stock=0)
    Sku.objects.filter(pk=sku.pk).update(stock=2)
    generation = generations.current(generations.AVAILABILITY)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        reserve_stock({sku.pk: 1})  # one unit left: still in stock
    assert generations.current(generations.AVAILABILITY) == generation

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        reserve_stock({sku.pk: 1})  # the last unit
    assert not Product.objects.get(pk=sku.product_id).in_stock
    sold_out = generations.current(generations.AVAILABILITY)
    assert sold_out > generation

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        release_stock({sku.pk: 1})
    assert Product.objects.get(pk=sku.product_id).in_stock
    assert generations.current(generations.AVAILABILITY) > sold_out


def test_a_generation_lost_from_the_cache_starts_above_every_number_it_had(django_capture_on_commit_callbacks):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            generations.bump(generations.CATALOGUE)
    seen = generations.current(generations.CATALOGUE)
    cache.delete("generation:catalogue")  # evicted
    assert generations.current(generations.CATALOGUE) > seen


def test_prices_shown_on_listings_are_never_stale(client: Client):
    product = Product.objects.exclude(price=None).order_by("-added_at", "-pk").first()
    assert client.get(reverse("shop:product-list")).status_code == 200  # the facets and navigation are cached
    Product.objects.filter(pk=product.pk).update(price=Decimal("12345"), list_price=None)  # no signal, no bump
    assert "₹12,345" in client.get(reverse("shop:product-list")).content.decode()


def test_the_home_shelves_are_chosen_once_and_show_current_prices_and_new_products(
    django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    first = home_shelves()
    newest = first[0].products[0]
    Product.objects.filter(pk=newest.pk).update(price=Decimal("777"), list_price=None)  # no signal, no bump
    with django_assert_max_num_queries(1):  # the cards only: the choice comes from the cache
        again = home_shelves()
    assert [[product.pk for product in shelf.products] for shelf in again] == [
        [product.pk for product in shelf.products] for shelf in first
    ]
    assert again[0].products[0].price == Decimal("777")

    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.filter(pk=newest.pk).update(added_at=None)
        Product.objects.exclude(pk=newest.pk).order_by("pk").first().save()  # any save: the catalogue moves on
    assert newest.pk not in [product.pk for product in home_shelves()[0].products]


def test_the_listings_rendered_filters_and_count_follow_a_product_saved_in_the_admin(
    admin_client: Client, client: Client, django_capture_on_commit_callbacks
):
    product = Product.objects.exclude(article_type=None).first()
    listing = reverse("shop:product-list")
    in_filters = '<span class="facet__value">Cache Test Type'
    assert in_filters not in client.get(listing).content.decode()
    # A write that sends no signal leaves the page's filters and count as they were: they are cached.
    Product.objects.filter(pk=product.pk).update(article_type="Cache Test Type")
    Product.objects.bulk_create([Product(name="Uncounted")])
    again = client.get(listing)
    assert in_filters not in again.content.decode()
    assert again.context["page"].paginator.count == Product.objects.count() - 1

    with django_capture_on_commit_callbacks(execute=True):
        admin_save(admin_client, product, article_type="Cache Test Type 2")

    after = client.get(listing)
    assert f"{in_filters} 2</span>" in after.content.decode()
    assert after.context["page"].paginator.count == Product.objects.count()
