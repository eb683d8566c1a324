"""Orders on other apps' pages: the order history on the account page."""

from django import template

from ..selectors import orders_of

register = template.Library()

HISTORY_LENGTH = 50


@register.inclusion_tag("orders/_order_history.html")
def order_history(user) -> dict:
    """The shopper's orders, the newest first."""
    return {"orders": list(orders_of(user)[:HISTORY_LENGTH]) if user.is_authenticated else []}
