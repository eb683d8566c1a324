"""Bags and wishlists, to and from JSON."""

from rest_framework import serializers

from ..forms import LIST_ID


class BagProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.HyperlinkedIdentityField(view_name="api:product-detail")
    name = serializers.CharField(allow_null=True)
    brand = serializers.CharField(source="brand.name", allow_null=True, default=None)
    image = serializers.ImageField(allow_null=True)
    cash_on_delivery = serializers.BooleanField(help_text="Whether it may be paid for on delivery.")


class BagLineSerializer(serializers.Serializer):
    sku = serializers.IntegerField(source="sku.pk", help_text="The size's id: the line's key.")
    kind = serializers.CharField(source="sku.kind", help_text='e.g. "Size".')
    size = serializers.CharField(source="sku.label", help_text='e.g. "M" or "40".')
    product = BagProductSerializer()
    quantity = serializers.IntegerField()
    max_quantity = serializers.IntegerField(help_text="The most this line may be raised to.")
    unit_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text="Rupees; null: the product has no price."
    )
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    problem = serializers.CharField(
        source="problem.message",
        allow_null=True,
        default=None,
        help_text="Why the line cannot be bought as it is (sold out, too few left, no price); null: it can.",
    )


class BagSerializer(serializers.Serializer):
    lines = BagLineSerializer(source="items", many=True)
    count = serializers.IntegerField(help_text="Units in the bag.")
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Rupees, before delivery.")


class AddLineSerializer(serializers.Serializer):
    sku = serializers.IntegerField(help_text="The size's id (a product's `sizes[].id`).")
    quantity = serializers.IntegerField(required=False, default=1, help_text="Units to add; default 1.")
    list_id = serializers.RegexField(
        LIST_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text="The attribution id of the listing or recommendation the product was reached from (hex).",
    )


class QuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(help_text="The line's new number of units, 1 or more.")


class WishlistAddSerializer(serializers.Serializer):
    product = serializers.IntegerField(help_text="The product's id.")
