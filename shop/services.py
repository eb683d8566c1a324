"""Writes to the catalogue besides the import (``catalog_import``): which products are in stock, and stock reserved
and released by orders (inside their transactions)."""

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F

from . import generations
from .models import Product, Sku


def refresh_in_stock(product_ids: list[int]) -> None:
    """Recompute ``Product.in_stock`` from the products' sizes: a product can be bought when one of its sizes can
    (an untracked stock counts as available), or when it has no sizes at all (nothing is tracked). When one changes,
    lists cached for products in stock are computed again once the transaction commits."""
    product, sku = Product._meta.db_table, Sku._meta.db_table
    with connection.cursor() as cursor:
        # Only the rows whose value changes are written.
        cursor.execute(
            f"""
            UPDATE {product} AS product SET in_stock = computed.available
            FROM (
                SELECT candidate.id, (
                    NOT EXISTS (SELECT 1 FROM {sku} AS sku WHERE sku.product_id = candidate.id)
                    OR EXISTS (
                        SELECT 1 FROM {sku} AS sku
                        WHERE sku.product_id = candidate.id AND (sku.stock IS NULL OR sku.stock > 0)
                    )
                ) AS available
                FROM {product} AS candidate WHERE candidate.id = ANY(%s)
            ) AS computed
            WHERE product.id = computed.id AND product.in_stock IS DISTINCT FROM computed.available
            """,
            [list(product_ids)],
        )
        if cursor.rowcount:
            generations.bump(generations.AVAILABILITY)


@dataclass(frozen=True)
class Shortage:
    """A size that has fewer units than were asked for: ``available`` is what is left (0: sold out, or gone)."""

    sku_id: int
    requested: int
    available: int


class InsufficientStock(Exception):
    """Some sizes have fewer units than were asked for; no stock was changed."""

    def __init__(self, shortages: list[Shortage]) -> None:
        self.shortages = shortages
        super().__init__(", ".join(f"size {s.sku_id}: {s.available} of {s.requested}" for s in shortages))


def reserve_stock(quantities: Mapping[int, int]) -> None:
    """Take ``quantities`` (size id -> units) out of the sizes' tracked stock, all or nothing, inside the caller's
    transaction, which keeps the sizes locked until it ends: concurrent reservations of a size wait for it, then see
    what it left. Raises ``InsufficientStock`` (changing nothing) when a tracked size has too few units or a size no
    longer exists. An untracked stock (empty) never changes. Stock never goes below zero."""
    skus = _lock_skus(quantities)
    shortages = [
        Shortage(sku_id, requested, 0 if sku_id not in skus else skus[sku_id].stock or 0)
        for sku_id, requested in sorted(quantities.items())
        if sku_id not in skus or (skus[sku_id].stock is not None and skus[sku_id].stock < requested)
    ]
    if shortages:
        raise InsufficientStock(shortages)
    _add_stock(skus, {sku_id: -requested for sku_id, requested in quantities.items()})


def release_stock(quantities: Mapping[int, int]) -> None:
    """Put ``quantities`` (size id -> units) back into the sizes' tracked stock, inside the caller's transaction
    (an order cancelled, say). Sizes that no longer exist or are not tracked are left alone."""
    skus = _lock_skus(quantities)
    _add_stock(skus, {sku_id: quantities[sku_id] for sku_id in skus})


def _lock_skus(quantities: Mapping[int, int]) -> dict[int, Sku]:
    """The sizes, locked until the transaction ends: their products first, then the sizes, each in id order (the
    order every writer of stock locks them in, so that two of them never wait for each other)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Stock changes only inside a transaction: wrap the call in transaction.atomic().")
    if any(not isinstance(units, int) or units < 1 for units in quantities.values()):
        raise ValueError(f"Units of stock must be whole numbers of 1 or more: {dict(quantities)}")
    ids = sorted(quantities)
    product_ids = sorted(set(Sku.objects.filter(pk__in=ids).values_list("product_id", flat=True)))
    list(Product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk").values_list("pk", flat=True))
    return {sku.pk: sku for sku in Sku.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _add_stock(skus: dict[int, Sku], changes: dict[int, int]) -> None:
    tracked = {
        sku_id: change for sku_id, change in changes.items() if sku_id in skus and skus[sku_id].stock is not None
    }
    for sku_id, change in tracked.items():
        # The condition repeats the check made under the lock: the column could never go below zero anyway
        # (PositiveIntegerField has a CHECK constraint), but this way a bug raises here instead of an IntegrityError.
        updated = Sku.objects.filter(pk=sku_id, stock__gte=-change).update(stock=F("stock") + change)
        if updated != 1:
            raise InsufficientStock([Shortage(sku_id, -change, skus[sku_id].stock or 0)])
    if tracked:
        refresh_in_stock(sorted({skus[sku_id].product_id for sku_id in tracked}))
