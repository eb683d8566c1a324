"""Writes to bags and wishlists.

Every change runs in a transaction that locks the bag (so that two requests of one shopper take turns), checks the
size's price and stock as they are then (``rules``), and sends its signal (``signals``) once it has been committed.
A change that cannot be made raises ``CartError`` with a message for the shopper, and changes nothing.
"""

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from shop.models import Product, Sku

from . import rules
from .models import Cart, CartLine, Wishlist, WishlistItem
from .signals import cart_line_added, cart_line_removed, wishlist_changed

NO_SUCH_SIZE = "There is no such size."
NO_SUCH_PRODUCT = "There is no such product."
NOT_IN_BAG = "This size is not in your bag."


class CartError(Exception):
    """A change that cannot be made; ``message`` says why, for the shopper. ``field`` names the input it is about
    (None: the request as a whole), ``status`` the HTTP status that answers it."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status

    @classmethod
    def from_problem(cls, problem: rules.Problem) -> "CartError":
        return cls(problem.message, field=problem.field)


def get_or_create_cart(user=None) -> Cart:
    """The account's bag (created the first time), or a new visitor's bag when ``user`` is None."""
    if user is None:
        return Cart.objects.create()
    return Cart.objects.get_or_create(user=user)[0]


def get_or_create_wishlist(user=None) -> Wishlist:
    if user is None:
        return Wishlist.objects.create()
    return Wishlist.objects.get_or_create(user=user)[0]


def add_to_cart(
    cart: Cart, sku_id: int, quantity: int, *, request: HttpRequest | None = None, list_id: str | None = None
) -> CartLine:
    """Put ``quantity`` more units of a size into the bag; the line it is on."""
    _raise(rules.units_problem(quantity))
    sku = _sku(sku_id)
    with transaction.atomic():
        _lock(cart)
        line = CartLine.objects.filter(cart=cart, sku=sku).first()
        in_bag = line.quantity if line else 0
        _raise(rules.line_problem(sku, in_bag + quantity, in_bag=in_bag))
        if line is None:
            line = CartLine.objects.create(cart=cart, sku=sku, quantity=quantity, list_id=list_id or "")
        else:
            line.quantity += quantity
            line.list_id = list_id or line.list_id  # the last listing it was added from
            line.save(update_fields=["quantity", "list_id"])
        _touch(cart)
        _on_commit(cart_line_added.send, CartLine, request=request, sku=sku, quantity=quantity, list_id=list_id)
    return line


def set_quantity(cart: Cart, sku_id: int, quantity: int, *, request: HttpRequest | None = None) -> CartLine:
    """Change how many units of a size the bag holds. Fewer can always be asked for; more are checked as an
    addition is."""
    _raise(rules.units_problem(quantity))
    with transaction.atomic():
        _lock(cart)
        line = _line(cart, sku_id)
        change = quantity - line.quantity
        if change > 0:
            _raise(rules.line_problem(line.sku, quantity, in_bag=line.quantity))
        if change:
            line.quantity = quantity
            line.save(update_fields=["quantity"])
            _touch(cart)
        if change > 0:
            _on_commit(cart_line_added.send, CartLine, request=request, sku=line.sku, quantity=change, list_id=None)
        elif change < 0:
            _on_commit(cart_line_removed.send, CartLine, request=request, sku=line.sku, quantity=-change)
    return line


def remove_line(cart: Cart, sku_id: int, *, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        _lock(cart)
        line = _line(cart, sku_id)
        line.delete()
        _touch(cart)
        _on_commit(cart_line_removed.send, CartLine, request=request, sku=line.sku, quantity=line.quantity)


def clear_cart(cart: Cart) -> None:
    """Empty the bag, inside the caller's transaction (an order has been placed from it); no signal is sent."""
    CartLine.objects.filter(cart=cart).delete()
    _touch(cart)


def merge_carts(source: Cart, target: Cart) -> list[str]:
    """Move a visitor's bag into an account's (who has just logged in) and delete it. A size in both gets both
    quantities, as far as the stock and ``CART_MAX_QUANTITY`` allow; sold-out sizes and products without a price stay
    out. What could not be moved as it was, in words for the shopper."""
    notes = []
    with transaction.atomic():
        _lock(target)
        held = {line.sku_id: line for line in CartLine.objects.filter(cart=target)}
        for line in CartLine.objects.filter(cart=source).select_related("sku__product"):
            kept = held.get(line.sku_id)
            wanted = line.quantity + (kept.quantity if kept else 0)
            quantity = _most_allowed(line.sku, wanted)
            if quantity < wanted:
                left = f"only {quantity} could stay" if quantity else "it could not stay"
                notes.append(f"{rules.describe(line.sku)}: {left} in your bag.")
            if kept is not None:
                if quantity > kept.quantity:
                    kept.quantity = quantity
                    kept.list_id = kept.list_id or line.list_id
                    kept.save(update_fields=["quantity", "list_id"])
            elif quantity:
                CartLine.objects.create(cart=target, sku=line.sku, quantity=quantity, list_id=line.list_id)
        source.delete()
        _touch(target)
    return notes


def merge_wishlists(source: Wishlist, target: Wishlist) -> None:
    with transaction.atomic():
        held = set(WishlistItem.objects.filter(wishlist=target).values_list("product_id", flat=True))
        WishlistItem.objects.filter(wishlist=source).exclude(product_id__in=held).update(wishlist=target)
        source.delete()
        _touch(target)


def add_to_wishlist(wishlist: Wishlist, product_id: int, *, request: HttpRequest | None = None) -> bool:
    """Whether the product was added (False: it was there already)."""
    product = _product(product_id)
    with transaction.atomic():
        _, created = WishlistItem.objects.get_or_create(wishlist=wishlist, product=product)
        if created:
            _touch(wishlist)
            _on_commit(wishlist_changed.send, WishlistItem, request=request, product=product, added=True)
    return created


def remove_from_wishlist(wishlist: Wishlist, product_id: int, *, request: HttpRequest | None = None) -> bool:
    """Whether the product was removed (False: it was not there)."""
    product = _product(product_id)
    with transaction.atomic():
        deleted, _ = WishlistItem.objects.filter(wishlist=wishlist, product=product).delete()
        if deleted:
            _touch(wishlist)
            _on_commit(wishlist_changed.send, WishlistItem, request=request, product=product, added=False)
    return bool(deleted)


def toggle_wishlist(wishlist: Wishlist, product_id: int, *, request: HttpRequest | None = None) -> bool:
    """Add the product, or remove it if it is there; whether it is there now."""
    with transaction.atomic():
        if remove_from_wishlist(wishlist, product_id, request=request):
            return False
        return add_to_wishlist(wishlist, product_id, request=request)


def delete_abandoned(before: datetime) -> tuple[int, int]:
    """Delete the visitors' bags and wishlists last changed before ``before``: how many of each."""
    carts, _ = Cart.objects.filter(user=None, updated_at__lt=before).delete()
    wishlists, _ = Wishlist.objects.filter(user=None, updated_at__lt=before).delete()
    return carts, wishlists


def _most_allowed(sku: Sku, wanted: int) -> int:
    if sku.product.price is None or sku.stock == 0:
        return 0
    limit = rules.max_quantity() if sku.stock is None else min(rules.max_quantity(), sku.stock)
    return min(wanted, limit)


def _raise(problem: rules.Problem | None) -> None:
    if problem is not None:
        raise CartError.from_problem(problem)


def _sku(sku_id: object) -> Sku:
    sku = Sku.objects.select_related("product").filter(pk=sku_id).first() if _is_id(sku_id) else None
    if sku is None:
        raise CartError(NO_SUCH_SIZE, field="sku")
    return sku


def _product(product_id: object) -> Product:
    product = Product.objects.filter(pk=product_id).first() if _is_id(product_id) else None
    if product is None:
        raise CartError(NO_SUCH_PRODUCT, field="product", status=404)
    return product


def _is_id(value: object) -> bool:
    # A primary key is a 64-bit integer: a larger number would raise in PostgreSQL instead of matching nothing.
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _line(cart: Cart, sku_id: object) -> CartLine:
    line = (
        CartLine.objects.select_related("sku__product").filter(cart=cart, sku_id=sku_id).first()
        if _is_id(sku_id)
        else None
    )
    if line is None:
        raise CartError(NOT_IN_BAG, field="sku", status=404)
    return line


def _lock(cart: Cart) -> None:
    Cart.objects.select_for_update().filter(pk=cart.pk).values_list("pk").first()


def _touch(owner: Cart | Wishlist) -> None:
    type(owner).objects.filter(pk=owner.pk).update(updated_at=timezone.now())


def _on_commit(send: Callable, sender: type, **kwargs) -> None:
    def send_signal() -> None:
        send(sender=sender, **kwargs)

    # robust: a failing receiver is logged, and never turns a committed change into an error page.
    transaction.on_commit(send_signal, robust=True)
