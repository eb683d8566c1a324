import re

from django import forms

# The attribution id of the listing or recommendation a product page was opened from (``?lid=``): hex.
LIST_ID = re.compile(r"^[0-9a-fA-F]{1,64}\Z")


def clean_list_id(value: object) -> str | None:
    """A well-formed ``lid``, or None: a malformed one is dropped, never held against the shopper."""
    return value.lower() if isinstance(value, str) and LIST_ID.fullmatch(value) else None


class AddToCartForm(forms.Form):
    product = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    sku = forms.IntegerField(min_value=1, error_messages={"required": "Choose a size.", "invalid": "Choose a size."})
    quantity = forms.IntegerField(
        required=False, error_messages={"invalid": "The quantity must be a whole number."}, widget=forms.NumberInput
    )
    lid = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    pos = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def clean_quantity(self) -> int:
        quantity = self.cleaned_data.get("quantity")
        return 1 if quantity is None else quantity

    def clean_lid(self) -> str | None:
        return clean_list_id(self.cleaned_data.get("lid"))


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(
        error_messages={"required": "Enter a quantity.", "invalid": "The quantity must be a whole number."}
    )
