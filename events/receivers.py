"""Turn what the other apps say they showed or did into events; none of them knows this log exists."""

import re
from typing import Any

from django.apps import apps
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest

from recommendations.signals import photo_searched, recommendations_shown
from shop.signals import catalogue_searched, product_viewed, products_listed

from .models import Event
from .services import link_visitor, record_event

LIST_ID = re.compile(r"[0-9a-f]{32}")
# ASCII digits only: str.isdigit() also takes "²", which int() refuses.
POSITION = re.compile(r"[0-9]{1,4}")
MAX_POSITION = 1000
# How long a list's placement and strategy are remembered for the clicks on it (in the shared cache).
LIST_MEMORY_SECONDS = 24 * 3600


def _remember_list(list_id: str, placement: str, strategy: str) -> None:
    cache.set(f"events:list:{list_id}", (placement, strategy), LIST_MEMORY_SECONDS)


def list_context(request: HttpRequest) -> dict[str, Any]:
    """The list a product was reached from (``?lid=<list id>&pos=<n>``), as event fields; empty when none."""
    list_id = request.GET.get("lid", "")
    if not LIST_ID.fullmatch(list_id):
        return {}
    position = request.GET.get("pos", "")
    fields: dict[str, Any] = {"list_id": list_id}
    if POSITION.fullmatch(position) and 1 <= int(position) <= MAX_POSITION:
        fields["position"] = int(position)
    remembered = cache.get(f"events:list:{list_id}")
    if remembered:
        fields["placement"], fields["strategy"] = remembered
    return fields


@receiver(product_viewed)
def product_page_shown(sender: object, request: HttpRequest, product: Any, **kwargs: Any) -> None:
    reached_from = list_context(request)
    if reached_from:
        record_event(request, Event.Kind.CLICK, product_id=product.pk, **reached_from)
    record_event(request, Event.Kind.VIEW, product_id=product.pk, list_id=reached_from.get("list_id", ""))


@receiver(products_listed)
@receiver(recommendations_shown)
def list_shown(
    sender: object,
    request: HttpRequest,
    list_id: str,
    placement: str,
    strategy: str,
    product_ids: list[int],
    **kwargs: Any,
) -> None:
    if not product_ids:
        return
    _remember_list(list_id, placement, strategy)
    record_event(
        request,
        Event.Kind.IMPRESSION,
        list_id=list_id,
        placement=placement[:64],
        strategy=strategy[:64],
        product_ids=product_ids,
    )


@receiver(catalogue_searched)
def searched(sender: object, request: HttpRequest, query: str, results: int, **kwargs: Any) -> None:
    record_event(request, Event.Kind.SEARCH, query=query[:200], quantity=results)


@receiver(photo_searched)
def photo_search_shown(sender: object, request: HttpRequest, list_id: str, product_ids: list[int], **kwargs) -> None:
    record_event(request, Event.Kind.PHOTO_SEARCH, list_id=list_id, quantity=len(product_ids))
    list_shown(sender, request, list_id, "search by photo", "visual", product_ids)


@receiver(user_logged_in)
def visitor_logged_in(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    visitor_id = getattr(request, "visitor_id", None)
    if visitor_id is not None:
        link_visitor(visitor_id, user, synthetic=getattr(request, "synthetic", False))


if apps.is_installed("cart"):
    from cart.signals import cart_line_added, cart_line_removed, wishlist_changed

    @receiver(cart_line_added)
    def added_to_cart(sender: object, request: HttpRequest, sku: Any, quantity: int, list_id: str | None, **kwargs):
        fields = {"list_id": list_id} if list_id and LIST_ID.fullmatch(list_id) else {}
        record_event(
            request, Event.Kind.CART_ADD, product_id=sku.product_id, sku_id=sku.pk, quantity=quantity, **fields
        )

    @receiver(cart_line_removed)
    def removed_from_cart(sender: object, request: HttpRequest, sku: Any, quantity: int, **kwargs: Any) -> None:
        record_event(request, Event.Kind.CART_REMOVE, product_id=sku.product_id, sku_id=sku.pk, quantity=quantity)

    @receiver(wishlist_changed)
    def wishlist_changed_(sender: object, request: HttpRequest, product: Any, added: bool, **kwargs: Any) -> None:
        kind = Event.Kind.WISHLIST_ADD if added else Event.Kind.WISHLIST_REMOVE
        record_event(request, kind, product_id=product.pk)


if apps.is_installed("orders"):
    from orders.signals import order_placed

    @receiver(order_placed)
    def purchased(sender: object, request: HttpRequest, order: Any, **kwargs: Any) -> None:
        for line in order.lines.all():
            record_event(
                request,
                Event.Kind.PURCHASE,
                product_id=line.product_id,
                sku_id=line.sku_id,
                quantity=line.quantity,
                order_id=order.pk,
                value=line.unit_price * line.quantity,
                list_id=line.list_id if LIST_ID.fullmatch(line.list_id or "") else "",
            )
