"""Parameters and results of similar items and search by photo, to and from JSON."""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from recommendations.photos import Crop, PhotoError
from recommendations.selectors import SimilarOptions
from shop.api.serializers import FacetFiltersSerializer

MAX_RESULTS = 100
CROP_SIDES = ("left", "top", "width", "height")


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

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        box = [attrs.pop(f"crop_{side}", None) for side in CROP_SIDES]
        if all(value is None for value in box):
            return attrs | {"crop": None}
        if any(value is None for value in box):
            raise serializers.ValidationError(
                {"crop": "Send all four crop fields (crop_left, crop_top, crop_width, crop_height) or none."}
            )
        try:
            return attrs | {"crop": Crop(*box)}
        except PhotoError as error:
            raise serializers.ValidationError({"crop": error.message}) from error


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
    stock = serializers.IntegerField(source="product.stock", allow_null=True)
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="What else it shares with the product, e.g. “Same colour”."
    )
    duplicates = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of products with the same or a nearly identical image."
    )


class SimilarResultsSerializer(serializers.Serializer):
    results = SimilarItemSerializer(many=True, help_text="Best first.")
    detail = serializers.CharField(required=False, help_text="Why there are no results, when that is known.")
