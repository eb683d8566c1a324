"""Experiments in the admin: set one up (placement, variants, shares, metrics), start and stop it, read its results."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .forms import VariantFormSet, choice_field
from .models import Experiment, Variant
from .services import ExperimentError, start_experiment, stop_experiment


class VariantInline(admin.TabularInline):
    model = Variant
    formset = VariantFormSet
    extra = 2

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return choice_field(db_field) or super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return _is_draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return _is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return _is_draft(obj) and super().has_delete_permission(request, obj)


def _is_draft(experiment: Experiment | None) -> bool:
    """Variants and shares are fixed once an experiment starts: changing them would mix two experiments' data."""
    return experiment is None or experiment.status == Experiment.Status.DRAFT


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    inlines = [VariantInline]
    fields = ["name", "placement", "primary_metric", "guardrails", "status", "started_at", "stopped_at"]
    list_display = ["name", "placement", "status", "primary_metric", "started_at", "stopped_at", "exposed", "results"]
    list_filter = ["status", "placement"]
    search_fields = ["name"]
    actions = ["start", "stop"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return choice_field(db_field) or super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Experiment]:
        return super().get_queryset(request).annotate(exposed=Count("exposures"))

    def get_readonly_fields(self, request: HttpRequest, obj: Experiment | None = None) -> list[str]:
        fixed = ["status", "started_at", "stopped_at"]
        return fixed if _is_draft(obj) else [*fixed, "placement", "primary_metric", "guardrails"]

    @admin.display(description="exposed visitors", ordering="exposed")
    def exposed(self, experiment: Experiment) -> int:
        return experiment.exposed

    @admin.display(description="")
    def results(self, experiment: Experiment) -> str:
        if experiment.status == Experiment.Status.DRAFT:
            return ""
        url = reverse("admin:experiments_experiment_results", args=[experiment.pk])
        return format_html('<a href="{}">Results</a>', url)

    @admin.action(description="Start the selected experiments")
    def start(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        self._each(request, queryset, start_experiment, "started")

    @admin.action(description="Stop the selected experiments (their data is kept)")
    def stop(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        self._each(request, queryset, stop_experiment, "stopped")

    def _each(self, request: HttpRequest, queryset: QuerySet[Experiment], service, done: str) -> None:
        for experiment in queryset:
            try:
                service(experiment)
            except ExperimentError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, f"{experiment} {done}.", messages.SUCCESS)

    def get_urls(self):
        results = path(
            "<int:pk>/results/", self.admin_site.admin_view(self.results_view), name="experiments_experiment_results"
        )
        return [results, *super().get_urls()]

    def results_view(self, request: HttpRequest, pk: int) -> TemplateResponse:
        # Imported here: statsmodels and pandas cost every web worker 30 MB and a second and a half at start-up.
        from .charts import lift_chart
        from .results import experiment_results, metric_tables

        experiment = get_object_or_404(Experiment, pk=pk)
        if not self.has_view_permission(request, experiment):
            raise PermissionDenied
        found = experiment_results(experiment)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Results: {experiment}",
            "experiment": experiment,
            "results": found,
            "chart": lift_chart(found.timeline),
            "tables": metric_tables(found),
        }
        return TemplateResponse(request, "admin/experiments/experiment/results.html", context)
