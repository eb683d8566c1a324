"""The bag and the wishlist on other apps' pages: the product page's "Add to bag" form, the wishlist heart on
product cards and pages, and the mini-bag in the site header."""

from django import template
from django.template import engines
from django.utils.safestring import SafeString, mark_safe

from shop.models import Product

from .. import rules, selectors
from ..forms import clean_list_id
from ..sessions import current_cart, wishlisted_ids

register = template.Library()


@register.simple_tag(takes_context=True)
def add_to_cart(context: template.Context, product: Product) -> SafeString:
    """The size picker, the quantity and "Add to bag" (Jinja2: every product page renders it). The page's ``?lid=``
    (and ``pos``) travel with the form, for the attribution of the addition; when the form comes back with an error,
    the shopper's choices are kept."""
    request = _request(context)
    posted = request.POST if request.method == "POST" and request.POST.get("product") == str(product.pk) else None
    source = posted if posted is not None else request.GET
    skus = list(product.skus.all())
    available = [sku for sku in skus if sku.available]
    chosen = posted.get("sku") if posted is not None else None
    if chosen is None and len(available) == 1 and len(skus) == 1:
        chosen = str(available[0].pk)
    lid = clean_list_id(source.get("lid"))
    form = engines["jinja2"].get_template("cart/add_to_cart.html")
    return mark_safe(
        form.render(
            {
                "product": product,
                "skus": skus,
                "chosen": chosen,
                "quantity": (posted.get("quantity") if posted is not None else None) or 1,
                "max_quantity": rules.max_quantity(),
                "can_buy": product.for_sale and bool(available),
                "lid": lid,
                "pos": source.get("pos", "")[:20] if lid else "",
                "next": posted.get("next") if posted is not None else request.get_full_path(),
                "csrf_token": context.get("csrf_token"),
            }
        )
    )


@register.simple_tag(takes_context=True)
def wishlist_heart(context: template.Context, product: Product, size: str = "") -> SafeString:
    """A heart that puts the product on the wishlist or takes it off (``size="large"`` on the product page). The
    same Jinja2 macro draws the hearts of product cards (cart/jinja2/cart/wishlist_heart.html)."""
    heart = engines["jinja2"].get_template("cart/heart.html")
    return mark_safe(heart.render({"product": product, "size": size}, _request(context)))


@register.inclusion_tag("cart/_mini_bag.html", takes_context=True)
def mini_bag(context: template.Context) -> dict:
    """The header's bag: how many items, and a summary of them to open."""
    request = _request(context)
    bag = selectors.bag_summary(current_cart(request)) if request is not None else selectors.BagSummary()
    wishlist_count = len(wishlisted_ids(request)) if request is not None else 0
    return {"bag": bag, "wishlist_count": wishlist_count}


def _request(context: template.Context):
    """The request, also in a template that another inclusion tag renders (its context is new, the request stays)."""
    return context.get("request") or getattr(context, "request", None)
