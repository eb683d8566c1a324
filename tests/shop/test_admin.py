import hashlib
import io
import warnings
from decimal import Decimal

import pytest
from django.contrib.admin.views.main import ChangeList
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.paginator import UnorderedObjectListWarning
from django.db.models import Count, Max, Q
from django.test import Client
from django.urls import reverse
from PIL import Image

from shop.models import Brand, Product, Sku
from shop.services import refresh_in_stock
from tests.shop.html_forms import form_fields

CHANGELIST_URL = reverse("admin:shop_product_changelist")
ADD_URL = reverse("admin:shop_product_add")
CATEGORY_FIELDS = [
    "gender",
    "master_category",
    "sub_category",
    "article_type",
    "base_colour",
    "season",
    "usage",
    "year",
]


def change_url(product: Product) -> str:
    return reverse("admin:shop_product_change", args=[product.pk])


def changelist(client: Client, **params: str) -> ChangeList:
    response = client.get(CHANGELIST_URL, params)
    assert response.status_code == 200
    return response.context["cl"]


def result_ids(cl: ChangeList) -> set[int]:
    # Pages are 50 long; the searches and filters checked here stay within one page or compare counts.
    return {product.pk for product in cl.result_list}


def jpeg_upload(name: str = "new.jpg", size: tuple[int, int] = (120, 160)) -> tuple[SimpleUploadedFile, bytes]:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize(size).save(buffer, format="JPEG")
    data = buffer.getvalue()
    return SimpleUploadedFile(name, data, content_type="image/jpeg"), data


def form_data(client: Client, url: str) -> dict[str, str | list[str]]:
    """What the admin's form posts back from a browser as it is shown (the current image is not sent), sizes
    inline included."""
    response = client.get(url)
    assert response.status_code == 200
    return form_fields(response.content.decode(), "product_form")


def product_details(product: Product) -> tuple:
    product = Product.objects.get(pk=product.pk)
    sizes = list(product.skus.values_list("id", "kind", "label", "position", "stock"))
    colours = sorted(product.colours.values_list("pk", flat=True))
    return (
        product.brand_id,
        product.description,
        product.attributes,
        product.age_group,
        product.added_at,
        product.cash_on_delivery,
        product.in_stock,
        sizes,
        colours,
    )


def most_common(field: str) -> object:
    return (
        Product.objects.exclude(**{f"{field}__isnull": True})
        .values_list(field, flat=True)
        .annotate(n=Count("id"))
        .order_by("-n")[0]
    )


@pytest.mark.django_db
def test_changelist_shows_thumbnails_and_a_marker_for_missing_images(
    admin_client: Client, django_assert_max_num_queries
) -> None:
    without_image = Product.objects.create(name="Imageless tee")  # Newest, so first in the list.
    with django_assert_max_num_queries(16):  # Session, user, counts, one page, the filters' choices: never per row.
        response = admin_client.get(CHANGELIST_URL)
    assert response.status_code == 200
    page = list(response.context["cl"].result_list)
    assert len(page) == 50
    assert page[0] == without_image
    html = response.content.decode()
    for product in page[1:]:
        assert f'<img src="{product.image.url}"' in html
    assert html.count('<img src="/media/products/') == 49
    assert html.count(">no image</span>") == 1


@pytest.mark.django_db
def test_changelist_offers_a_filter_for_each_category_stock_brand_and_images(admin_client: Client) -> None:
    cl = changelist(admin_client)
    field_filters = [spec.field_path for spec in cl.filter_specs if hasattr(spec, "field_path")]
    assert field_filters == [*CATEGORY_FIELDS, "in_stock", "brand"]
    assert [spec.parameter_name for spec in cl.filter_specs if hasattr(spec, "parameter_name")] == ["has_image"]


@pytest.mark.django_db
@pytest.mark.parametrize("field", CATEGORY_FIELDS)
def test_category_filter_shows_only_matching_products(admin_client: Client, field: str) -> None:
    value = most_common(field)
    expected = Product.objects.filter(**{field: value}).count()
    assert 0 < expected < Product.objects.count()

    cl = changelist(admin_client, **{f"{field}__exact": str(value)})

    assert cl.result_count == expected
    assert {getattr(product, field) for product in cl.result_list} == {value}


@pytest.mark.django_db
def test_has_image_filter_finds_products_without_images(admin_client: Client) -> None:
    first, second = Product.objects.order_by("pk")[:2]
    Product.objects.filter(pk__in=[first.pk, second.pk]).update(image="", image_width=None, image_height=None)

    without = changelist(admin_client, has_image="no")
    with_image = changelist(admin_client, has_image="yes")

    assert result_ids(without) == {first.pk, second.pk}
    assert without.result_count == Product.objects.filter(image="").count() == 2
    assert with_image.result_count == Product.objects.exclude(image="").count() == Product.objects.count() - 2
    assert all(product.image for product in with_image.result_list)


@pytest.mark.django_db
def test_search_by_id_finds_the_product_and_names_containing_the_number(admin_client: Client) -> None:
    product, namesake = Product.objects.order_by("pk")[:2]
    namesake.name = f"Limited edition {product.pk}"
    namesake.save()
    matching = Product.objects.filter(Q(pk=product.pk) | Q(name__icontains=product.pk))
    expected = set(matching.values_list("pk", flat=True))

    cl = changelist(admin_client, q=str(product.pk))

    assert {product.pk, namesake.pk} <= result_ids(cl) == expected
    assert cl.result_count == len(expected)


@pytest.mark.django_db
def test_search_by_id_keeps_the_list_filters(admin_client: Client) -> None:
    product = Product.objects.filter(gender="Men").first()

    assert result_ids(changelist(admin_client, q=str(product.pk), gender__exact="Men")) == {product.pk}
    assert changelist(admin_client, q=str(product.pk), gender__exact="Women").result_count == 0


@pytest.mark.django_db
def test_search_by_name(admin_client: Client) -> None:
    expected = Product.objects.filter(name__icontains="puma").filter(name__icontains="shoes").count()
    assert 0 < expected < 50

    cl = changelist(admin_client, q="Puma shoes")

    assert cl.result_count == expected
    assert all("puma" in product.name.lower() for product in cl.result_list)


@pytest.mark.django_db
@pytest.mark.parametrize("term", ["blue shirt", "15970abc", "99999999999999999999999", "-1", " 42 ", "%_'\""])
def test_any_search_text_answers(admin_client: Client, term: str) -> None:
    assert admin_client.get(CHANGELIST_URL, {"q": term}).status_code == 200


@pytest.mark.django_db
def test_change_page_shows_the_image_and_its_metadata(admin_client: Client) -> None:
    product = Product.objects.exclude(image="").first()

    response = admin_client.get(change_url(product))

    assert response.status_code == 200
    html = response.content.decode()
    for legend in ["Description", "Image", "Commerce", "Metadata"]:
        assert f">{legend}</h2>" in html
    assert f'<img src="{product.image.url}" alt="" height="160"' in html
    assert 'type="file" name="image"' in html
    assert product.image_sha256 in html
    assert f"{product.image_width} x {product.image_height} px" in html


@pytest.mark.django_db
def test_uploading_an_image_replaces_it_with_its_size_and_checksum(admin_client: Client) -> None:
    product = Product.objects.exclude(image="").first()
    old_image, old_sha = product.image.name, product.image_sha256
    data = form_data(admin_client, change_url(product))
    upload, jpeg = jpeg_upload()

    response = admin_client.post(change_url(product), {**data, "image": upload})

    assert response.status_code == 302, response.context["adminform"].form.errors
    product.refresh_from_db()
    assert product.image.name != old_image
    assert (product.image_width, product.image_height) == (120, 160)
    assert product.image_sha256 == hashlib.sha256(jpeg).hexdigest() != old_sha
    with product.image.open("rb") as stored:
        assert stored.read() == jpeg


@pytest.mark.django_db
def test_editing_other_fields_keeps_the_image_and_the_details(admin_client: Client) -> None:
    product = Product.objects.exclude(image="").exclude(added_at=None).exclude(attributes={}).first()
    product.colours.add(*Product.objects.exclude(pk=product.pk)[:2])
    product.skus.filter(pk=product.skus.first().pk).update(stock=4)
    before = (product.image.name, product.image_width, product.image_height, product.image_sha256)
    details = product_details(product)
    data = form_data(admin_client, change_url(product))

    response = admin_client.post(change_url(product), {**data, "price": "19.99", "list_price": "24.99"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    product.refresh_from_db()
    assert (str(product.price), str(product.list_price)) == ("19.99", "24.99")
    assert (product.image.name, product.image_width, product.image_height, product.image_sha256) == before
    # What the form shows is posted back unchanged: the date, the attributes, the sizes and the rest stay.
    assert product_details(product) == details


@pytest.mark.django_db
def test_clearing_the_image_clears_its_metadata(admin_client: Client) -> None:
    product = Product.objects.exclude(image="").first()
    data = form_data(admin_client, change_url(product))

    response = admin_client.post(change_url(product), {**data, "image-clear": "on"})

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.image.name, product.image_width, product.image_height, product.image_sha256) == ("", None, None, "")


@pytest.mark.django_db
def test_adding_a_product(admin_client: Client) -> None:
    previous_max_id = Product.objects.aggregate(Max("id"))["id__max"]
    data = form_data(admin_client, ADD_URL)
    upload, jpeg = jpeg_upload("added.jpg", (60, 80))
    data.update(name="Admin Added Sneakers", gender="Unisex", article_type="Casual Shoes", year="2025", image=upload)

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(name="Admin Added Sneakers")
    assert product.pk > previous_max_id
    assert (product.gender, product.article_type, product.year) == ("Unisex", "Casual Shoes", 2025)
    assert (product.image_width, product.image_height) == (60, 80)
    assert product.image_sha256 == hashlib.sha256(jpeg).hexdigest()


# Brands, prices and sizes


BRAND_CHANGELIST_URL = reverse("admin:shop_brand_changelist")


@pytest.mark.django_db
def test_change_page_shows_the_details_and_each_size_with_its_stock(admin_client: Client) -> None:
    product = Product.objects.get(pk=15970)
    Sku.objects.filter(pk=87281).update(stock=2)

    html = admin_client.get(change_url(product)).content.decode()

    for legend in ["Commerce", "Details"]:
        assert f">{legend}</h2>" in html
    data = form_fields(html, "product_form")
    assert (data["brand"], data["price"], data["list_price"]) == (str(product.brand_id), "1195.00", "")
    assert data["skus-TOTAL_FORMS"] == "4"
    rows = [(data[f"skus-{i}-id"], data[f"skus-{i}-label"], data[f"skus-{i}-stock"]) for i in range(4)]
    assert rows == [("87168", "39", ""), ("87282", "40", ""), ("87281", "42", "2"), ("87167", "44", "")]


@pytest.mark.django_db
def test_editing_the_stock_of_sizes_changes_whether_the_product_is_in_stock(admin_client: Client) -> None:
    product = Product.objects.get(pk=15970)
    url = change_url(product)
    assert product.in_stock

    response = admin_client.post(url, {**form_data(admin_client, url), **{f"skus-{i}-stock": "0" for i in range(4)}})

    assert response.status_code == 302, response.context["adminform"].form.errors
    product.refresh_from_db()
    assert not product.in_stock
    assert set(product.skus.values_list("stock", flat=True)) == {0}

    response = admin_client.post(url, {**form_data(admin_client, url), "skus-2-stock": "3"})

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.in_stock
    assert product.skus.get(label="42").stock == 3

    # An empty stock is not tracked: always available.
    data = form_data(admin_client, url)
    admin_client.post(url, {**data, "skus-2-stock": "0", "skus-0-stock": ""})
    product.refresh_from_db()
    assert product.in_stock
    assert product.skus.get(label="39").stock is None


@pytest.mark.django_db
def test_deleting_every_size_leaves_a_product_in_stock(admin_client: Client) -> None:
    product = Product.objects.get(pk=15970)
    product.skus.update(stock=0)
    refresh_in_stock([product.pk])
    url = change_url(product)

    response = admin_client.post(url, {**form_data(admin_client, url), **{f"skus-{i}-DELETE": "on" for i in range(4)}})

    assert response.status_code == 302
    product.refresh_from_db()
    assert not product.skus.exists()
    assert product.in_stock  # nothing is tracked


@pytest.mark.django_db
def test_a_size_added_in_the_admin_counts(admin_client: Client) -> None:
    product = Product.objects.get(pk=17429)  # a watch: one size
    product.skus.update(stock=0)
    refresh_in_stock([product.pk])
    url = change_url(product)
    data = form_data(admin_client, url)

    response = admin_client.post(
        url,
        {**data, "skus-TOTAL_FORMS": "2", "skus-1-kind": "Size", "skus-1-label": "Gift box", "skus-1-position": "1",
         "skus-1-stock": "4", "skus-1-product": str(product.pk)},
    )  # fmt: skip

    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    product.refresh_from_db()
    assert product.in_stock
    assert list(product.skus.values_list("label", "stock")) == [("ONESIZE", 0), ("Gift box", 4)]
    assert product.skus.get(label="Gift box").pk > 90290  # after the data's ids


@pytest.mark.django_db
def test_list_price_below_the_price_is_refused(admin_client: Client) -> None:
    product = Product.objects.get(pk=15970)
    url = change_url(product)

    response = admin_client.post(url, {**form_data(admin_client, url), "price": "1500", "list_price": "1195"})

    assert response.status_code == 200
    assert "list_price" in response.context["adminform"].form.errors
    product.refresh_from_db()
    assert (product.price, product.list_price) == (Decimal("1195.00"), None)


@pytest.mark.django_db
def test_in_stock_and_brand_filters(admin_client: Client) -> None:
    Sku.objects.filter(product_id__in=[15970, 16508]).update(stock=0)
    refresh_in_stock([15970, 16508])
    puma = Brand.objects.get(name="Puma")
    Brand.objects.create(name="No Products Yet")

    sold_out = changelist(admin_client, in_stock__exact="0")
    in_stock = changelist(admin_client, in_stock__exact="1")
    by_brand = changelist(admin_client, brand__id__exact=str(puma.pk))

    assert result_ids(sold_out) == {15970, 16508}
    assert in_stock.result_count == Product.objects.count() - 2
    assert result_ids(by_brand) == {2483, 4524, 5891, 9204, 53759}
    [brand_filter] = [
        spec for spec in changelist(admin_client).filter_specs if getattr(spec, "field_path", "") == "brand"
    ]
    offered = {name for _, name in brand_filter.lookup_choices}
    assert "Puma" in offered and "No Products Yet" not in offered


@pytest.mark.django_db
def test_brands_list_shows_how_many_products_each_has(admin_client: Client) -> None:
    Brand.objects.filter(products=None).delete()  # what an earlier session's import left
    Brand.objects.create(name="No Products Yet")

    response = admin_client.get(BRAND_CHANGELIST_URL, {"o": "-2"})  # by the product count, largest first

    assert response.status_code == 200
    brands = list(response.context["cl"].result_list)
    expected = dict(Product.objects.values_list("brand__name").annotate(n=Count("*")).order_by())
    assert {brand.name: brand.product_count for brand in brands} == {**expected, "No Products Yet": 0}
    assert (brands[0].name, brands[0].product_count) == ("Gini and Jony", 6)
    assert brands[-1].product_count == 0
    assert '<td class="field-product_count">6</td>' in response.content.decode()
    assert [b.name for b in admin_client.get(BRAND_CHANGELIST_URL, {"q": "pum"}).context["cl"].result_list] == ["Puma"]


@pytest.mark.django_db
def test_brand_autocomplete_finds_brands_for_the_product_form(admin_client: Client) -> None:
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "gini", "app_label": "shop", "model_name": "product", "field_name": "brand"},
    )

    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["Gini and Jony"]


@pytest.mark.django_db
def test_brand_autocomplete_pages_through_every_brand_in_name_order(admin_client: Client) -> None:
    params = {"term": "", "app_label": "shop", "model_name": "product", "field_name": "brand"}
    names, page = [], 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnorderedObjectListWarning)  # pages of an unordered list can overlap
        while True:
            body = admin_client.get(reverse("admin:autocomplete"), {**params, "page": page}).json()
            names += [result["text"] for result in body["results"]]
            if not body["pagination"]["more"]:
                break
            page += 1

    assert page > 1
    assert names == sorted(Brand.objects.values_list("name", flat=True))


@pytest.mark.django_db
def test_prices_are_edited_in_the_product_list(admin_client: Client) -> None:
    html = admin_client.get(CHANGELIST_URL).content.decode()
    data = form_fields(html, "changelist-form")
    rows = {data[f"form-{i}-id"]: i for i in range(int(data["form-TOTAL_FORMS"]))}
    before = dict(Product.objects.values_list("pk", "price"))
    product = Product.objects.get(pk=int(next(iter(rows))))
    row = rows[str(product.pk)]

    response = admin_client.post(
        CHANGELIST_URL, {**data, f"form-{row}-price": "899", f"form-{row}-list_price": "1299", "_save": "Save"}
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.price, product.list_price) == (Decimal("899.00"), Decimal("1299.00"))
    after = dict(Product.objects.values_list("pk", "price"))
    assert {pk for pk in after if after[pk] != before[pk]} == {product.pk}


@pytest.mark.django_db
def test_a_price_above_the_list_price_is_refused_in_the_product_list(admin_client: Client) -> None:
    data = form_fields(admin_client.get(CHANGELIST_URL).content.decode(), "changelist-form")
    product_id = int(data["form-0-id"])
    before = Product.objects.values_list("price", "list_price").get(pk=product_id)

    response = admin_client.post(
        CHANGELIST_URL, {**data, "form-0-price": "2000", "form-0-list_price": "1000", "_save": "Save"}
    )

    assert response.status_code == 200
    assert response.context["cl"].formset.errors[0]
    assert Product.objects.values_list("price", "list_price").get(pk=product_id) == before
