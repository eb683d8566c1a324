"""The REST API under /api/, against the sample of the real catalogue (see conftest)."""

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db.models import F
from django.test import Client, override_settings
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from PIL import Image
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors.selectors import similar_products
from shop.models import Product

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:product-list")
PHOTO_URL = reverse("api:photo-search")
SIMILAR_FIELDS = {"id", "url", "score", "similarity", "name", "gender", "article_type", "base_colour", "image"}
SIMILAR_FIELDS |= {"image_width", "image_height", "price", "stock", "reasons", "duplicates"}


@pytest.fixture(autouse=True)
def empty_cache():
    # Throttling counts requests in the cache; so does nothing else the API reads.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def detail_url(product: Product) -> str:
    return reverse("api:product-detail", args=[product.pk])


def similar_url(product: Product) -> str:
    return reverse("api:product-similar", args=[product.pk])


def absolute(path: str) -> str:
    return f"http://testserver{path}"


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def all_ids(api: APIClient, params: dict) -> list[int]:
    """Every result of a listing, through all of its pages."""
    found = []
    url = LIST_URL
    response = api.get(url, {**params, "page_size": 100})
    while True:
        assert response.status_code == 200
        found += ids(response)
        if not response.json()["next"]:
            return found
        response = api.get(response.json()["next"])


def with_image(**filters) -> Product:
    return Product.objects.exclude(image="").filter(**filters).order_by("pk").first()


def catalogue_photo(product: Product) -> Path:
    return Path(settings.CATALOG_DATASET_DIR) / "images" / f"{product.pk}.jpg"


def upload(path: Path, name: str = "") -> io.BytesIO:
    photo = io.BytesIO(path.read_bytes())
    photo.name = name or path.name
    return photo


def png(image: Image.Image, name: str = "photo.png") -> io.BytesIO:
    photo = io.BytesIO()
    image.save(photo, format="PNG")
    photo.seek(0)
    photo.name = name
    return photo


def words(query: str) -> SearchQuery:
    return SearchQuery(query, search_type="websearch", config="english")


def found(item: dict) -> set[int]:
    """The products a result stands for: itself and its duplicates."""
    return {item["id"], *item["duplicates"]}


# Listing


def test_list_pages_through_newest_products_first(api):
    response = api.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == Product.objects.count()
    newest = list(Product.objects.order_by("-id").values_list("pk", flat=True)[: settings.SHOP_PAGE_SIZE])
    assert ids(response) == newest
    assert body["previous"] is None
    assert body["next"] == absolute(f"{LIST_URL}?page=2")
    second = api.get(body["next"]).json()
    assert ids(api.get(LIST_URL, {"page": 2})) == [item["id"] for item in second["results"]]
    assert not set(ids(response)) & {item["id"] for item in second["results"]}


def test_list_cards_have_absolute_links_and_card_fields(api):
    product = with_image()
    Product.objects.filter(pk=product.pk).update(price=Decimal("19.90"), stock=3)

    [card] = api.get(LIST_URL, {"q": str(product.pk)}).json()["results"]

    assert card == {
        "id": product.pk,
        "url": absolute(detail_url(product)),
        "name": product.name,
        "article_type": product.article_type,
        "base_colour": product.base_colour,
        "image": absolute(product.image.url),
        "image_width": product.image_width,
        "image_height": product.image_height,
        "price": "19.90",
        "stock": 3,
    }


def test_page_size_is_chosen_by_the_client_up_to_a_limit(api):
    first = ids(api.get(LIST_URL, {"page_size": 5}))
    second = ids(api.get(LIST_URL, {"page_size": 5, "page": 2}))

    assert first + second == list(Product.objects.order_by("-id").values_list("pk", flat=True)[:10])
    assert len(ids(api.get(LIST_URL, {"page_size": 1000}))) == 100


def test_page_beyond_the_end_is_not_found(api):
    last = -(-Product.objects.count() // 100)

    assert api.get(LIST_URL, {"page_size": 100, "page": last}).status_code == 200
    assert api.get(LIST_URL, {"page_size": 100, "page": last + 1}).status_code == 404


def test_filters_accept_several_values_of_a_facet(api):
    params = {"gender": ["Women", "Girls"], "master_category": "Apparel"}

    found_ids = all_ids(api, params)

    expected = Product.objects.filter(gender__in=["Women", "Girls"], master_category="Apparel")
    assert expected.filter(gender="Girls").exists()
    assert sorted(found_ids) == sorted(expected.values_list("pk", flat=True))
    assert api.get(LIST_URL, params).json()["count"] == expected.count()


def test_unknown_filter_value_matches_nothing(api):
    body = api.get(LIST_URL, {"gender": "Martians"}).json()

    assert body["count"] == 0
    assert body["results"] == []


def test_blank_filter_values_are_ignored(api):
    # What an HTML form sends for an unselected choice.
    response = api.get(LIST_URL, {"gender": ["", "Boys"], "season": ""})

    assert response.status_code == 200
    assert response.json()["count"] == Product.objects.filter(gender="Boys").count() > 0


def test_search_finds_products_by_the_words_of_their_names(api):
    query = "watch"
    expected = Product.objects.filter(search_vector=words(query))
    assert 0 < expected.count() < Product.objects.count()

    found_ids = all_ids(api, {"q": f"  {query} "})

    assert sorted(found_ids) == sorted(expected.values_list("pk", flat=True))


def test_search_sorts_by_relevance_unless_told_otherwise(api):
    query = words("blue shirt")
    matches = Product.objects.filter(search_vector=query)
    by_relevance = matches.annotate(rank=SearchRank(F("search_vector"), query)).order_by("-rank", "-id")
    assert matches.count() > 10

    found_by_relevance = ids(api.get(LIST_URL, {"q": "blue shirt", "page_size": 100}))
    found_by_name = ids(api.get(LIST_URL, {"q": "blue shirt", "sort": "name", "page_size": 100}))

    assert found_by_relevance == list(by_relevance.values_list("pk", flat=True)[:100])
    assert found_by_name == list(matches.order_by("name", "-id").values_list("pk", flat=True)[:100])
    assert found_by_relevance != found_by_name


def test_search_works_together_with_filters(api):
    found_ids = all_ids(api, {"q": "shirt", "gender": "Women"})

    assert found_ids
    assert set(Product.objects.filter(pk__in=found_ids).values_list("gender", flat=True)) == {"Women"}
    assert len(found_ids) < len(all_ids(api, {"q": "shirt"}))


def test_search_by_id_finds_that_product(api):
    product = Product.objects.order_by("pk")[10]

    assert ids(api.get(LIST_URL, {"q": str(product.pk)})) == [product.pk]


def test_sort_by_name(api):
    names = [item["name"] for item in api.get(LIST_URL, {"sort": "name", "gender": "Men"}).json()["results"]]

    expected = Product.objects.filter(gender="Men").order_by("name", "-id").values_list("name", flat=True)
    assert names == list(expected[: settings.SHOP_PAGE_SIZE])


@pytest.mark.parametrize(
    "params, field",
    [({"sort": "price"}, "sort"), ({"sort": "relevance"}, "sort"), ({"sort": "relevance", "q": "   "}, "sort")],
)
def test_invalid_sort_is_refused_with_a_reason(api, params, field):
    response = api.get(LIST_URL, params)

    assert response.status_code == 400
    assert response.json()[field]


# Detail


def test_detail_has_every_attribute(api):
    product = with_image(season__isnull=False, usage__isnull=False)
    Product.objects.filter(pk=product.pk).update(price=Decimal("49.00"), stock=0)
    product.refresh_from_db()

    response = api.get(detail_url(product))

    assert response.status_code == 200
    body = response.json()
    for name in ("name", "gender", "master_category", "sub_category", "article_type", "base_colour"):
        assert body[name] == getattr(product, name)
    assert (body["season"], body["year"], body["usage"]) == (product.season, product.year, product.usage)
    assert body["id"] == product.pk
    assert body["url"] == absolute(detail_url(product))
    assert body["web_url"] == absolute(product.get_absolute_url())
    assert body["similar"] == absolute(similar_url(product))
    assert body["image"] == absolute(product.image.url)
    assert (body["image_width"], body["image_height"]) == (product.image_width, product.image_height)
    assert (body["price"], body["stock"], body["in_stock"]) == ("49.00", 0, False)


def test_detail_of_a_product_without_image_or_stock(api):
    product = Product.objects.create(name="Plain tote", gender="Unisex")

    body = api.get(detail_url(product)).json()

    assert body["name"] == "Plain tote"
    assert body["image"] is None
    assert (body["price"], body["stock"], body["in_stock"]) == (None, None, None)


def test_unknown_product_is_not_found(api):
    missing = Product.objects.order_by("-pk").first().pk + 1

    assert api.get(reverse("api:product-detail", args=[missing])).status_code == 404
    assert api.get(reverse("api:product-similar", args=[missing])).status_code == 404


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

    # A product whose look-alikes are not all of its own gender (or sub-category) to begin with.
    product = next(filter(mixed, Product.objects.exclude(image="").order_by("pk")[:50]))

    narrowed = ids(api.get(similar_url(product), {"k": 20, option: "true"}))

    assert len(narrowed) == 20
    assert set(Product.objects.filter(pk__in=narrowed).values_list(field, flat=True)) == {getattr(product, field)}


def test_similar_items_in_stock_only(api, embedded_catalogue):
    product = with_image(article_type="Watches")
    best = ids(api.get(similar_url(product), {"k": 3}))[0]
    Product.objects.filter(pk=best).update(stock=0)

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


def test_a_full_size_photo_finds_its_product(api, embedded_catalogue):
    hires = Path(settings.CATALOG_DATASET_DIR).parent / "fashion-product-images-hires"
    in_sample = Product.objects.filter(pk__in=[int(path.stem) for path in hires.glob("*.jpg")]).exclude(image="")
    products = list(in_sample.order_by("pk")[:5])
    assert products, "none of the full-size photos is of a product in the test sample"

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
    Product.objects.filter(pk=product.pk).update(stock=0)

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


# Schema and documentation


def test_schema_is_valid_openapi_describing_the_routes(api):
    response = api.get(reverse("api:schema"), {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    paths = schema["paths"]
    assert {"/api/products/", "/api/products/{id}/", "/api/products/{id}/similar/", "/api/search/photo/"} <= set(paths)
    list_params = {param["name"] for param in paths["/api/products/"]["get"]["parameters"]}
    assert {"q", "sort", "page", "page_size", "gender", "article_type", "base_colour"} <= list_params
    similar_params = {param["name"]: param for param in paths["/api/products/{id}/similar/"]["get"]["parameters"]}
    assert similar_params["k"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert {"same_gender", "same_category", "in_stock"} <= set(similar_params)
    photo = paths["/api/search/photo/"]["post"]
    body = photo["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][body]["properties"]
    assert fields["image"]["format"] == "binary"
    assert {"k", "crop_left", "crop_top", "crop_width", "crop_height", "gender", "in_stock"} <= set(fields)
    assert {"200", "400", "413", "415", "429"} <= set(photo["responses"])


def test_docs_load_only_local_assets(api):
    response = api.get(reverse("api:docs"))

    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("api:schema") in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL), asset
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), asset
    assert "://" not in html
