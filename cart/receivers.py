from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .sessions import merge_into_account


@receiver(user_logged_in, dispatch_uid="cart.merge_into_account")
def merge_visitor_bag(sender, request, user, **kwargs) -> None:
    """A visitor who logs in (or signs up) keeps the bag and the wishlist they had."""
    if request is not None:
        merge_into_account(request, user)
