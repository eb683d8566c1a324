"""The REST API of similar items and search by photo, against the fixture catalogue (see conftest)."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image
from rest_framework.throttling import ScopedRateThrottle

from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors.selectors import similar_products
from shop.models import Product
from tests.api_helpers import absolute, detail_url, ids, png, similar_url, with_image
from tests.catalogues import FIXTURE_CATALOG_DIR, FIXTURE_PHOTO_IDS, FIXTURE_PHOTOS_DIR, set_stock

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:product-list")
PHOTO_URL = reverse("api:photo-search")
SIMILAR_FIELDS = {"id", "url", "score", "similarity", "name", "gender", "article_type", "base_colour", "image"}
SIMILAR_FIELDS |= {"image_width", "image_height", "price", "list_price", "in_stock", "reasons", "duplicates"}


def catalogue_photo(product: Product) -> Path:
    return FIXTURE_CATALOG_DIR / "images" / f"{product.pk}.jpg"


def upload(path: Path, name: str = "") -> io.BytesIO:
    photo = io.BytesIO(path.read_bytes())
    photo.name = name or path.name
    return photo


def found(item: dict) -> set[int]:
    """The products a result stands for: itself and its duplicates."""
    return {item["id"], *item["duplicates"]}


# Similar items


def test_similar_items_best_first_without_the_product_itself(api, embedded_catalogue):
    product = with_image(article_type="Tshirts")

    response = api.get(similar_url(product))

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == settings.SIMILAR_ITEMS_COUNT
    assert [item["id"] for item in results] == [item.product.pk for item in similar_products(product)]
    scores = [item["score"] for item in results]
    assert scores == sorted(scores, reverse=True)
    assert not any(product.pk in found(item) for item in results)
    first = results[0]
    assert set(first) == SIMILAR_FIELDS
    neighbour = Product.objects.get(pk=first["id"])
    assert first["url"] == absolute(detail_url(neighbour))
    assert first["image"] == absolute(neighbour.image.url)
    assert (first["name"], first["gender"]) == (neighbour.name, neighbour.gender)
    assert 0 < first["similarity"] <= 1
    assert all(isinstance(reason, str) for item in results for reason in item["reasons"])
    assert any(item["reasons"] for item in results)


@pytest.mark.parametrize("k", [1, 5, 30])
def test_similar_items_k(api, embedded_catalogue, k):
    product = with_image(article_type="Watches")

    assert len(ids(api.get(similar_url(product), {"k": k}))) == k


@pytest.mark.parametrize("k", ["0", "101", "-3", "many", "2.5"])
def test_similar_items_refuse_a_bad_k(api, k):
    response = api.get(similar_url(with_image()), {"k": k})

    assert response.status_code == 400
    assert response.json()["k"]


@pytest.mark.parametrize("option, field", [("same_gender", "gender"), ("same_category", "sub_category")])
def test_similar_items_options_narrow_the_results(api, embedded_catalogue, option, field):
    def mixed(product: Product) -> bool:
        neighbours = Product.objects.filter(pk__in=ids(api.get(similar_url(product), {"k": 20})))
        return neighbours.exclude(**{field: getattr(product, field)}).exists()

    # A product whose look-alikes are not all of its own gender (or sub-category) to begin with, among the products
    # of a gender (sub-category) with more than 20 others, duplicate pictures aside.
    common = Product.objects.values(field).annotate(n=Count("pk")).filter(n__gt=22).values(field)
    candidates = Product.objects.exclude(image="").filter(**{f"{field}__in": common})
    product = next(filter(mixed, candidates.order_by("pk")[:50]))

    narrowed = ids(api.get(similar_url(product), {"k": 20, option: "true"}))

    assert len(narrowed) == 20
    assert set(Product.objects.filter(pk__in=narrowed).values_list(field, flat=True)) == {getattr(product, field)}


def test_similar_items_in_stock_only(api, embedded_catalogue):
    product = with_image(article_type="Watches")
    best = ids(api.get(similar_url(product), {"k": 3}))[0]
    set_stock([best], 0)

    assert best in ids(api.get(similar_url(product), {"k": 3}))
    assert best not in ids(api.get(similar_url(product), {"k": 3, "in_stock": "yes"}))


def test_similar_items_refuse_a_bad_option(api):
    response = api.get(similar_url(with_image()), {"same_gender": "perhaps"})

    assert response.status_code == 400
    assert response.json()["same_gender"]


def test_product_without_image_has_no_similar_items(api, embedded_catalogue):
    product = Product.objects.create(name="Plain tote", gender="Unisex")

    response = api.get(similar_url(product))

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert "no image" in response.json()["detail"]


def half_analysed(space: EmbeddingSpace) -> float:
    """The space back to building, with every other product's embedding gone: the share still analysed."""
    EmbeddingSpace.objects.filter(pk=space.pk).update(state=EmbeddingSpace.State.BUILDING)
    rows = ProductEmbedding.objects.filter(space=space).order_by("product_id")
    rows.filter(pk__in=list(rows.values_list("pk", flat=True)[::2])).delete()
    return rows.count() / Product.objects.exclude(image="").count()


def test_no_similar_items_before_the_catalogue_is_analysed(api, embedded_catalogue):
    share = half_analysed(embedded_catalogue)

    response = api.get(similar_url(with_image()))

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert response.json()["detail"].endswith(f"analysed ({int(share * 100)}% done).")
    assert response.json()["analysed_share"] == pytest.approx(share)


# Search by photo


def test_a_catalogue_photo_finds_its_product_first(api, embedded_catalogue):
    product = with_image(article_type="Casual Shoes")

    response = api.post(PHOTO_URL, {"image": upload(catalogue_photo(product))}, format="multipart")

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == settings.SIMILAR_ITEMS_COUNT
    assert product.pk in found(results[0])
    assert results[0]["similarity"] > 0.99
    assert set(results[0]) == SIMILAR_FIELDS
    assert all(item["reasons"] == [] for item in results)
    scores = [item["score"] for item in results]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("product_id", FIXTURE_PHOTO_IDS)
def test_a_full_size_photo_finds_its_product(api, embedded_catalogue, product_id):
    photo = upload(FIXTURE_PHOTOS_DIR / f"{product_id}.jpg")

    response = api.post(PHOTO_URL, {"image": photo, "k": 3}, format="multipart")

    assert response.status_code == 200
    assert any(product_id in found(item) for item in response.json()["results"])


@pytest.mark.dataset
def test_full_size_photos_of_the_sample_find_their_products(api, embedded_catalogue, catalog_dir):
    """The original photos (1080x1440 to 1800x2400, up to 600 KB) among the 3,000 products of the sample."""
    hires = catalog_dir.parent / "fashion-product-images-hires"
    in_sample = Product.objects.filter(pk__in=[int(path.stem) for path in hires.glob("*.jpg")]).exclude(image="")
    products = list(in_sample.order_by("pk")[:5])
    assert [product.pk for product in products] == list(FIXTURE_PHOTO_IDS)

    for product in products:
        response = api.post(PHOTO_URL, {"image": upload(hires / f"{product.pk}.jpg"), "k": 3}, format="multipart")
        assert response.status_code == 200
        assert any(product.pk in found(item) for item in response.json()["results"]), product.pk


@pytest.mark.parametrize("k", [1, 7])
def test_photo_search_k(api, embedded_catalogue, k):
    photo = upload(catalogue_photo(with_image()))

    assert len(ids(api.post(PHOTO_URL, {"image": photo, "k": k}, format="multipart"))) == k


def test_photo_search_refuses_a_bad_k(api):
    photo = upload(catalogue_photo(with_image()))

    response = api.post(PHOTO_URL, {"image": photo, "k": 101}, format="multipart")

    assert response.status_code == 400
    assert response.json()["k"]


def test_the_crop_selects_what_to_search_for(api, embedded_catalogue):
    left = with_image(master_category="Footwear")
    right = with_image(master_category="Accessories", image_width=left.image_width, image_height=left.image_height)
    with Image.open(catalogue_photo(left)) as first, Image.open(catalogue_photo(right)) as second:
        pair = Image.new("RGB", (first.width * 2, first.height), "white")
        pair.paste(first, (0, 0))
        pair.paste(second, (first.width, 0))

    def best(crop_left: float) -> set[int]:
        crop = {"crop_left": crop_left, "crop_top": 0, "crop_width": 0.5, "crop_height": 1}
        response = api.post(PHOTO_URL, {"image": png(pair), "k": 1, **crop}, format="multipart")
        assert response.status_code == 200
        return found(response.json()["results"][0])

    assert left.pk in best(0)
    assert right.pk in best(0.5)


@pytest.mark.parametrize(
    "crop",
    [
        {"crop_left": 0, "crop_top": 0, "crop_width": 0.5},
        {"crop_left": 0.6, "crop_top": 0, "crop_width": 0.5, "crop_height": 1},
        {"crop_left": 0, "crop_top": 0, "crop_width": 0.001, "crop_height": 1},
        {"crop_left": -0.1, "crop_top": 0, "crop_width": 0.5, "crop_height": 1},
    ],
)
def test_photo_search_refuses_a_bad_crop(api, crop):
    photo = upload(catalogue_photo(with_image()))

    response = api.post(PHOTO_URL, {"image": photo, **crop}, format="multipart")

    assert response.status_code == 400
    assert response.json()["crop"]


def test_photo_search_filters(api, embedded_catalogue):
    product = with_image(gender="Men", master_category="Apparel")
    photo = upload(catalogue_photo(product))

    response = api.post(
        PHOTO_URL, {"image": photo, "gender": ["Women", "Girls"], "master_category": "Apparel"}, format="multipart"
    )

    assert response.status_code == 200
    found_ids = ids(response)
    assert len(found_ids) == settings.SIMILAR_ITEMS_COUNT
    assert product.pk not in found_ids
    found_products = Product.objects.filter(pk__in=found_ids)
    assert set(found_products.values_list("gender", flat=True)) <= {"Women", "Girls"}
    assert set(found_products.values_list("master_category", flat=True)) == {"Apparel"}


def test_photo_search_in_stock_only(api, embedded_catalogue):
    product = with_image(article_type="Handbags")
    set_stock([product.pk], 0)

    everything = api.post(PHOTO_URL, {"image": upload(catalogue_photo(product))}, format="multipart")
    in_stock = api.post(PHOTO_URL, {"image": upload(catalogue_photo(product)), "in_stock": "true"}, format="multipart")

    assert product.pk in found(everything.json()["results"][0])
    assert product.pk not in {pk for item in in_stock.json()["results"] for pk in found(item)}


def test_a_file_that_is_not_an_image_is_refused(api):
    text = io.BytesIO(b"name,price\nshirt,10\n")
    text.name = "shirt.jpg"

    response = api.post(PHOTO_URL, {"image": text}, format="multipart")

    assert response.status_code == 415
    assert "not a photo" in response.json()["detail"]


def test_photo_search_needs_a_photo(api):
    response = api.post(PHOTO_URL, {"k": 3}, format="multipart")

    assert response.status_code == 400
    assert response.json()["image"]


def test_photo_search_before_the_catalogue_is_analysed_says_how_far_it_is(api, embedded_catalogue):
    share = half_analysed(embedded_catalogue)

    response = api.post(PHOTO_URL, {"image": upload(catalogue_photo(with_image()))}, format="multipart")

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert response.json()["detail"].endswith(f"analysed ({int(share * 100)}% done).")
    assert response.json()["analysed_share"] == pytest.approx(share)


def test_plain_multipart_post_needs_no_csrf_token(embedded_catalogue, django_user_model):
    # As curl sends it; even a browser's admin session must not turn on Django's CSRF check.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(django_user_model.objects.create_user("editor", password="unused-password"))
    product = with_image()

    with catalogue_photo(product).open("rb") as photo:
        response = browser.post(PHOTO_URL, {"image": photo, "k": "2"})

    assert response.status_code == 200
    assert product.pk in found(response.json()["results"][0])


def test_searched_photos_are_kept_only_when_configured(api, embedded_catalogue, tmp_path):
    product = with_image()
    kept = tmp_path / "photo-searches"

    with override_settings(MEDIA_ROOT=tmp_path):
        assert api.post(PHOTO_URL, {"image": upload(catalogue_photo(product))}, format="multipart").status_code == 200
        assert not kept.exists()
        with override_settings(SEARCH_PHOTO_KEEP_UPLOADS=True):
            photo = upload(catalogue_photo(product), name="my selfie.JPG")
            assert api.post(PHOTO_URL, {"image": photo}, format="multipart").status_code == 200

    [photo] = [path for path in kept.rglob("*") if path.is_file()]
    assert photo.read_bytes() == catalogue_photo(product).read_bytes()
    assert photo.suffix == ".jpg"
    assert "selfie" not in photo.name


def test_photo_search_is_throttled_per_client(api, monkeypatch):
    # DRF copies the rates from the settings when it is imported.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"photo-search": "2/minute"})

    assert [api.post(PHOTO_URL, {}).status_code for _ in range(2)] == [400, 400]
    refused = api.post(PHOTO_URL, {})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    # Claiming another address does not help; another client is not affected, nor is the rest of the API.
    assert api.post(PHOTO_URL, {}, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    assert api.post(PHOTO_URL, {}, REMOTE_ADDR="198.51.100.7").status_code == 400
    assert api.get(LIST_URL).status_code == 200
