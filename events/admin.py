"""The interaction log in the admin: read-only, filterable by kind, placement and strategy."""

from django.contrib import admin
from django.http import HttpRequest

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "visitor_id", "user", "product_id", "placement", "strategy", "position"]
    list_filter = ["kind", "placement", "strategy"]
    search_fields = ["=visitor_id", "=list_id", "=product__id", "query"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False
