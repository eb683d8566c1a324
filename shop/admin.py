"""The catalogue in Django's admin: browse, filter and search 44k products, edit one and replace its image."""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.files import File
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .catalog_json import sanitise_description
from .models import Brand, Product, Sku
from .services import refresh_in_stock
from .signals import product_images_changed

THUMBNAIL_HEIGHT = 40  # The catalogue's images are 60x80: half size, crisp on high-density screens.
PREVIEW_HEIGHT = 160
NO_IMAGE_STYLE = (
    "display:inline-flex;align-items:center;justify-content:center;box-sizing:border-box;"
    "border:1px dashed var(--border-color);color:var(--body-quiet-color);font-size:10px;text-align:center"
)


def file_sha256(file: File) -> str:
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def image_tag(product: Product, height: int) -> SafeString:
    if not product.image:
        width = height * 3 // 4
        return format_html('<span style="{};width:{}px;height:{}px">no image</span>', NO_IMAGE_STYLE, width, height)
    return format_html('<img src="{}" alt="" height="{}" loading="lazy">', product.image.url, height)


@dataclass(frozen=True)
class ProductAdminExtension:
    """What another app shows in the product admin, without the catalogue importing that app.

    ``columns`` and ``panels`` are ``admin.display`` functions of a product (columns of the list, read-only lines
    of the change page under ``panel_title``); ``actions`` are ``admin.action`` functions of the list; ``annotate``
    adds what the columns read to the list's queryset, once per request.
    """

    columns: Sequence[Callable[[Product], object]] = ()
    panel_title: str = ""
    panels: Sequence[Callable[[Product], object]] = ()
    actions: Sequence[Callable[[admin.ModelAdmin, HttpRequest, QuerySet[Product]], None]] = ()
    annotate: Callable[[QuerySet[Product], HttpRequest], QuerySet[Product]] | None = None


# Filled by other apps' admin modules (``extend_product_admin``) and read at request time, so that the order in
# which apps are installed and their admin modules imported does not matter.
_extensions: list[ProductAdminExtension] = []


def extend_product_admin(extension: ProductAdminExtension) -> None:
    _extensions.append(extension)


class SkuInline(admin.TabularInline):
    """Sizes and their stock: an empty stock is not tracked (always available)."""

    model = Sku
    fields = ["kind", "label", "position", "stock"]
    extra = 0


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "product_count"]
    search_fields = ["name"]
    # Explicit: the model's default ordering does not apply to the annotated (GROUP BY) queryset, which the
    # product form's brand autocomplete pages through.
    ordering = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Brand]:
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description="Products", ordering="product_count")
    def product_count(self, brand: Brand) -> int:
        return brand.product_count


class HasImageFilter(admin.SimpleListFilter):
    title = "image"
    parameter_name = "has_image"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "With image"), ("no", "Without image")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() == "yes":
            return queryset.exclude(image="")
        if self.value() == "no":
            return queryset.filter(image="")
        return queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "thumbnail",
        "id",
        "name",
        "gender",
        "article_type",
        "base_colour",
        "season",
        "year",
        "brand",
        "price",
        "list_price",
        "in_stock",
        "updated_at",
    ]
    list_editable = ["price", "list_price"]
    list_select_related = ["brand"]
    list_display_links = ["thumbnail", "id", "name"]
    list_filter = [
        "gender",
        "master_category",
        "sub_category",
        "article_type",
        "base_colour",
        "season",
        "usage",
        "year",
        "in_stock",
        HasImageFilter,
        ("brand", admin.RelatedOnlyFieldListFilter),
    ]
    # "=id" compares the id as text: a number finds that product, any other word simply matches no id.
    search_fields = ["=id", "name"]
    search_help_text = "Product name, or a product id."
    list_per_page = 50
    show_full_result_count = False
    save_on_top = True
    readonly_fields = ["image_preview", "image_size", "image_sha256", "in_stock", "created_at", "updated_at"]
    autocomplete_fields = ["brand", "colours"]
    inlines = [SkuInline]
    fieldsets = [
        (
            "Description",
            {
                "fields": [
                    "name",
                    ("gender", "year"),
                    ("master_category", "sub_category"),
                    ("article_type", "base_colour"),
                    ("season", "usage"),
                ]
            },
        ),
        ("Image", {"fields": ["image_preview", "image"]}),
        ("Commerce", {"fields": ["brand", ("price", "list_price"), "cash_on_delivery", "in_stock"]}),
        ("Details", {"fields": ["description", "attributes", "age_group", "added_at", "colours"]}),
        ("Metadata", {"fields": ["image_sha256", "image_size", ("created_at", "updated_at")]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        # The full-text vector is only for the storefront's search; the admin never shows it.
        queryset = super().get_queryset(request).defer("search_vector")
        for extension in _extensions:
            if extension.annotate:
                queryset = extension.annotate(queryset, request)
        return queryset

    def get_list_display(self, request: HttpRequest) -> list:
        return [*super().get_list_display(request), *(column for e in _extensions for column in e.columns)]

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> list:
        return [*super().get_readonly_fields(request, obj), *(panel for e in _extensions for panel in e.panels)]

    def get_fieldsets(self, request: HttpRequest, obj: Product | None = None) -> list:
        panels = [(e.panel_title, {"fields": list(e.panels)}) for e in _extensions if e.panels and obj is not None]
        return [*super().get_fieldsets(request, obj), *panels]

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if IS_POPUP_VAR in request.GET:
            return actions
        extra = [(action, action.__name__, action.short_description) for e in _extensions for action in e.actions]
        for action, name, description in self._filter_actions_by_permissions(request, extra):
            actions[name] = (action, name, description)
        return actions

    def save_model(self, request: HttpRequest, obj: Product, form: ModelForm, change: bool) -> None:
        obj.description = sanitise_description(obj.description)
        if "image" in form.changed_data:
            upload = form.cleaned_data["image"]  # False when the image was cleared.
            obj.image_sha256 = file_sha256(upload) if upload else ""
        super().save_model(request, obj, form, change)
        if "image" in form.changed_data and obj.image:
            product_images_changed.send(sender=Product, product_ids=[obj.pk])

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: list, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        refresh_in_stock([form.instance.pk])

    @admin.display(description="Image")
    def thumbnail(self, product: Product) -> SafeString:
        return image_tag(product, THUMBNAIL_HEIGHT)

    @admin.display(description="Current image")
    def image_preview(self, product: Product) -> SafeString:
        return image_tag(product, PREVIEW_HEIGHT)

    @admin.display(description="Image size")
    def image_size(self, product: Product) -> str | None:
        if not product.image or product.image_width is None:
            return None
        return f"{product.image_width} x {product.image_height} px"
