import hashlib
import io

import pytest
from django.contrib.admin.views.main import ChangeList
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Max, Q
from django.test import Client
from django.urls import reverse
from PIL import Image

from shop.models import Product

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


def form_data(client: Client, url: str) -> dict[str, object]:
    """The values the admin's form shows, posted back as a browser would: the current image is not sent."""
    form = client.get(url).context["adminform"].form
    return {
        name: "" if value is None else value
        for name, value in form.initial.items()
        if name in form.fields and name != "image"
    }


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
def test_changelist_offers_a_filter_for_each_category_and_for_images(admin_client: Client) -> None:
    cl = changelist(admin_client)
    field_filters = [spec.field_path for spec in cl.filter_specs if hasattr(spec, "field_path")]
    assert field_filters == CATEGORY_FIELDS
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
def test_editing_other_fields_keeps_the_image(admin_client: Client) -> None:
    product = Product.objects.exclude(image="").first()
    before = (product.image.name, product.image_width, product.image_height, product.image_sha256)
    data = form_data(admin_client, change_url(product))

    response = admin_client.post(change_url(product), {**data, "price": "19.99", "stock": "3"})

    assert response.status_code == 302
    product.refresh_from_db()
    assert (str(product.price), product.stock) == ("19.99", 3)
    assert (product.image.name, product.image_width, product.image_height, product.image_sha256) == before


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
