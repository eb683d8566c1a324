from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"
    verbose_name = "Recommendations"

    def ready(self) -> None:
        from experiments.placements import LIMIT, Placement, register

        from .templatetags.recommendations_tags import SIMILAR_ITEMS_PLACEMENT, VISUAL
        from .vectors import receivers  # noqa: F401  (connects the signal receivers)

        # A/B tests of similar items: how many, and whether the products' labels re-rank the visual neighbours.
        register(Placement(SIMILAR_ITEMS_PLACEMENT, lambda: [VISUAL], {LIMIT: int, "metadata_ranking": bool}))
