from django import forms

from accounts.forms import ADDRESS_FIELDS, AddressForm
from accounts.models import Address

from .delivery import delivery_methods
from .payments import payment_methods
from .services import ShippingAddress

NEW = "new"


class NewAddressForm(AddressForm):
    class Meta(AddressForm.Meta):
        fields = ADDRESS_FIELDS


class CheckoutForm(forms.Form):
    """Where to, how fast and how to pay; a new address comes in ``address_form`` (fields prefixed ``new-``)."""

    address = forms.ChoiceField(
        error_messages={"required": "Choose a delivery address.", "invalid_choice": "Choose one of your addresses."}
    )
    save_address = forms.BooleanField(required=False, initial=True, label="Save this address to my account")
    delivery = forms.ChoiceField(
        error_messages={"required": "Choose a delivery method.", "invalid_choice": "Choose a delivery method."}
    )
    payment = forms.ChoiceField(
        error_messages={"required": "Choose a payment method.", "invalid_choice": "Choose a payment method."}
    )
    # The subtotal the shopper was shown: when the bag or its prices change meanwhile, the order is not placed.
    expected_subtotal = forms.DecimalField(required=False, max_digits=14, decimal_places=2, widget=forms.HiddenInput)

    def __init__(self, data=None, *, addresses: list[Address], **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.addresses = {str(address.pk): address for address in addresses}
        self.fields["address"].choices = [*((pk, str(a)) for pk, a in self.addresses.items()), (NEW, "A new address")]
        self.fields["address"].initial = next(iter(self.addresses), NEW)
        self.fields["delivery"].choices = [(code, method.label) for code, method in delivery_methods().items()]
        self.fields["delivery"].initial = next(iter(delivery_methods()))
        self.fields["payment"].choices = [(code, method.label) for code, method in payment_methods().items()]
        self.address_form = NewAddressForm(data, prefix="new")

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if self.cleaned_data.get("address") == NEW or (self.is_bound and not self.addresses):
            valid = self.address_form.is_valid() and valid
        return valid

    @property
    def new_address(self) -> bool:
        return self.cleaned_data["address"] == NEW

    def shipping_address(self) -> ShippingAddress:
        if self.new_address:
            data = self.address_form.cleaned_data
            return ShippingAddress(**{name: data[name] for name in ADDRESS_FIELDS})
        return ShippingAddress.from_address(self.addresses[self.cleaned_data["address"]])
