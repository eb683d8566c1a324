"""Parameters and results of the recommendations API, to and from JSON."""

from django.conf import settings
from rest_framework import serializers

from recommendations.api.serializers import SimilarItemSerializer

MAX_LIMIT = 50


class ListParamsSerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_LIMIT,
        required=False,
        help_text=f"How many products, 1 to {MAX_LIMIT}; default `PERSONALIZATION_LIST_SIZE` "
        f"({settings.PERSONALIZATION_LIST_SIZE}).",
    )
    gender = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="The page's gender: that gender's and unisex products only. Absent: the product's, else the "
        "one most of the visitor's recent views were in; empty: no segment.",
    )


class SegmentParamsSerializer(ListParamsSerializer):
    category = serializers.CharField(
        required=False, max_length=64, help_text="A master category (e.g. Footwear): trending within it."
    )


class StrategyParamsSerializer(SegmentParamsSerializer):
    product = serializers.IntegerField(
        required=False, help_text="The product page's product: the seed of item-to-item strategies."
    )


class RecommendedItemSerializer(SimilarItemSerializer):
    """A recommended product, in the shape of a similar item, with the reason it was chosen."""

    score = serializers.FloatField(help_text="What the strategy ranked by, highest first; its scale is its own.")
    reason = serializers.CharField(help_text="Why it is recommended, for people, e.g. “Trending in Women”.")
    similarity = serializers.FloatField(allow_null=True, help_text="Null: the list is not chosen by image.")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="The reason, as a list.")
    duplicates = serializers.ListField(child=serializers.IntegerField(), help_text="Empty here.")


class RecommendedListSerializer(serializers.Serializer):
    list_id = serializers.CharField(
        help_text="This list's id: send it back with the events of its products (POST /api/events/), so that "
        "clicks, carts and purchases are credited to it. A list with results is logged as shown."
    )
    strategy = serializers.CharField(
        help_text="What chose the list, as logged, e.g. `trending: Women`; a fallback's when it stood in."
    )
    placement = serializers.CharField(help_text="Where the list is logged as shown: `api: <strategy name>`.")
    results = RecommendedItemSerializer(many=True, help_text="Best first; empty when the strategy has nothing.")


class StrategySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The registry's name: GET /api/recommendations/<name>/.")
    label = serializers.CharField(help_text="What the log's `strategy` field says of its lists.")
    needs = serializers.ListField(
        child=serializers.ChoiceField(choices=["visitor", "product", "cart"]),
        help_text="What it recommends from: the visitor's history (the cookie), a `product`, the visitor's cart. "
        "Empty: nothing (the same for everyone).",
    )
    url = serializers.URLField(help_text="Its route.")


class StrategiesSerializer(serializers.Serializer):
    results = StrategySerializer(many=True)
