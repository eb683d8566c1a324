"""The catalogue's API parameters and products, to and from JSON."""

from typing import Any

from rest_framework import serializers

from shop.catalog_json import sanitise_description
from shop.models import FACET_FIELDS, Product, Sku
from shop.selectors import CARD_FIELDS, FACET_NAMES, ProductFilters
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
        prices = {
            name: serializers.DecimalField(
                max_digits=10, decimal_places=2, min_value=0, required=False, help_text=f"{label} price, in rupees."
            )
            for name, label in (("price_min", "Lowest"), ("price_max", "Highest"))
        }
        return facets | prices | super().get_fields()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.pop("price_min", None), attrs.pop("price_max", None)
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"price_max": "The highest price must not be below the lowest."})
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
        fields = ["url", *CARD_FIELDS]  # what the storefront's cards show
        read_only_fields = fields


class SkuSerializer(serializers.ModelSerializer):
    available = serializers.BooleanField(read_only=True, help_text="Whether this size can be bought now.")

    class Meta:
        model = Sku
        fields = ["id", "kind", "label", "stock", "available"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:product-detail")
    similar = serializers.HyperlinkedIdentityField(
        view_name="api:product-similar", help_text="The items that look most like this one."
    )
    web_url = serializers.SerializerMethodField(help_text="The product's page in the storefront.")
    brand = serializers.CharField(source="brand.name", allow_null=True, default=None)
    discount_percent = serializers.IntegerField(help_text="Whole percent off the list price; 0 without a discount.")
    sizes = SkuSerializer(source="skus", many=True, help_text="Each size, with its stock (null: not tracked).")
    description = serializers.SerializerMethodField(
        help_text="The merchant's description: HTML with paragraphs, line breaks, emphasis and lists only."
    )
    colours = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="Ids of the same style in other colours."
    )

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
            "brand",
            "price",
            "list_price",
            "discount_percent",
            "cash_on_delivery",
            "in_stock",
            "description",
            "attributes",
            "age_group",
            "sizes",
            "colours",
            "added_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_description(self, product: Product) -> str:
        # Sanitised again as it leaves, as on the product page, whatever wrote it to the database.
        return sanitise_description(product.description)

    def get_web_url(self, product: Product) -> str:
        return self.context["request"].build_absolute_uri(product.get_absolute_url())
