"""Writes a simulated history to the database, through the apps' bulk paths, everything marked synthetic; and
removes everything synthetic again.

Each simulated shopper becomes a visitor (a uuid derived from its key, ``identity.visitor_id``) marked synthetic;
its purchases become guest orders (no account; the e-mail address is ``<key>@simulated.lookalike.invalid``),
written by ``orders.services.create_orders_bulk`` without touching stock; its events are COPYed by
``events.services.record_events_bulk`` with ``synthetic`` set, purchases carrying their order's id and value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Q

from events.models import Event, Visitor
from events.services import delete_synthetic_events, record_events_bulk
from experiments.models import Exposure
from orders.services import PastLine, PastOrder, ShippingAddress, create_orders_bulk, delete_synthetic_orders
from personalization.interactions import KIND_CODES, KINDS
from shop.models import Product, Sku

from . import identity
from .simulator import SimulatedHistory

ADDRESS = ShippingAddress(
    full_name="Simulated shopper",
    phone="+91 00000 00000",
    line1="Simulated address (not a real order)",
    city="Bengaluru",
    state="Karnataka",
    postcode="560001",
)
# A click in the simulation comes from no list the site showed: it carries no list id, and these.
CLICK_FIELDS = {"placement": "simulation", "strategy": "simulation"}
PURCHASE, CART = KIND_CODES["purchase"], KIND_CODES["cart_add"]


@dataclass(frozen=True)
class Written:
    events: int
    orders: int
    visitors: int


@dataclass(frozen=True)
class Sizes:
    """Each product's sizes that can be bought (in stock or untracked), as one flat array with offsets."""

    offsets: dict[int, tuple[int, int]]
    rows: list[tuple[int, str, str]]  # (sku id, kind, label)

    @classmethod
    def of(cls, product_ids: np.ndarray) -> Sizes:
        rows: list[tuple[int, str, str]] = []
        offsets: dict[int, tuple[int, int]] = {}
        available = Q(stock__isnull=True) | Q(stock__gt=0)
        skus = Sku.objects.filter(available, product_id__in=[int(pk) for pk in product_ids])
        for product_id, *row in skus.order_by("product_id", "position", "pk").values_list(
            "product_id", "pk", "kind", "label"
        ):
            start, end = offsets.get(product_id, (len(rows), len(rows)))
            offsets[product_id] = (start, end + 1)
            rows.append(tuple(row))  # type: ignore[arg-type]
        return cls(offsets, rows)

    def pick(self, product_id: int, shopper: int) -> tuple[int, str, str] | None:
        """The size this shopper takes of the product (always the same one: their cart add and their purchase
        agree)."""
        start, end = self.offsets.get(product_id, (0, 0))
        return self.rows[start + (shopper * 2_654_435_761 + product_id) % (end - start)] if end > start else None


def write_history(
    history: SimulatedHistory,
    *,
    orders_progress: Callable[[int], None] | None = None,
    events_progress: Callable[[int], None] | None = None,
    batch_size: int = 20_000,
) -> Written:
    """Store ``history``: its shoppers as visitors, then its orders, then its events; the progress callbacks are
    called with the number of orders, and of events, of each batch written."""
    log = history.log
    if log.order is None:
        raise ValueError("The history has no order codes: simulate() makes them.")
    visitors = [identity.visitor_id(str(key)) for key in log.shopper_ids]
    Visitor.objects.bulk_create(
        (Visitor(id=visitor, synthetic=True) for visitor in visitors), batch_size=5_000, ignore_conflicts=True
    )
    carted = np.isin(log.kind, [CART, PURCHASE])
    bought_ids = log.product_ids[np.unique(log.product[carted])]
    sizes = Sizes.of(bought_ids)
    prices, names = {}, {}
    for pk, price, name in Product.objects.filter(pk__in=[int(pk) for pk in bought_ids]).values_list(
        "pk", "price", "name"
    ):
        prices[pk], names[pk] = price, name or f"Item {pk}"
    order_ids = _write_orders(history, sizes, prices, names, orders_progress)
    rows = _event_rows(history, visitors, sizes, prices, order_ids)
    events = record_events_bulk(rows, batch_size=batch_size, progress=events_progress)
    return Written(events=events, orders=len(order_ids), visitors=len(visitors))


def _write_orders(
    history: SimulatedHistory,
    sizes: Sizes,
    prices: dict[int, Decimal],
    names: dict[int, str],
    progress: Callable[[int], None] | None,
) -> list[int]:
    """The orders' database ids, indexed by the history's order codes."""
    log = history.log
    purchases = np.flatnonzero(log.kind == PURCHASE)
    purchases = purchases[np.argsort(log.order[purchases], kind="stable")]
    codes, starts = np.unique(log.order[purchases], return_index=True)
    if len(codes) and not np.array_equal(codes, np.arange(len(codes))):
        raise ValueError("The history's order codes must be 0, 1, 2... without gaps.")
    orders = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(purchases)
        rows = purchases[start:end]
        shopper = int(log.shopper[rows[0]])
        lines = []
        for row in rows:
            product_id = int(log.product_ids[log.product[row]])
            size = sizes.pick(product_id, shopper)
            sku_id, kind, label = size if size is not None else (None, "", "")
            lines.append(PastLine(product_id, names[product_id], sku_id, kind, label, prices[product_id]))
        key = str(log.shopper_ids[shopper])
        orders.append(
            PastOrder(
                email=identity.email(key),
                placed_at=datetime.fromtimestamp(float(log.timestamp[rows[0]]), UTC),
                address=ADDRESS,
                lines=tuple(lines),
                synthetic=True,
            )
        )
    return create_orders_bulk(orders, progress=progress)


def _event_rows(
    history: SimulatedHistory,
    visitors: list[Any],
    sizes: Sizes,
    prices: dict[int, Decimal],
    order_ids: list[int],
) -> Iterator[dict[str, Any]]:
    log = history.log
    kinds = [Event.Kind(kind).value for kind in KINDS]
    product_ids = log.product_ids.tolist()
    for shopper, product, kind, at, order in zip(
        log.shopper.tolist(), log.product.tolist(), log.kind.tolist(), log.timestamp.tolist(), log.order.tolist(),
        strict=True,
    ):  # fmt: skip
        product_id = product_ids[product]
        row: dict[str, Any] = {
            "kind": kinds[kind],
            "created_at": datetime.fromtimestamp(at, UTC),
            "visitor_id": visitors[shopper],
            "product_id": product_id,
            "synthetic": True,
        }
        if kind in (CART, PURCHASE):
            size = sizes.pick(product_id, shopper)
            row["sku_id"] = size[0] if size is not None else None
            row["quantity"] = 1
            if kind == PURCHASE:
                row["order_id"] = order_ids[order]
                row["value"] = prices[product_id]
        elif kinds[kind] == Event.Kind.CLICK:
            row |= CLICK_FIELDS
        yield row


@dataclass(frozen=True)
class Removed:
    events: int
    visitors: int
    orders: int
    order_lines: int
    accounts: int
    exposures: int


def remove_synthetic() -> Removed:
    """Delete everything synthetic: events, visitors, orders with their lines, A/B test exposures, and the accounts
    the HTTP driver signed up (e-mail at ``identity.EMAIL_DOMAIN``). Real shoppers' data is untouched."""
    exposures, _ = Exposure.objects.filter(synthetic=True).delete()
    events, visitors = delete_synthetic_events()
    orders, lines = delete_synthetic_orders()
    users = get_user_model().objects.filter(email__iendswith=f"@{identity.EMAIL_DOMAIN}")
    accounts = users.count()
    users.delete()
    return Removed(
        events=events, visitors=visitors, orders=orders, order_lines=lines, accounts=accounts, exposures=exposures
    )
