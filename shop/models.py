from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F

from .links import pk_url

# The storefront's facets: (field name, label), in the order they are shown.
FACET_FIELDS: list[tuple[str, str]] = [
    ("gender", "Gender"),
    ("master_category", "Category"),
    ("sub_category", "Sub-category"),
    ("article_type", "Article type"),
    ("base_colour", "Colour"),
    ("season", "Season"),
    ("usage", "Usage"),
    ("brand", "Brand"),
]
# A facet whose values are read through a relation: facet name -> lookup.
FACET_LOOKUPS: dict[str, str] = {"brand": "brand__name"}


class Brand(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A catalogue item. The id is the Kaggle ``styles.csv`` id and doubles as the SKU."""

    gender = models.CharField(max_length=32, null=True, blank=True)
    master_category = models.CharField("category", max_length=64, null=True, blank=True)
    sub_category = models.CharField("sub-category", max_length=64, null=True, blank=True)
    article_type = models.CharField(max_length=64, null=True, blank=True)
    base_colour = models.CharField("colour", max_length=64, null=True, blank=True)
    season = models.CharField(max_length=32, null=True, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    usage = models.CharField(max_length=64, null=True, blank=True)
    name = models.CharField("product name", max_length=255, null=True, blank=True)

    image = models.ImageField(
        upload_to="products/",
        blank=True,
        width_field="image_width",
        height_field="image_height",
    )
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # SHA-256 of the image bytes: lets the importer notice a changed image and
    # lets recommendations recognise byte-identical images under other ids.
    image_sha256 = models.CharField(max_length=64, blank=True, default="", editable=False, db_index=True)

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, null=True, blank=True, related_name="products")
    # Rupees. Empty: the product is shown and cannot be bought (never a price the data does not give).
    price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="What the shopper pays, in rupees."
    )
    list_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The price before the discount, when there is one (shown struck through).",
    )
    # The merchant's description, sanitised when it is imported or saved (catalog_json.sanitise_description).
    description = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True, help_text="e.g. Fit, Pattern, Fabric.")
    age_group = models.CharField(max_length=32, null=True, blank=True)
    added_at = models.DateTimeField("added to the catalogue", null=True, blank=True, db_index=True)
    cash_on_delivery = models.BooleanField(default=False, help_text="Whether it may be paid for on delivery.")
    # The same style in other colours, as the data links them (links to products not in the catalogue are dropped).
    colours = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="+")
    # Whether any size can be bought: kept by the services that change stock (see ``services.refresh_in_stock``).
    in_stock = models.BooleanField(default=True, db_index=True, editable=False)

    search_vector = models.GeneratedField(
        expression=SearchVector("name", "article_type", "base_colour", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["gender"]),
            models.Index(fields=["master_category"]),
            models.Index(fields=["sub_category"]),
            models.Index(fields=["article_type"]),
            models.Index(fields=["base_colour"]),
            models.Index(fields=["season"]),
            models.Index(fields=["usage"]),
            models.Index(fields=["gender", "article_type"]),
            models.Index(fields=["price"]),
            # "newest": the home page's shelves and the listing's sort, read in index order.
            models.Index(F("added_at").desc(nulls_last=True), F("id").desc(), name="shop_product_newest"),
            models.Index(
                "master_category", F("added_at").desc(nulls_last=True), F("id").desc(), name="shop_product_cat_newest"
            ),
            GinIndex(fields=["search_vector"], name="shop_product_search_gin"),
            GinIndex(name="shop_product_name_trgm", fields=["name"], opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'Unnamed product'} ({self.pk})"

    def get_absolute_url(self) -> str:
        return pk_url("shop:product-detail", self.pk)

    @property
    def has_image(self) -> bool:
        return bool(self.image)

    def clean(self) -> None:
        if self.price is not None and self.list_price is not None and self.price > self.list_price:
            raise ValidationError({"list_price": "The list price is what the price is discounted from: not below it."})

    @property
    def discount_percent(self) -> int:
        """Whole percent off the list price; 0 without a discount."""
        if not self.price or not self.list_price or self.list_price <= self.price:
            return 0
        return int((1 - self.price / self.list_price) * 100)

    @property
    def for_sale(self) -> bool:
        return self.price is not None


class Sku(models.Model):
    """One option of a product (a size, usually): what a cart line holds and what stock is counted by.

    The id is the data's ``skuId``.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    kind = models.CharField(max_length=32, default="Size")
    label = models.CharField("size", max_length=32)
    position = models.PositiveSmallIntegerField(default=0)
    # Empty: stock not tracked, the size can always be bought (the default: the data's inventory is a snapshot).
    stock = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: not tracked, always available.")

    class Meta:
        ordering = ["product", "position", "id"]
        verbose_name = "size"

    def __str__(self) -> str:
        return f"{self.product_id} {self.label}"

    @property
    def available(self) -> bool:
        return self.stock is None or self.stock > 0
