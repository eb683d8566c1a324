"""Checkout and orders, to and from JSON."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import phone_validator, postcode_validator
from cart.api.serializers import BagSerializer


class ShippingAddressSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=20, validators=[phone_validator])
    line1 = serializers.CharField(max_length=200, help_text="Street address.")
    line2 = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=100)
    postcode = serializers.CharField(max_length=12, validators=[postcode_validator], help_text="PIN code.")
    country = serializers.CharField(max_length=100, required=False, default="India")


class AddressSerializer(ShippingAddressSerializer):
    id = serializers.IntegerField()
    is_default = serializers.BooleanField()


class DeliveryOptionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="Rupees.")


class PaymentOptionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    available = serializers.BooleanField(help_text="Whether this bag may be paid for with it.")
    reason = serializers.CharField(help_text="Why not, when it is not available.")


class CheckoutOptionsSerializer(serializers.Serializer):
    bag = BagSerializer()
    addresses = AddressSerializer(many=True, help_text="The shopper's saved addresses, the default first.")
    delivery_methods = DeliveryOptionSerializer(many=True)
    payment_methods = PaymentOptionSerializer(many=True)


class CheckoutSerializer(serializers.Serializer):
    address_id = serializers.IntegerField(required=False, help_text="One of the shopper's saved addresses; or:")
    address = ShippingAddressSerializer(required=False, help_text="A new address (not saved unless `save_address`).")
    save_address = serializers.BooleanField(required=False, default=False)
    delivery = serializers.CharField(help_text="A delivery method's code (see GET).")
    payment = serializers.CharField(help_text="A payment method's code (see GET).")
    expected_total = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text="The total the shopper agreed to: when the bag or its prices have changed, no order is placed (409).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("address_id" in attrs) == ("address" in attrs):
            raise serializers.ValidationError({"address": "Give either address_id (a saved address) or address."})
        return attrs


class OrderLineSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product_id", allow_null=True, help_text="Null: no longer sold.")
    product_name = serializers.CharField()
    kind = serializers.CharField(source="size_kind")
    size = serializers.CharField(source="size_label")
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)


class PaymentSerializer(serializers.Serializer):
    method = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = serializers.CharField(help_text="pending (cash on delivery: to be collected), paid or cancelled.")


class OrderSerializer(serializers.Serializer):
    number = serializers.CharField()
    url = serializers.HyperlinkedIdentityField(view_name="api:order-detail", lookup_field="number")
    web_url = serializers.SerializerMethodField(help_text="The order's page in the storefront.")
    status = serializers.CharField(help_text="placed, shipped, delivered or cancelled.")
    placed_at = serializers.DateTimeField()
    email = serializers.EmailField()
    address = serializers.SerializerMethodField()
    delivery_method = serializers.CharField()
    delivery_label = serializers.CharField()
    payment_method = serializers.CharField()
    payment_label = serializers.CharField()
    lines = OrderLineSerializer(many=True)
    payments = PaymentSerializer(many=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    delivery_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)

    def get_web_url(self, order) -> str:
        return self.context["request"].build_absolute_uri(order.get_absolute_url())

    @extend_schema_field(ShippingAddressSerializer)
    def get_address(self, order) -> dict:
        return ShippingAddressSerializer(order).data
