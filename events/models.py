"""The interaction log: what shoppers do, anonymous or signed in, with the list each product was shown in."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Visitor(models.Model):
    """A browser, known by a first-party cookie; linked to an account when its shopper logs in."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="visitors"
    )
    linked_at = models.DateTimeField(null=True, blank=True)
    # Made by the shopper simulator (personalization/simulation), not a real browser: see docs/simulation.md.
    synthetic = models.BooleanField(default=False)

    def __str__(self) -> str:
        return str(self.id)


class Event(models.Model):
    class Kind(models.TextChoices):
        VIEW = "view", "Product view"
        IMPRESSION = "impression", "List shown"
        CLICK = "click", "Click on a list"
        SEARCH = "search", "Search"
        PHOTO_SEARCH = "photo_search", "Search by photo"
        CART_ADD = "cart_add", "Added to cart"
        CART_REMOVE = "cart_remove", "Removed from cart"
        WISHLIST_ADD = "wishlist_add", "Added to wishlist"
        WISHLIST_REMOVE = "wishlist_remove", "Removed from wishlist"
        PURCHASE = "purchase", "Purchase"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(db_index=True)
    visitor_id = models.UUIDField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    # No constraint: the log keeps what was seen even once a product is gone, and is written in bulk.
    product = models.ForeignKey(
        "shop.Product", on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    # An impression's products, in the order shown.
    product_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Which list the product was shown in or reached from: its id (an impression's), where it was, by what
    # strategy, at which position (1-based). Later clicks, cart adds and purchases carry the same list id.
    list_id = models.CharField(max_length=32, blank=True, default="")
    placement = models.CharField(max_length=64, blank=True, default="")
    strategy = models.CharField(max_length=64, blank=True, default="")
    position = models.PositiveSmallIntegerField(null=True, blank=True)
    query = models.CharField(max_length=200, blank=True, default="")
    sku_id = models.BigIntegerField(null=True, blank=True)
    quantity = models.IntegerField(null=True, blank=True)
    order_id = models.BigIntegerField(null=True, blank=True)
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Simulated, not a real shopper's (docs/simulation.md): the simulator's bulk history, or a request that sent
    # the X-Lookalike-Synthetic header (its HTTP driver).
    synthetic = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["visitor_id", "created_at"]),
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["kind", "created_at"]),
            models.Index(fields=["list_id"], condition=~models.Q(list_id=""), name="events_event_list_id"),
            # Finds the simulated history (to remove it) without scanning the real log.
            models.Index(fields=["created_at"], condition=models.Q(synthetic=True), name="events_event_synthetic"),
            # An order's purchases, for "bought together".
            models.Index(fields=["order_id"], condition=models.Q(order_id__isnull=False), name="events_event_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.visitor_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class ProductPopularity(models.Model):
    """A product's time-decayed popularity, kept up to date as events are written (``events.popularity``).

    ``score`` is log2 of Σ weight(kind) · 2^((t_event - T0) / half-life) over the product's weighted events, T0 a
    fixed reference time: ordering by it orders by the decayed popularity at any moment, with no event read.
    """

    product = models.OneToOneField(
        "shop.Product", on_delete=models.DO_NOTHING, db_constraint=False, primary_key=True, related_name="+"
    )
    score = models.FloatField()
    last_event_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "product popularity"
        # Read backwards: trending is "ORDER BY score DESC, product_id DESC LIMIT n", one index scan.
        indexes = [models.Index(fields=["score", "product"], name="events_popularity_rank")]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.score:.3f}"
