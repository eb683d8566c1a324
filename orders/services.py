"""Placing orders, and their status workflow.

An order is placed in one transaction: the bag is locked (a second submission finds it empty), the stock of every
size is reserved (``shop.services.reserve_stock``, which locks the sizes, so that concurrent checkouts of the last
unit take turns and only the first gets it), the order is written with copies of names, sizes and prices, the
payment method records its payment, and the bag is emptied. The confirmation e-mail and ``order_placed`` go out once
it has been committed.
"""

import logging
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string

from cart import rules
from cart.models import Cart
from cart.selectors import BagSummary, bag_summary
from cart.services import clear_cart
from shop.models import Sku
from shop.services import InsufficientStock, Shortage, release_stock, reserve_stock
from shop.templatetags.shop_tags import rupees

from .delivery import delivery_method, delivery_methods
from .models import Order, OrderLine, StatusChange
from .payments import payment_method, payment_methods
from .signals import order_placed

logger = logging.getLogger(__name__)

# Order numbers: no 0/O or 1/I, so that they can be read out over the phone.
NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
EMPTY_BAG = "Your bag is empty."
KEPT = "Your bag has been kept: change it and place the order again."

TRANSITIONS: dict[str, tuple[str, ...]] = {
    Order.Status.PLACED: (Order.Status.SHIPPED, Order.Status.CANCELLED),
    Order.Status.SHIPPED: (Order.Status.DELIVERED, Order.Status.CANCELLED),
    Order.Status.DELIVERED: (),
    Order.Status.CANCELLED: (),
}


class CheckoutError(Exception):
    """The order cannot be placed; ``message`` says why, for the shopper, and nothing was changed. ``field`` names
    the input it is about (None: the bag or the request as a whole); ``status`` is the HTTP status that answers it
    (409: the bag or the stock changed under the shopper)."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


class OrderStatusError(Exception):
    """A status the order cannot be given from the one it has."""


@dataclass(frozen=True)
class ShippingAddress:
    full_name: str
    phone: str
    line1: str
    city: str
    state: str
    postcode: str
    country: str = "India"
    line2: str = ""

    @classmethod
    def from_address(cls, address) -> "ShippingAddress":
        """From a saved ``accounts.models.Address`` (or anything with the same fields)."""
        return cls(**{name: getattr(address, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Quote:
    subtotal: Decimal
    delivery_price: Decimal
    total: Decimal


def quote(bag: BagSummary, delivery_code: str | None) -> Quote:
    """What the bag costs with a delivery method (the first one when the code is unknown or None)."""
    methods = delivery_methods()
    method = methods.get(delivery_code or "") or next(iter(methods.values()))
    return Quote(bag.subtotal, method.price, bag.subtotal + method.price)


def place_order(
    *,
    user,
    cart: Cart | None,
    address: ShippingAddress,
    delivery: str,
    payment: str,
    expected_subtotal: Decimal | None = None,
    expected_total: Decimal | None = None,
    request: HttpRequest | None = None,
) -> Order:
    """Place an order of everything in the bag; raises ``CheckoutError`` (changing nothing) when it cannot be.

    ``expected_subtotal`` and ``expected_total`` are what the shopper was shown, if known: when the bag or its prices
    have changed since, the order is not placed, and the shopper is told the new amount."""
    method = delivery_method(delivery)
    if method is None:
        raise CheckoutError(f"Choose a delivery method: {', '.join(delivery_methods())}.", field="delivery")
    payer = payment_method(payment)
    if payer is None:
        raise CheckoutError(f"Choose a payment method: {', '.join(payment_methods())}.", field="payment")
    if cart is None:
        raise CheckoutError(EMPTY_BAG)
    if not getattr(user, "email", ""):
        raise CheckoutError("Add an e-mail address to your account first: the confirmation is sent there.")
    with transaction.atomic():
        Cart.objects.select_for_update().filter(pk=cart.pk).values_list("pk").first()
        bag = bag_summary(cart)
        if not bag:
            raise CheckoutError(EMPTY_BAG)
        if bag.problems:
            raise CheckoutError(" ".join([*bag.problems, KEPT]), status=409)
        availability = payer.availability(bag)
        if not availability.available:
            raise CheckoutError(availability.reason, field="payment")
        total = bag.subtotal + method.price
        for expected, actual, name in ((expected_subtotal, bag.subtotal, "subtotal"), (expected_total, total, "total")):
            if expected is not None and expected != actual:
                raise CheckoutError(
                    f"Your bag has changed since you saw it: its {name} is now {rupees(actual)}. "
                    "Check it and place the order again.",
                    status=409,
                )
        try:
            reserve_stock(Counter({item.sku.pk: item.quantity for item in bag.items}))
        except InsufficientStock as error:
            raise CheckoutError(_shortages_message(error.shortages, bag), status=409) from error
        order = _create_order(
            user=user,
            email=getattr(user, "email", "") or "",
            status=Order.Status.PLACED,
            **asdict(address),
            delivery_method=method.code,
            delivery_label=method.label,
            payment_method=payer.code,
            payment_label=payer.label,
            subtotal=bag.subtotal,
            delivery_price=method.price,
            total=total,
            # Set by events' VisitorMiddleware when the shopper simulator sent the request (docs/simulation.md).
            synthetic=bool(getattr(request, "synthetic", False)),
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                sku=item.sku,
                product=item.product,
                product_name=item.product.name or f"Item {item.product.pk}",
                size_kind=item.sku.kind,
                size_label=item.sku.label,
                unit_price=item.unit_price,
                quantity=item.quantity,
                list_id=item.list_id,
            )
            for item in bag.items
        )
        payer.place(order)
        StatusChange.objects.create(order=order, status=order.status, changed_by=user)
        clear_cart(cart)
        order_url = request.build_absolute_uri(order.get_absolute_url()) if request is not None else ""
        # robust: a failure is logged, and never turns a placed order into an error page.
        transaction.on_commit(lambda: _send_confirmation_later(order.pk, order_url), robust=True)
        transaction.on_commit(lambda: order_placed.send(sender=Order, request=request, order=order), robust=True)
    return order


def next_statuses(order: Order) -> tuple[str, ...]:
    return TRANSITIONS[order.status]


def change_status(order: Order, status: str, *, by=None) -> Order:
    """Give the order its next status (placed -> shipped -> delivered; placed or shipped -> cancelled, which puts
    its units back into stock) and tell its payments; the order as it now is."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if status not in TRANSITIONS[locked.status]:
            allowed = " or ".join(Order.Status(choice).label.lower() for choice in TRANSITIONS[locked.status])
            now = Order.Status(locked.status).label.lower()
            raise OrderStatusError(
                f"Order {locked.number} is {now}: it can be {allowed} next."
                if allowed
                else f"Order {locked.number} is {now}: its status cannot change any more."
            )
        if status == Order.Status.CANCELLED:
            units = Counter()
            for line in locked.lines.filter(sku__isnull=False):
                units[line.sku_id] += line.quantity
            if units:
                release_stock(units)
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        StatusChange.objects.create(order=locked, status=status, changed_by=by)
        methods = payment_methods()
        for payment in locked.payments.all():
            if payment.method in methods:
                methods[payment.method].status_changed(locked, payment)
    return locked


def send_confirmation(order_id: int, order_url: str = "") -> None:
    """The order confirmation e-mail (text and HTML), to the address on the order."""
    order = Order.objects.prefetch_related("lines").get(pk=order_id)
    context = {"order": order, "order_url": order_url, "shop_name": settings.SHOP_NAME}
    subject = " ".join(render_to_string("orders/email/confirmation_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject, render_to_string("orders/email/confirmation.txt", context), to=[order.email]
    )
    message.attach_alternative(render_to_string("orders/email/confirmation.html", context), "text/html")
    message.send()


def _send_confirmation_later(order_id: int, order_url: str) -> None:
    from .tasks import send_order_confirmation  # the task module imports this one

    send_order_confirmation.delay(order_id, order_url)


def _create_order(**fields) -> Order:
    """The order under a new random number (a clash, one in a trillion, draws another)."""
    attempts = 5
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return Order.objects.create(number=_number(), **fields)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _shortages_message(shortages: list[Shortage], bag: BagSummary) -> str:
    skus: dict[int, Sku] = {item.sku.pk: item.sku for item in bag.items}
    parts = []
    for shortage in shortages:
        sku = skus.get(shortage.sku_id)
        what = rules.describe(sku) if sku is not None else "A size in your bag"
        if shortage.available:
            parts.append(f"Sorry: only {shortage.available} left of {what}.")
        else:
            parts.append(f"Sorry: {what} has just sold out.")
    return " ".join([*parts, KEPT])


@dataclass(frozen=True)
class PastLine:
    product_id: int
    product_name: str
    sku_id: int | None
    size_kind: str
    size_label: str
    unit_price: Decimal
    quantity: int = 1
    list_id: str = ""


@dataclass(frozen=True)
class PastOrder:
    """An order that happened elsewhere (the shopper simulator's history), to be written as it was."""

    email: str
    placed_at: datetime
    address: ShippingAddress
    lines: tuple[PastLine, ...]
    user_id: int | None = None  # None: a guest (the order keeps the e-mail address only)
    status: str = Order.Status.DELIVERED
    synthetic: bool = False


def create_orders_bulk(
    orders: Sequence[PastOrder], *, batch_size: int = 2_000, progress: Callable[[int], None] | None = None
) -> list[int]:
    """Write orders that already happened, with their lines, in bulk; returns their ids, in the given order.
    ``progress`` is called with the size of each batch once it is committed.

    Nothing of checkout happens: no bag, no payment, no e-mail, no ``order_placed`` (whoever writes them logs what
    they need), and the stock is left alone: these orders are history, and reserving units for them would sell
    out the shop's real stock (the catalogue's snapshot of what is on the shelves now). Every order gets the first
    delivery and payment methods and a number of its own.
    """
    delivery = next(iter(delivery_methods().values()))
    payer = next(iter(payment_methods().values()))
    ids: list[int] = []
    for start in range(0, len(orders), batch_size):
        batch = orders[start : start + batch_size]
        numbers = _new_numbers(len(batch))
        with transaction.atomic():
            created = Order.objects.bulk_create(
                Order(
                    number=number,
                    user_id=order.user_id,
                    email=order.email,
                    status=order.status,
                    **asdict(order.address),
                    delivery_method=delivery.code,
                    delivery_label=delivery.label,
                    payment_method=payer.code,
                    payment_label=payer.label,
                    subtotal=(subtotal := sum((line.unit_price * line.quantity for line in order.lines), Decimal(0))),
                    delivery_price=delivery.price,
                    total=subtotal + delivery.price,
                    synthetic=order.synthetic,
                )
                for number, order in zip(numbers, batch, strict=True)
            )
            OrderLine.objects.bulk_create(
                OrderLine(order=row, **asdict(line)) for row, order in zip(created, batch, strict=True)
                for line in order.lines
            )  # fmt: skip
            # auto_now_add stamped them now: give them the time they were placed.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Order._meta.db_table} AS o SET placed_at = v.at, updated_at = v.at "
                    "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v (id, at) WHERE o.id = v.id",
                    [[row.pk for row in created], [order.placed_at for order in batch]],
                )
        ids.extend(row.pk for row in created)
        if progress is not None:
            progress(len(batch))
    return ids


def _new_numbers(count: int) -> list[str]:
    """``count`` order numbers that no order has yet."""
    numbers: set[str] = set()
    while len(numbers) < count:
        wanted = count - len(numbers)
        drawn = {_number() for _ in range(wanted)} - numbers
        numbers |= drawn - set(Order.objects.filter(number__in=drawn).values_list("number", flat=True))
    return sorted(numbers)


def _number() -> str:
    code = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"{settings.ORDER_NUMBER_PREFIX}-{code[:4]}-{code[4:]}"


def delete_synthetic_orders() -> tuple[int, int]:
    """Delete every synthetic order with its lines, payments and history; returns (orders, lines) deleted."""
    with transaction.atomic():
        lines = OrderLine.objects.filter(order__synthetic=True).count()
        orders = Order.objects.filter(synthetic=True)
        count = orders.count()
        orders.delete()
    return count, lines
