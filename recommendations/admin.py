"""Embedding status in the catalogue admin, and the embedding spaces themselves."""

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from shop.admin import ProductAdmin
from shop.models import Product

from . import services
from .models import EmbeddingSpace, ProductEmbedding
from .selectors import space_progress


def _current_space(request: HttpRequest) -> EmbeddingSpace | None:
    """The newest space of the configured model (the one being built or served), once per request."""
    if not hasattr(request, "_embedding_space"):
        spaces = EmbeddingSpace.objects.filter(backbone=settings.EMBEDDING_MODEL).order_by("-created_at")
        request._embedding_space = spaces.first()
    return request._embedding_space


admin.site.unregister(Product)


@admin.register(Product)
class ProductWithEmbeddingAdmin(ProductAdmin):
    list_display = [*ProductAdmin.list_display, "embedding_status"]
    readonly_fields = [*ProductAdmin.readonly_fields, "embeddings"]
    fieldsets = [*ProductAdmin.fieldsets, ("Embeddings", {"fields": ["embeddings"]})]
    actions = ["re_embed"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        queryset = super().get_queryset(request)
        space = _current_space(request)
        if space is None:
            return queryset
        row = ProductEmbedding.objects.filter(space=space, product=OuterRef("pk"))
        return queryset.annotate(
            _embedding_status=Subquery(row.values("status")[:1]),
            _embedding_error=Subquery(row.values("error")[:1]),
            _embedded_sha=Subquery(row.values("image_sha256")[:1]),
        )

    @admin.display(description="Embedding")
    def embedding_status(self, product: Product) -> str:
        if not product.image:
            return "no image"
        status = getattr(product, "_embedding_status", None)
        if status is None:
            return "missing"
        if status == ProductEmbedding.Status.FAILED:
            return f"failed: {product._embedding_error}"
        return "stale" if product._embedded_sha != product.image_sha256 else "embedded"

    @admin.display(description="Embeddings")
    def embeddings(self, product: Product) -> str:
        rows = product.embeddings.select_related("space").order_by("-space__created_at")
        lines = [
            f"{row.space.version}: {row.get_status_display()}{f' ({row.error})' if row.error else ''}"
            + (" - stale, the image changed since" if row.image_sha256 != product.image_sha256 else "")
            for row in rows
        ]
        return "\n".join(lines) or "Not embedded yet."

    @admin.action(description="Compute the embeddings of the selected products again")
    def re_embed(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        ids = list(queryset.exclude(image="").values_list("pk", flat=True))
        tasks = services.schedule_embeddings(services.target_space(), ids)
        self.message_user(request, f"{len(ids)} products sent for embedding in {tasks} batches.", messages.SUCCESS)


@admin.register(EmbeddingSpace)
class EmbeddingSpaceAdmin(admin.ModelAdmin):
    list_display = ["version", "backbone", "dimensions", "state", "progress", "created_at", "completed_at"]
    list_filter = ["backbone", "state"]
    readonly_fields = ["backbone", "version", "dimensions", "state", "created_at", "completed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Embedded / failed / products")
    def progress(self, space: EmbeddingSpace) -> str:
        counts = space_progress(space)
        return f"{counts['embedded']:,} / {counts['failed']:,} / {counts['products']:,}"
