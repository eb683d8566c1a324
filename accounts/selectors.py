from django.db.models import QuerySet

from .models import Address


def addresses_of(user) -> QuerySet[Address]:
    """The shopper's addresses, the default first."""
    return Address.objects.filter(user=user)


def address_of(user, pk: object) -> Address | None:
    """One of the shopper's addresses (None: not theirs, or no such address)."""
    if isinstance(pk, bool) or not isinstance(pk, int) or not 0 < pk < 2**63:
        return None
    return Address.objects.filter(user=user, pk=pk).first()
