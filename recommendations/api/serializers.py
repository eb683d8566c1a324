"""Parameters and results of similar items and search by photo, to and from JSON."""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from recommendations.photo_search.services import CROP_FIELDS, PhotoSearch
from recommendations.vectors.neighbours import Scope
from recommendations.vectors.selectors import SimilarOptions
from shop.api.serializers import FacetFiltersSerializer

MAX_RESULTS = 100


def results_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=MAX_RESULTS,
        required=False,
        help_text=f"How many items to return, 1 to {MAX_RESULTS}; default {settings.SIMILAR_ITEMS_COUNT}.",
    )


class SimilarParamsSerializer(serializers.Serializer):
    k = results_field()
    same_gender = serializers.BooleanField(required=False, default=False, help_text="Only items of its gender.")
    same_category = serializers.BooleanField(required=False, default=False, help_text="Only items of its sub-category.")
    in_stock = serializers.BooleanField(
        required=False, default=False, help_text="Only items in stock (or whose stock is not tracked)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        options = SimilarOptions(
            same_gender=attrs.pop("same_gender"),
            same_category=attrs.pop("same_category"),
            in_stock=attrs.pop("in_stock"),
        )
        return attrs | {"options": options}


class PhotoSearchSerializer(FacetFiltersSerializer):
    """A photo to search with, and what to narrow the results to."""

    image = serializers.FileField(help_text="The photo: JPEG, PNG, WebP, GIF, BMP or TIFF.")
    k = results_field()
    crop_left = serializers.FloatField(required=False, help_text="Left edge of the crop, 0 to 1 of the width.")
    crop_top = serializers.FloatField(required=False, help_text="Top edge of the crop, 0 to 1 of the height.")
    crop_width = serializers.FloatField(required=False, help_text="Width of the crop, 0 to 1 of the photo's width.")
    crop_height = serializers.FloatField(
        required=False, help_text="Height of the crop, 0 to 1 of the photo's height. Send all four crop fields or none."
    )
    in_stock = serializers.BooleanField(
        required=False, default=False, help_text="Only products in stock (or whose stock is not tracked)."
    )

    def photo_search(self) -> PhotoSearch:
        """The search the valid request asks for; the photo and the crop box are checked by the search."""
        data = self.validated_data
        return PhotoSearch(
            upload=data["image"],
            crop_sides=[data.get(name) for name in CROP_FIELDS],
            scope=Scope(filters=data["filters"], in_stock=data["in_stock"]),
            k=data.get("k"),
        )


class SimilarItemSerializer(serializers.Serializer):
    """A product that looks alike, standing also for the products with the same image (``duplicates``)."""

    id = serializers.IntegerField(source="product.pk")
    url = serializers.HyperlinkedRelatedField(source="product", view_name="api:product-detail", read_only=True)
    score = serializers.FloatField(help_text="What the results are ordered by, highest first.")
    similarity = serializers.FloatField(help_text="Cosine similarity of the images: 1 for the same picture.")
    name = serializers.CharField(source="product.name", allow_null=True)
    gender = serializers.CharField(source="product.gender", allow_null=True)
    article_type = serializers.CharField(source="product.article_type", allow_null=True)
    base_colour = serializers.CharField(source="product.base_colour", allow_null=True)
    image = serializers.ImageField(source="product.image", allow_null=True)
    image_width = serializers.IntegerField(source="product.image_width", allow_null=True)
    image_height = serializers.IntegerField(source="product.image_height", allow_null=True)
    price = serializers.DecimalField(source="product.price", max_digits=10, decimal_places=2, allow_null=True)
    list_price = serializers.DecimalField(source="product.list_price", max_digits=10, decimal_places=2, allow_null=True)
    in_stock = serializers.BooleanField(source="product.in_stock")
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="What else it shares with the product, e.g. “Same colour”."
    )
    duplicates = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of products with the same or a nearly identical image."
    )


class SimilarResultsSerializer(serializers.Serializer):
    results = SimilarItemSerializer(many=True, help_text="Best first.")
    detail = serializers.CharField(required=False, help_text="Why there are no results, when that is known.")
    list_id = serializers.CharField(
        required=False,
        help_text="This list's id: send it back with the events of its products (POST /api/events/), so that "
        "clicks, carts and purchases are credited to it.",
    )
    analysed_share = serializers.FloatField(
        required=False,
        help_text="While the catalogue's photos are being analysed (no results yet): the share done, 0 to 1.",
    )
