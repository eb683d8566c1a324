"""Orders in the admin: read-only records whose status moves along the workflow (placed -> shipped -> delivered;
placed or shipped -> cancelled, which returns the stock), from the change page or the list's actions."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services
from .models import Order, OrderLine, Payment, StatusChange
from .services import OrderStatusError

ADDRESS_FIELDS = ["full_name", "phone", "line1", "line2", "city", "state", "postcode", "country"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["product_name", "size_label", "quantity", "unit_price", "product", "sku"]
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["method", "amount", "status", "reference", "created_at", "updated_at"]
    readonly_fields = fields


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    fields = ["status", "changed_at", "changed_by"]
    readonly_fields = fields
    verbose_name_plural = "history"


class OrderStatusForm(forms.ModelForm):
    """The status, offering only the order's present status and those it may move to."""

    class Meta:
        model = Order
        fields = ["status"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            allowed = {self.instance.status, *services.next_statuses(self.instance)}
            self.fields["status"].choices = [choice for choice in Order.Status.choices if choice[0] in allowed]
            self.fields["status"].help_text = "Cancelling puts the ordered units back into stock."


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    form = OrderStatusForm
    list_display = ["number", "placed_at", "email", "full_name", "total", "payment_label", "status"]
    list_filter = ["status", "payment_method", "delivery_method", "placed_at"]
    search_fields = ["=number", "email", "full_name", "postcode"]
    date_hierarchy = "placed_at"
    list_select_related = ["user"]
    actions = ["mark_shipped", "mark_delivered", "cancel"]
    inlines = [OrderLineInline, PaymentInline, StatusChangeInline]
    fieldsets = [
        (None, {"fields": ["number", "status", "placed_at", "updated_at", "user", "email"]}),
        ("Delivery", {"fields": [*ADDRESS_FIELDS, "delivery_label"]}),
        ("Payment", {"fields": ["payment_label", "subtotal", "delivery_price", "total"]}),
    ]
    readonly_fields = [
        *("number", "placed_at", "updated_at", "user", "email"),
        *ADDRESS_FIELDS,
        *("delivery_label", "payment_label", "subtotal", "delivery_price", "total"),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are placed at checkout

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a mistaken order is cancelled, which keeps its record and returns its stock

    def save_model(self, request: HttpRequest, obj: Order, form: forms.ModelForm, change: bool) -> None:
        if "status" in form.changed_data:
            try:
                services.change_status(obj, form.cleaned_data["status"], by=request.user)
            except OrderStatusError as error:  # changed meanwhile by someone else
                self.message_user(request, str(error), messages.ERROR)

    @admin.action(description="Mark selected orders as shipped")
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._change_status(request, queryset, Order.Status.SHIPPED)

    @admin.action(description="Mark selected orders as delivered")
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._change_status(request, queryset, Order.Status.DELIVERED)

    @admin.action(description="Cancel selected orders (returns their stock)")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._change_status(request, queryset, Order.Status.CANCELLED)

    def _change_status(self, request: HttpRequest, queryset: QuerySet[Order], status: str) -> None:
        changed = 0
        for order in queryset.order_by("pk"):
            try:
                services.change_status(order, status, by=request.user)
            except OrderStatusError as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                changed += 1
        if changed:
            label = Order.Status(status).label.lower()
            self.message_user(request, f"{changed} order{'s' if changed != 1 else ''} {label}.", messages.SUCCESS)
