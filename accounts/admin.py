from django.contrib import admin

from .models import Address


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["full_name", "user", "city", "postcode", "is_default", "created_at"]
    list_select_related = ["user"]
    search_fields = ["full_name", "user__email", "postcode", "city"]
    raw_id_fields = ["user"]
