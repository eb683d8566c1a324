"""Writes to shoppers' addresses. One address of a shopper at most is the default: the first one saved becomes it."""

from django.db import transaction

from .models import Address


def save_address(address: Address, *, make_default: bool | None = None) -> Address:
    """Create or update ``address`` (its fields set by the caller, e.g. a validated ``AddressForm``). ``make_default``
    True makes it the shopper's default, False takes that away; None keeps ``address.is_default`` as it is, except
    that a shopper's first address is always the default."""
    with transaction.atomic():
        others = Address.objects.select_for_update().filter(user=address.user).exclude(pk=address.pk)
        others = list(others)  # lock the shopper's addresses: two saves never both become the default
        if make_default is not None:
            address.is_default = make_default
        if not others:
            address.is_default = True
        if address.is_default:
            Address.objects.filter(pk__in=[other.pk for other in others], is_default=True).update(is_default=False)
        address.full_clean()
        address.save()
    return address


def delete_address(address: Address) -> None:
    """Delete it; when it was the default, the newest other address becomes the default."""
    with transaction.atomic():
        address.delete()
        if address.is_default:
            newest = Address.objects.select_for_update().filter(user=address.user).order_by("-created_at").first()
            if newest is not None:
                newest.is_default = True
                newest.save(update_fields=["is_default"])
