"""Similar items are cached as a ranking of product ids, under the serving space and the generations of what the
ranking reads; the products on the cards are read afresh, so that no price or stock shown is ever stale."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors import services
from recommendations.vectors.selectors import SimilarOptions, similar_products
from shop.models import Product, Sku
from shop.services import reserve_stock

pytestmark = pytest.mark.django_db

IN_STOCK = SimilarOptions(in_stock=True)


def nearest_neighbour_queries(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if "<=>" in query["sql"]]


def similar(product: Product, options: SimilarOptions | None = None) -> tuple[list, int]:
    """The similar items, and how many nearest-neighbour queries computing them took."""
    with CaptureQueriesContext(connection) as captured:
        items = similar_products(product, options=options)
    return items, len(nearest_neighbour_queries(captured))


@pytest.fixture
def product(embedded_catalogue: EmbeddingSpace) -> Product:
    embeddings = ProductEmbedding.objects.filter(space=embedded_catalogue, status=ProductEmbedding.Status.OK)
    return Product.objects.get(pk=embeddings.order_by("product_id").values_list("product_id", flat=True)[0])


def test_the_second_showing_reads_the_ranking_from_the_cache_and_the_cards_afresh(product: Product):
    first, searches = similar(product)
    assert first and searches >= 1
    neighbour = first[0].product
    Product.objects.filter(pk=neighbour.pk).update(price=Decimal("4321"), list_price=None, in_stock=False)

    again, searches = similar(product)

    assert searches == 0
    assert [item.product.pk for item in again] == [item.product.pk for item in first]
    assert [(item.similarity, item.reasons, item.duplicates) for item in again] == [
        (item.similarity, item.reasons, item.duplicates) for item in first
    ]
    assert (again[0].product.price, again[0].product.in_stock) == (Decimal("4321"), False)


def test_a_deleted_product_is_never_shown(product: Product, django_capture_on_commit_callbacks):
    first, _ = similar(product)
    gone = first[0].product.pk
    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.filter(pk=gone).delete()
    again, _ = similar(product)
    assert again and gone not in [item.product.pk for item in again]


def test_a_list_of_products_in_stock_drops_one_that_sold_out(product: Product, django_capture_on_commit_callbacks):
    first, _ = similar(product, IN_STOCK)
    neighbour = first[0].product
    sizes = list(Sku.objects.filter(product=neighbour).order_by("pk"))
    assert sizes, "a fixture product with sizes"
    Sku.objects.filter(product=neighbour).update(stock=0)
    Sku.objects.filter(pk=sizes[0].pk).update(stock=1)
    assert similar(product, IN_STOCK)[1] == 0, "cached"

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        reserve_stock({sizes[0].pk: 1})  # the last unit: the product is out of stock once this commits

    again, searches = similar(product, IN_STOCK)
    assert searches >= 1
    assert neighbour.pk not in [item.product.pk for item in again]
    everything, _ = similar(product)
    assert neighbour.pk in [item.product.pk for item in everything], "the list of all keeps it, marked out of stock"


def test_a_list_of_all_products_is_not_computed_again_when_stock_changes(
    product: Product, django_capture_on_commit_callbacks
):
    first, _ = similar(product)
    sku = Sku.objects.filter(product=first[0].product).order_by("pk").first()
    Sku.objects.filter(product=sku.product).update(stock=0)
    Sku.objects.filter(pk=sku.pk).update(stock=1)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        reserve_stock({sku.pk: 1})
    again, searches = similar(product)
    assert searches == 0
    assert again[0].product.in_stock is False


def test_vectors_stored_in_the_serving_space_start_its_ranking_afresh(
    product: Product, embedded_catalogue: EmbeddingSpace, django_capture_on_commit_callbacks
):
    similar(product)
    rows = list(ProductEmbedding.objects.filter(space=embedded_catalogue, product=product))
    with django_capture_on_commit_callbacks(execute=True):
        services.store_embeddings(embedded_catalogue, rows)  # the same vectors written again
    assert similar(product)[1] >= 1


def test_other_options_and_sizes_are_lists_of_their_own(product: Product):
    similar(product)
    assert similar(product, SimilarOptions(same_gender=True))[1] >= 1
    with CaptureQueriesContext(connection) as captured:
        shorter = similar_products(product, k=3)
    assert len(shorter) == 3 and nearest_neighbour_queries(captured)
