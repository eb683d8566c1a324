from django.db.models import Prefetch, QuerySet

from .models import Order, OrderLine


def orders_of(user) -> QuerySet[Order]:
    """The shopper's orders, the newest first, with their lines."""
    return Order.objects.filter(user=user).prefetch_related(Prefetch("lines", queryset=OrderLine.objects.all()))


def order_of(user, number: str) -> Order | None:
    """One of the shopper's orders by its number (None: not theirs, or no such order)."""
    return orders_of(user).prefetch_related("payments", "status_changes").filter(number=number).first()
