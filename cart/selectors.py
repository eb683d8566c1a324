"""Reads of bags and wishlists."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from shop.models import Product, Sku
from shop.selectors import CARD_FIELDS

from . import rules
from .models import Cart, CartLine, Wishlist, WishlistItem


@dataclass(frozen=True)
class BagItem:
    """A line of a bag as it can be bought now: ``problem`` says why it cannot (None: it can)."""

    sku: Sku
    quantity: int
    problem: rules.Problem | None = None
    list_id: str = ""  # the attribution id of the listing the size was added from

    @property
    def product(self) -> Product:
        return self.sku.product

    @property
    def unit_price(self) -> Decimal | None:
        return self.product.price

    @property
    def line_total(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.quantity

    @property
    def max_quantity(self) -> int:
        """The most this line may be raised to."""
        limit = rules.max_quantity()
        return limit if self.sku.stock is None else max(min(limit, self.sku.stock), 1)


@dataclass(frozen=True)
class BagSummary:
    items: list[BagItem] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Units in the bag."""
        return sum(item.quantity for item in self.items)

    @property
    def subtotal(self) -> Decimal:
        """What the lines that have a price cost."""
        return sum((item.line_total for item in self.items if item.line_total is not None), Decimal(0))

    @property
    def problems(self) -> list[str]:
        return [item.problem.message for item in self.items if item.problem]

    @property
    def products(self) -> list[Product]:
        return list({item.product.pk: item.product for item in self.items}.values())

    def __bool__(self) -> bool:
        return bool(self.items)


def bag_summary(cart: Cart | None) -> BagSummary:
    """The bag's lines with their sizes and products (in one query), and what stands in the way of buying each."""
    if cart is None or cart.pk is None:
        return BagSummary()
    lines = CartLine.objects.filter(cart=cart).select_related("sku__product__brand").order_by("added_at", "pk")
    return BagSummary(
        [BagItem(line.sku, line.quantity, rules.line_problem(line.sku, line.quantity), line.list_id) for line in lines]
    )


def bag_count(cart: Cart | None) -> int:
    if cart is None:
        return 0
    return sum(CartLine.objects.filter(cart=cart).values_list("quantity", flat=True))


def wishlist_product_ids(wishlist: Wishlist | None) -> set[int]:
    if wishlist is None:
        return set()
    return set(WishlistItem.objects.filter(wishlist=wishlist).values_list("product_id", flat=True))


def wishlist_products(wishlist: Wishlist | None) -> list[Product]:
    """The wishlist's products as cards, the last added first."""
    if wishlist is None:
        return []
    ids = list(WishlistItem.objects.filter(wishlist=wishlist).values_list("product_id", flat=True))
    products = Product.objects.only(*CARD_FIELDS).in_bulk(ids)
    return [products[pk] for pk in ids if pk in products]


def skus_of(ids: Iterable[int]) -> dict[int, Sku]:
    return Sku.objects.select_related("product").in_bulk(list(ids))
