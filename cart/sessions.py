"""The visitor's bag and wishlist: the account's when logged in, else those whose ids the session holds.

The ids are kept in the session rather than its key, so they survive the new key that logging in gives the
session; ``merge_into_account`` (on ``user_logged_in``) then moves them into the account's.
"""

from django.contrib import messages
from django.http import HttpRequest

from . import selectors, services
from .models import Cart, Wishlist

CART_KEY = "cart_id"
WISHLIST_KEY = "wishlist_id"
_WISHLISTED = "_cart_wishlisted_ids"


def current_cart(request: HttpRequest, *, create: bool = False) -> Cart | None:
    """The visitor's bag; None when there is none yet, unless ``create``."""
    return _current(request, Cart, CART_KEY, services.get_or_create_cart, create)


def current_wishlist(request: HttpRequest, *, create: bool = False) -> Wishlist | None:
    return _current(request, Wishlist, WISHLIST_KEY, services.get_or_create_wishlist, create)


def wishlisted_ids(request: HttpRequest) -> set[int]:
    """Ids of the products on the visitor's wishlist: read once per request, however many hearts a page shows."""
    if not hasattr(request, _WISHLISTED):
        setattr(request, _WISHLISTED, selectors.wishlist_product_ids(current_wishlist(request)))
    return getattr(request, _WISHLISTED)


def merge_into_account(request: HttpRequest, user) -> None:
    """Move the bag and wishlist the visitor had before logging in into the account's, saying what changed."""
    session = getattr(request, "session", None)
    if session is None:
        return
    cart = Cart.objects.filter(pk=session.pop(CART_KEY, None), user=None).first()
    if cart is not None:
        notes = services.merge_carts(cart, services.get_or_create_cart(user))
        for note in notes:
            messages.warning(request, note, fail_silently=True)
    wishlist = Wishlist.objects.filter(pk=session.pop(WISHLIST_KEY, None), user=None).first()
    if wishlist is not None:
        services.merge_wishlists(wishlist, services.get_or_create_wishlist(user))


def _current(request: HttpRequest, model: type, key: str, create_one, create: bool):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        owned = model.objects.filter(user=user).first()
        return owned if owned is not None or not create else create_one(user)
    session = getattr(request, "session", None)
    pk = session.get(key) if session is not None else None
    found = model.objects.filter(pk=pk, user=None).first() if isinstance(pk, int) else None
    if found is None and create and session is not None:
        found = create_one(None)
        session[key] = found.pk
    return found
