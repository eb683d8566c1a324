"""Payment methods: a small registry of classes, listed in the ``ORDER_PAYMENT_METHODS`` setting (dotted paths).

A method says whether it can pay for a bag (and why not), records what placing an order with it means (inside the
order's transaction), and follows the order's status. The first method is cash on delivery; an online method would
start its provider's payment in ``place`` and confirm it from the provider's callback.
"""

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from cart.selectors import BagSummary

from .models import Order, Payment


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""  # why not, for the shopper


class PaymentMethod:
    code: str = ""
    label: str = ""
    description: str = ""

    def availability(self, bag: BagSummary) -> Availability:
        """Whether the bag may be paid for with this method."""
        return Availability(True)

    def place(self, order: Order) -> Payment:
        """What placing ``order`` with this method does, inside the order's transaction: at least its ``Payment``."""
        return Payment.objects.create(order=order, method=self.code, amount=order.total)

    def status_changed(self, order: Order, payment: Payment) -> None:
        """Follow the order's new status (``order.status``), inside the transaction that changed it."""


class CashOnDelivery(PaymentMethod):
    """Paid to the courier: offered when every product in the bag may be paid for on delivery (the data's
    ``codEnabled``); collected when the order is delivered, void when it is cancelled."""

    code = "cod"
    label = "Cash on delivery"
    description = "Pay the courier in cash when your order arrives."

    def availability(self, bag: BagSummary) -> Availability:
        excluded = [product.name or f"item {product.pk}" for product in bag.products if not product.cash_on_delivery]
        if excluded:
            return Availability(False, f"Cash on delivery is not offered for {', '.join(excluded)}.")
        return Availability(True)

    def status_changed(self, order: Order, payment: Payment) -> None:
        new = {Order.Status.DELIVERED: Payment.Status.PAID, Order.Status.CANCELLED: Payment.Status.CANCELLED}
        if order.status in new and payment.status == Payment.Status.PENDING:
            payment.status = new[order.status]
            payment.save(update_fields=["status", "updated_at"])


def payment_methods() -> dict[str, PaymentMethod]:
    """The methods offered, by code, in the setting's order."""
    return _load(tuple(settings.ORDER_PAYMENT_METHODS))


def payment_method(code: str) -> PaymentMethod | None:
    return payment_methods().get(code)


@cache
def _load(paths: tuple[str, ...]) -> dict[str, PaymentMethod]:
    methods = [import_string(path)() for path in paths]
    return {method.code: method for method in methods}
