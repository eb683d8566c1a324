"""What may be in a bag: the checks that every change makes (``services``) and that the bag shows (``selectors``)."""

from dataclasses import dataclass

from django.conf import settings

from shop.models import Sku


@dataclass(frozen=True)
class Problem:
    """Why a quantity of a size cannot be in a bag, for the shopper; ``field`` is what it is about."""

    message: str
    field: str  # "sku" or "quantity"


def describe(sku: Sku) -> str:
    """``"Nike Men Running Shoes in size 9"``."""
    name = sku.product.name or f"Item {sku.product_id}"
    return f"{name} in {sku.kind.lower() or 'size'} {sku.label}"


def max_quantity() -> int:
    return settings.CART_MAX_QUANTITY


def units_problem(quantity: object) -> Problem | None:
    """A quantity that is not a whole number from 1 to ``CART_MAX_QUANTITY``."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        return Problem("Choose a quantity of 1 or more.", "quantity")
    if quantity > max_quantity():
        return Problem(f"At most {max_quantity()} of one size can be bought at a time.", "quantity")
    return None


def line_problem(sku: Sku, quantity: int, *, in_bag: int = 0) -> Problem | None:
    """Why a line of ``quantity`` units of ``sku`` (``in_bag`` of them there already) cannot be bought, if it cannot:
    the product has no price, the size is sold out, or it has fewer units than that."""
    if sku.product.price is None:
        return Problem(f"{sku.product.name or 'This product'} has no price yet, so it cannot be bought.", "sku")
    if sku.stock == 0:
        return Problem(f"{describe(sku)} is sold out.", "sku")
    already = f"; your bag already holds {in_bag}" if in_bag else ""
    if quantity > max_quantity():
        return Problem(f"At most {max_quantity()} of one size can be bought at a time{already}.", "quantity")
    if sku.stock is not None and quantity > sku.stock:
        return Problem(f"Only {sku.stock} left of {describe(sku)}{already}.", "quantity")
    return None
