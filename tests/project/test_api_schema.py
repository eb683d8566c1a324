"""The API's OpenAPI schema and its documentation pages."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


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
