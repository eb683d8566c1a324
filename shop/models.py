from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.urls import reverse

# The storefront's facets: (field name, label), in the order they are shown.
FACET_FIELDS: list[tuple[str, str]] = [
    ("gender", "Gender"),
    ("master_category", "Category"),
    ("sub_category", "Sub-category"),
    ("article_type", "Article type"),
    ("base_colour", "Colour"),
    ("season", "Season"),
    ("usage", "Usage"),
]


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

    # The Kaggle data has no prices or stock; they stay empty until the shop sets them.
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    stock = models.PositiveIntegerField(null=True, blank=True, help_text="Empty means not tracked.")

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
            GinIndex(fields=["search_vector"], name="shop_product_search_gin"),
            GinIndex(name="shop_product_name_trgm", fields=["name"], opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'Unnamed product'} ({self.pk})"

    def get_absolute_url(self) -> str:
        return reverse("shop:product-detail", args=[self.pk])

    @property
    def has_image(self) -> bool:
        return bool(self.image)

    @property
    def in_stock(self) -> bool | None:
        return None if self.stock is None else self.stock > 0
