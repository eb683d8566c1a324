from django.contrib import admin

from .models import TrainedModel


@admin.register(TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    """The trained runs, newest first: what each learnt from and how long it took (written by the training job)."""

    list_display = ["name", "trained_at", "events", "shoppers", "products", "seconds", "megabytes"]
    list_filter = ["name"]
    exclude = ["artifact"]
    readonly_fields = ["name", "trained_at", "events", "shoppers", "products", "seconds", "details"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("artifact")

    @admin.display(description="size (MB)")
    def megabytes(self, run: TrainedModel) -> str:
        return f"{run.details.get('bytes', 0) / 1e6:.1f}"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
