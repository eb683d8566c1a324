"""The product page's one statement (shop/product_page_query.py) gives what the ORM's three queries give."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Prefetch
from django.test.utils import CaptureQueriesContext

from shop.models import Brand, Product, Sku
from shop.selectors import CARD_FIELDS, product_detail

pytestmark = pytest.mark.django_db


def by_the_orm(pk: int) -> Product:
    colours = Product.objects.only(*CARD_FIELDS).order_by("pk")
    return (
        Product.objects.defer("search_vector")
        .select_related("brand")
        .prefetch_related("skus", Prefetch("colours", queryset=colours))
        .get(pk=pk)
    )


def fields(instance, names) -> dict:
    return {name: getattr(instance, name) for name in names}


def what_the_page_reads(product: Product) -> dict:
    own = [field.attname for field in Product._meta.concrete_fields if field.name != "search_vector"]
    return {
        "product": fields(product, own),
        "brand": fields(product.brand, ["pk", "name"]) if product.brand else None,
        "skus": [fields(sku, ["pk", "product_id", "kind", "label", "position", "stock"]) for sku in product.skus.all()],
        "colours": [fields(colour, CARD_FIELDS) for colour in product.colours.all()],
    }


@pytest.fixture
def varied_products() -> list[int]:
    """Products with and without a brand, sizes, stock, other colours and prices with paise."""
    with_all, without = Product.objects.exclude(brand=None).annotate(sizes=Count("skus")).filter(sizes__gte=3)[:2]
    with_all.colours.add(*Product.objects.exclude(pk=with_all.pk).values_list("pk", flat=True)[:5])
    Product.objects.filter(pk__in=with_all.colours.values("pk")[:2]).update(
        price=Decimal("1299.99"), list_price=Decimal("1999.95")
    )
    Product.objects.filter(pk=with_all.pk).update(price=Decimal("0.10"), list_price=None)
    sku = with_all.skus.first()
    sku.stock = 0
    sku.save()
    without.skus.all().delete()
    Product.objects.filter(pk=without.pk).update(brand=None, price=None, list_price=None)
    bare = Product.objects.filter(brand=None, skus__isnull=True).exclude(pk=without.pk).first()
    return [with_all.pk, without.pk] + ([bare.pk] if bare else [])


def test_the_product_its_brand_sizes_and_colours_are_those_the_orm_reads(varied_products) -> None:
    for pk in varied_products:
        assert what_the_page_reads(product_detail(pk)) == what_the_page_reads(by_the_orm(pk)), pk


def test_prices_of_other_colours_keep_their_paise(varied_products) -> None:
    prices = {colour.price for colour in product_detail(varied_products[0]).colours.all()}

    assert Decimal("1299.99") in prices
    assert all(price is None or isinstance(price, Decimal) for price in prices)


def test_sizes_come_in_their_order(varied_products) -> None:
    product = Product.objects.get(pk=varied_products[0])
    first, *rest = product.skus.order_by("position", "pk")
    Sku.objects.filter(pk=first.pk).update(position=max(sku.position for sku in rest) + 1)

    labels = [sku.label for sku in product_detail(product.pk).skus.all()]

    assert labels == [sku.label for sku in rest] + [first.label]


def test_one_query_reads_all_the_page_shows(varied_products) -> None:
    with CaptureQueriesContext(connection) as queries:
        for pk in varied_products:
            product = product_detail(pk)
            what_the_page_reads(product)
            for colour in product.colours.all():
                colour.get_absolute_url()

    assert len(queries) == len(varied_products)


def test_a_change_after_loading_is_read_again_by_the_relations(varied_products) -> None:
    product = product_detail(varied_products[0])
    Sku.objects.create(product=product, label="XXXL", position=99)

    assert "XXXL" not in [sku.label for sku in product.skus.all()]  # what was loaded, as prefetch_related keeps it
    assert "XXXL" in [sku.label for sku in product.skus.order_by("position")]  # a new query reads the change


def test_no_such_product_is_none() -> None:
    assert product_detail(Product.objects.order_by("-pk").first().pk + 1) is None


def test_a_brand_renamed_shows_at_once(varied_products) -> None:
    product = Product.objects.get(pk=varied_products[0])
    Brand.objects.filter(pk=product.brand_id).update(name="Renamed & Co")

    assert product_detail(product.pk).brand.name == "Renamed & Co"
