"""Orders: what was bought, by whom, delivered where and paid how, as it was when the order was placed (names, sizes,
prices and the address are copied, so that later changes to the catalogue or the address book leave it alone)."""

from django.conf import settings
from django.db import models
from django.urls import reverse


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=20, unique=True, editable=False, help_text="What the shopper quotes.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    email = models.EmailField(help_text="Where the confirmation went.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLACED, db_index=True)

    # The delivery address, as it was given.
    full_name = models.CharField(max_length=100)
    phone = models.CharField(max_length=20)
    line1 = models.CharField("address", max_length=200)
    line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    city = models.CharField("town or city", max_length=100)
    state = models.CharField(max_length=100)
    postcode = models.CharField("postcode (PIN)", max_length=12)
    country = models.CharField(max_length=100)

    delivery_method = models.CharField(max_length=32, help_text="Its code in ORDER_DELIVERY_METHODS.")
    delivery_label = models.CharField(max_length=100)
    payment_method = models.CharField(max_length=32, help_text="Its code in ORDER_PAYMENT_METHODS.")
    payment_label = models.CharField(max_length=100)

    # Rupees.
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    delivery_price = models.DecimalField(max_digits=10, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)

    placed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Placed by the shopper simulator, not a real shopper (docs/simulation.md); removed with its history.
    synthetic = models.BooleanField(default=False, db_index=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total=models.F("subtotal") + models.F("delivery_price")), name="order_total_adds_up"
            ),
            models.CheckConstraint(
                condition=models.Q(subtotal__gte=0, delivery_price__gte=0), name="order_amounts_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", args=[self.number])

    def address_lines(self) -> list[str]:
        place = " ".join(part for part in (self.city, self.postcode) if part)
        return [part for part in (self.full_name, self.line1, self.line2, place, self.state, self.country) if part]

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines.all())


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # Kept to return stock on cancellation and to link to the product; the copies below are what was bought.
    sku = models.ForeignKey("shop.Sku", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    product = models.ForeignKey("shop.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    product_name = models.CharField(max_length=255)
    size_kind = models.CharField(max_length=32)
    size_label = models.CharField("size", max_length=32)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    # The attribution id of the listing or recommendation the size was added to the bag from ("": none).
    list_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=1), name="order_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_name} ({self.size_label})"

    @property
    def line_total(self):
        return self.unit_price * self.quantity


class Payment(models.Model):
    """A payment of an order by one of the payment methods (``orders.payments``)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # cash on delivery: to be collected
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    method = models.CharField(max_length=32)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reference = models.CharField(max_length=100, blank=True, help_text="The payment provider's, if any.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.amount} ({self.status})"


class StatusChange(models.Model):
    """The order's history: each status it was given, when and by whom."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=16, choices=Order.Status.choices)
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.order} {self.status}"
