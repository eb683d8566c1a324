"""The embedding spaces with their progress, and each product's embedding status in the catalogue admin."""

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from shop.admin import ProductAdminExtension, extend_product_admin
from shop.models import Product

from .models import EmbeddingSpace, ProductEmbedding
from .vectors import services
from .vectors.selectors import space_progress, space_rate
from .vectors.tasks import schedule_embeddings


def _current_space(request: HttpRequest) -> EmbeddingSpace | None:
    """The newest space of the configured model (the one being built or served), once per request: the admin
    asks for the queryset several times a page."""
    if not hasattr(request, "_embedding_space"):
        spaces = EmbeddingSpace.objects.filter(backbone=settings.EMBEDDING_MODEL).order_by("-created_at")
        request._embedding_space = spaces.first()
    return request._embedding_space


def _with_embedding_status(queryset: QuerySet[Product], request: HttpRequest) -> QuerySet[Product]:
    """The status of each product in the current space."""
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
def embedding_status(product: Product) -> str:
    if not product.image:
        return "no image"
    status = getattr(product, "_embedding_status", None)
    if status is None:
        return "missing"
    if status == ProductEmbedding.Status.FAILED:
        return f"failed: {product._embedding_error}"
    return "stale" if product._embedded_sha != product.image_sha256 else "embedded"


@admin.display(description="Embeddings")
def embeddings(product: Product) -> str:
    rows = product.embeddings.select_related("space").order_by("-space__created_at")
    lines = [
        f"{row.space.version}: {row.get_status_display()}{f' ({row.error})' if row.error else ''}"
        + (" - stale, the image changed since" if row.image_sha256 != product.image_sha256 else "")
        for row in rows
    ]
    return "\n".join(lines) or "Not embedded yet."


@admin.action(description="Compute the embeddings of the selected products again", permissions=["change"])
def re_embed(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Product]) -> None:
    ids = list(queryset.exclude(image="").values_list("pk", flat=True))
    tasks = schedule_embeddings(services.target_space(), ids)
    model_admin.message_user(request, f"{len(ids)} products sent for embedding in {tasks} batches.", messages.SUCCESS)


extend_product_admin(
    ProductAdminExtension(
        columns=[embedding_status],
        panel_title="Embeddings",
        panels=[embeddings],
        actions=[re_embed],
        annotate=_with_embedding_status,
    )
)


@admin.register(EmbeddingSpace)
class EmbeddingSpaceAdmin(admin.ModelAdmin):
    list_display = ["version", "backbone", "dimensions", "state", "progress", "created_at", "completed_at"]
    list_filter = ["backbone", "state"]
    readonly_fields = ["backbone", "version", "dimensions", "state", "created_at", "completed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Progress (embedded / failed / products)")
    def progress(self, space: EmbeddingSpace) -> SafeString:
        counts = space_progress(space)
        share = counts["done"] / counts["products"] if counts["products"] else 1.0
        return format_html(
            '<progress value="{}" max="1" style="width:8em"></progress> {}%{}<br>{} / {} / {}',
            f"{share:.4f}",
            int(share * 100),
            self._pace(space, counts["products"] - counts["done"]),
            f"{counts['embedded']:,}",
            f"{counts['failed']:,}",
            f"{counts['products']:,}",
        )

    @staticmethod
    def _pace(space: EmbeddingSpace, remaining: int) -> str:
        """While a space is being built: its rate over the last minute and the time left at that rate."""
        if space.state == EmbeddingSpace.State.COMPLETE or remaining <= 0:
            return ""
        rate = space_rate(space)
        if not rate:
            return ", no progress in the last minute"
        return f", {rate:.1f} photos/s, about {max(1, round(remaining / rate / 60))} min left"
