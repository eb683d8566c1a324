"""Events sent by a headless front end, checked before anything is logged."""

from typing import Any

from rest_framework import serializers

from shop.models import Product

from ..models import Event
from ..receivers import LIST_ID, MAX_POSITION

# What a front end reports; carts, wishlists, purchases and photo searches are logged by the API calls that make them.
CLIENT_KINDS = [Event.Kind.VIEW, Event.Kind.IMPRESSION, Event.Kind.CLICK, Event.Kind.SEARCH]
MAX_LIST_LENGTH = 200


class EventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(kind.value, kind.label) for kind in CLIENT_KINDS])
    product = serializers.IntegerField(required=False, help_text="The product viewed or clicked.")
    product_ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        max_length=MAX_LIST_LENGTH,
        help_text="An impression's products, in the order shown.",
    )
    list_id = serializers.RegexField(
        LIST_ID, required=False, help_text="The list's id (32 hex digits): the one an API list answer gave."
    )
    placement = serializers.CharField(required=False, max_length=64, help_text="Where the list was shown.")
    strategy = serializers.CharField(required=False, max_length=64, help_text="What chose the list.")
    position = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_POSITION, help_text="A click's place in its list, from 1."
    )
    query = serializers.CharField(required=False, max_length=200, help_text="A search's words.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        needs = {
            Event.Kind.VIEW: ["product"],
            Event.Kind.CLICK: ["product", "list_id"],
            Event.Kind.IMPRESSION: ["product_ids", "list_id"],
            Event.Kind.SEARCH: ["query"],
        }[kind]
        missing = [name for name in needs if not attrs.get(name)]
        if missing:
            raise serializers.ValidationError({name: f"A {kind} event needs it." for name in missing})
        wanted = {*attrs.get("product_ids", []), *([attrs["product"]] if "product" in attrs else [])}
        known = set(Product.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        unknown = sorted(wanted - known)
        if unknown:
            field = "product" if attrs.get("product") in unknown else "product_ids"
            raise serializers.ValidationError({field: f"No such product: {', '.join(map(str, unknown))}."})
        return attrs


def event_fields(validated: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A validated event as ``services.record_event`` takes it: its kind, and its fields."""
    fields = dict(validated)
    if "product" in fields:
        fields["product_id"] = fields.pop("product")
    return fields.pop("kind"), fields
