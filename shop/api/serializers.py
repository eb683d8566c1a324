"""The catalogue's API parameters and products, to and from JSON."""

from typing import Any

from rest_framework import serializers

from shop.models import FACET_FIELDS, Product
from shop.selectors import FACET_NAMES, ProductFilters
from shop.views import MAX_QUERY_LENGTH, SORT_LABELS

FACET_HELP = "{label}. Repeat the parameter to accept any of several values; values no product has match nothing."


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What is wrong, written for people.")


class FacetFiltersSerializer(serializers.Serializer):
    """The listing page's facet filters; validated data has them as ``filters`` (a ``ProductFilters``)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        facets = {
            name: serializers.ListField(
                child=serializers.CharField(allow_blank=True), required=False, help_text=FACET_HELP.format(label=label)
            )
            for name, label in FACET_FIELDS
        }
        return facets | super().get_fields()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Parsed as on the listing page, which also drops values too long for any product to have.
        filters = ProductFilters.from_querydict(self.initial_data)
        return {name: value for name, value in attrs.items() if name not in FACET_NAMES} | {"filters": filters}


class ProductListParamsSerializer(FacetFiltersSerializer):
    q = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"Search: a product id, words of product names, or a near spelling of them. "
        f"Only the first {MAX_QUERY_LENGTH} characters count.",
    )
    sort = serializers.ChoiceField(
        choices=list(SORT_LABELS),
        required=False,
        help_text="Default: relevance when searching (`q`), else newest. Relevance needs a search.",
    )

    def validate_q(self, value: str) -> str:
        # As the storefront's search box: runs of whitespace are one space, and blank is no search at all.
        return " ".join(value.split())[:MAX_QUERY_LENGTH]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        default_sort = "relevance" if attrs["q"] else "newest"
        attrs.setdefault("sort", default_sort)
        if attrs["sort"] == "relevance" and not attrs["q"]:
            raise serializers.ValidationError({"sort": "Sorting by relevance needs a search query (q)."})
        return attrs


class ProductCardSerializer(serializers.ModelSerializer):
    """A product as listings show it."""

    url = serializers.HyperlinkedIdentityField(view_name="api:product-detail")

    class Meta:
        model = Product
        fields = [
            "id",
            "url",
            "name",
            "article_type",
            "base_colour",
            "image",
            "image_width",
            "image_height",
            "price",
            "stock",
        ]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:product-detail")
    similar = serializers.HyperlinkedIdentityField(
        view_name="api:product-similar", help_text="The items that look most like this one."
    )
    web_url = serializers.SerializerMethodField(help_text="The product's page in the storefront.")
    in_stock = serializers.BooleanField(allow_null=True, read_only=True, help_text="Null when stock is not tracked.")

    class Meta:
        model = Product
        fields = [
            "id",
            "url",
            "web_url",
            "similar",
            "name",
            "gender",
            "master_category",
            "sub_category",
            "article_type",
            "base_colour",
            "season",
            "year",
            "usage",
            "image",
            "image_width",
            "image_height",
            "price",
            "stock",
            "in_stock",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_web_url(self, product: Product) -> str:
        return self.context["request"].build_absolute_uri(product.get_absolute_url())
