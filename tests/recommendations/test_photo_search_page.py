"""The search-by-photo page without JavaScript: a multipart form, real photos, the real model and index.

The photos are the fixture's (full-size catalogue photos of fixture products, downscaled to 600x800).
"""

import io
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from recommendations.models import EmbeddingSpace
from shop.models import Product
from tests.catalogues import FIXTURE_PHOTO_IDS, set_stock

pytestmark = pytest.mark.django_db

URL = reverse("recommendations:photo-search")


@pytest.fixture
def hires_dir(fixture_photos_dir: Path) -> Path:
    return fixture_photos_dir


def photo_upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")


def png_upload(image: Image.Image, name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def side_by_side(left: Product, right: Product) -> Image.Image:
    """The two products' catalogue photos next to each other, as one photo."""
    photos = [Image.open(product.image.path).convert("RGB") for product in (left, right)]
    height = max(photo.height for photo in photos)
    canvas = Image.new("RGB", (sum(photo.width for photo in photos), height), "white")
    canvas.paste(photos[0], (0, 0))
    canvas.paste(photos[1], (photos[0].width, 0))
    return canvas


def found_ids(response) -> list[int]:
    return [item.product.pk for item in response.context["results"]]


def first_group(response) -> list[int]:
    """The first card's product and the duplicates collapsed into it."""
    first = response.context["results"][0]
    return [first.product.pk, *first.duplicates]


def test_page_offers_upload_camera_and_the_catalogues_filters(client):
    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html and 'method="post"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'type="file" name="image" accept="image/*"' in html
    assert 'capture="environment"' in html
    for name in ("crop_left", "crop_top", "crop_width", "crop_height"):
        assert f'type="hidden" name="{name}"' in html
    for gender in Product.objects.exclude(gender=None).values_list("gender", flat=True).distinct():
        assert f'<option value="{gender}">{gender}</option>' in html
    for category in Product.objects.exclude(master_category=None).values_list("master_category", flat=True).distinct():
        assert f'<option value="{category}">{category}</option>' in html
    assert 'type="checkbox" name="in_stock"' in html
    assert response.context["results"] is None


def test_every_page_links_to_search_by_photo(client):
    html = client.get(reverse("shop:home")).content.decode()

    assert f'href="{URL}"' in html


@pytest.mark.parametrize("product_id", FIXTURE_PHOTO_IDS)
def test_a_full_size_catalogue_photo_finds_its_product_first(client, embedded_catalogue, hires_dir, product_id):
    response = client.post(URL, {"image": photo_upload(hires_dir / f"{product_id}.jpg")})

    assert response.status_code == 200
    assert product_id in first_group(response)
    assert len(response.context["results"]) > 10
    html = response.content.decode()
    assert 'class="product-grid product-grid--similar"' in html
    assert html.index(f'href="{reverse("shop:product-detail", args=[found_ids(response)[0]])}?lid=') > html.index(
        "product-grid--similar"
    )


@pytest.mark.dataset
def test_original_full_size_photos_find_their_products_first_among_the_sample(client, embedded_catalogue, catalog_dir):
    """The photos as Kaggle ships them (1080x1440 to 1800x2400), among the 3,000 products of the sample."""
    for product_id in FIXTURE_PHOTO_IDS:
        path = catalog_dir.parent / "fashion-product-images-hires" / f"{product_id}.jpg"
        response = client.post(URL, {"image": photo_upload(path)})

        assert response.status_code == 200
        assert product_id in first_group(response), product_id


def test_the_crop_fields_choose_the_part_of_the_photo_searched(client, embedded_catalogue):
    watch = Product.objects.filter(article_type="Watches").exclude(image="").order_by("pk").first()
    shirt = Product.objects.filter(article_type="Shirts").exclude(image="").order_by("pk").first()
    photo = side_by_side(watch, shirt)
    half = watch.image_width / photo.width

    left = client.post(URL, {"image": png_upload(photo), "crop_left": 0, "crop_top": 0, "crop_width": half,
                             "crop_height": 1})  # fmt: skip
    right = client.post(URL, {"image": png_upload(photo), "crop_left": half, "crop_top": 0,
                              "crop_width": 1 - half, "crop_height": 1})  # fmt: skip

    assert left.status_code == right.status_code == 200
    assert watch.pk in first_group(left)
    assert shirt.pk in first_group(right)


def test_filters_narrow_the_results_and_stay_selected(client, embedded_catalogue, hires_dir):
    # A man's sports shoe, searched among women's footwear.
    response = client.post(
        URL, {"image": photo_upload(hires_dir / "2477.jpg"), "gender": "Women", "master_category": "Footwear"}
    )

    assert response.status_code == 200
    found = Product.objects.filter(pk__in=found_ids(response))
    assert found.count() == len(response.context["results"]) > 0
    assert set(found.values_list("gender", "master_category")) == {("Women", "Footwear")}
    assert 2477 not in found_ids(response)
    html = response.content.decode()
    assert '<option value="Women" selected>Women</option>' in html
    assert '<option value="Footwear" selected>Footwear</option>' in html


def test_in_stock_only_leaves_out_sold_out_products(client, embedded_catalogue, hires_dir):
    set_stock([2477], 0)

    everything = client.post(URL, {"image": photo_upload(hires_dir / "2477.jpg")})
    in_stock = client.post(URL, {"image": photo_upload(hires_dir / "2477.jpg"), "in_stock": "on"})

    assert 2477 in first_group(everything)
    assert in_stock.status_code == 200
    assert 2477 not in found_ids(in_stock) and found_ids(in_stock)
    assert 'name="in_stock" id="id_in_stock" checked' in in_stock.content.decode()


def test_a_text_file_named_like_a_photo_is_refused_and_the_filters_are_kept(client):
    text = SimpleUploadedFile("holiday.jpg", b"Dear diary, today I bought shoes.\n" * 20, content_type="image/jpeg")

    response = client.post(URL, {"image": text, "gender": "Men", "in_stock": "on"})

    assert response.status_code == 415
    html = response.content.decode()
    assert "This file is not a photo we can read" in html
    assert 'role="alert"' in html
    assert '<option value="Men" selected>Men</option>' in html
    assert 'name="in_stock" id="id_in_stock" checked' in html
    assert response.context["results"] is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"image": SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg")}, "The file is empty."),
        ({}, "Choose a photo to search with."),
    ],
    ids=["empty file", "no file"],
)
def test_a_missing_photo_is_a_bad_request_with_a_message(client, data, message):
    response = client.post(URL, data)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_truncated_photo_is_a_bad_request(client, hires_dir):
    whole = (hires_dir / "2477.jpg").read_bytes()
    broken = SimpleUploadedFile("2477.jpg", whole[: len(whole) // 3], content_type="image/jpeg")

    response = client.post(URL, {"image": broken})

    assert response.status_code == 400
    assert "damaged or incomplete" in response.content.decode()


@override_settings(SEARCH_PHOTO_MAX_BYTES=100_000)
def test_a_photo_over_the_size_limit_is_refused_as_too_large(client, hires_dir):
    photo = png_upload(Image.open(hires_dir / "2477.jpg"))
    assert photo.size > 100_000

    response = client.post(URL, {"image": photo})

    assert response.status_code == 413
    assert "photos up to 0.1 MB can be searched" in response.content.decode()


@pytest.mark.parametrize(
    ("crop", "message"),
    [
        ({"crop_left": 0.6, "crop_top": 0, "crop_width": 0.6, "crop_height": 1}, "The crop box goes beyond the photo."),
        ({"crop_left": 0, "crop_top": 0, "crop_width": 0.001, "crop_height": 1}, "The crop box is too small"),
        ({"crop_left": 0, "crop_top": 0, "crop_width": 0.5}, "The crop box was incomplete"),
        ({"crop_left": "nan", "crop_top": 0, "crop_width": 1, "crop_height": 1}, "Enter a number."),
    ],
    ids=["beyond the photo", "too small", "incomplete", "not a number"],
)
def test_a_bad_crop_box_is_a_bad_request(client, hires_dir, crop, message):
    response = client.post(URL, {"image": photo_upload(hires_dir / "2477.jpg"), **crop})

    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_gender_the_catalogue_does_not_have_is_a_bad_request(client, hires_dir):
    response = client.post(URL, {"image": photo_upload(hires_dir / "2477.jpg"), "gender": "Martians"})

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


def test_without_an_analysed_catalogue_the_page_says_how_far_the_analysis_is(client, hires_dir):
    EmbeddingSpace.objects.all().delete()

    opened = client.get(URL)
    response = client.post(URL, {"image": photo_upload(hires_dir / "2477.jpg"), "gender": "Men"})

    for page in (opened, response):
        assert page.status_code == 200
        assert "Search by photo opens as soon as the catalogue's photos have been analysed (0% done)." in unescape(
            page.content.decode()
        )
    assert '<option value="Men" selected>Men</option>' in response.content.decode()


def test_searching_keeps_no_photo_by_default(client, embedded_catalogue, hires_dir):
    before = set(Path(settings.MEDIA_ROOT).rglob("*"))

    response = client.post(URL, {"image": photo_upload(hires_dir / "2477.jpg")})

    assert response.status_code == 200
    assert set(Path(settings.MEDIA_ROOT).rglob("*")) == before


def test_searched_photos_are_kept_when_configured(client, embedded_catalogue, hires_dir, tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path, SEARCH_PHOTO_KEEP_UPLOADS=True):
        searched = client.post(URL, {"image": photo_upload(hires_dir / "2477.jpg")})
        refused = client.post(URL, {"image": SimpleUploadedFile("notes.jpg", b"not a photo")})

    assert (searched.status_code, refused.status_code) == (200, 415)
    [kept] = (tmp_path / "photo-searches").rglob("*.jpg")
    assert kept.read_bytes() == (hires_dir / "2477.jpg").read_bytes()
