"""A shopper's bag (``Cart``, whose lines are sizes) and wishlist (of products).

A visitor who is not logged in has them too: they are found through ids kept in the session (``cart.sessions``),
and they are merged into the account's when the visitor logs in (``receivers``).
"""

from django.conf import settings
from django.db import models

from shop.models import Product, Sku


class Cart(models.Model):
    # Empty: a visitor's bag, found through the session.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="cart"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = "bag"

    def __str__(self) -> str:
        return f"Bag of {self.user}" if self.user_id else f"Visitor's bag {self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+", verbose_name="size")
    quantity = models.PositiveIntegerField()
    # The attribution id of the listing or recommendation the size was last added from (the product page's ?lid=),
    # carried onto the order line: what an order is attributed to.
    list_id = models.CharField(max_length=64, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        verbose_name = "bag line"
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cart_line_one_per_size"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cart_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class Wishlist(models.Model):
    # Empty: a visitor's wishlist, found through the session.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="wishlist"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return f"Wishlist of {self.user}" if self.user_id else f"Visitor's wishlist {self.pk}"


class WishlistItem(models.Model):
    wishlist = models.ForeignKey(Wishlist, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["wishlist", "product"], name="wishlist_item_once")]

    def __str__(self) -> str:
        return f"{self.product_id} in {self.wishlist_id}"
