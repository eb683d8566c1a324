from django.apps import AppConfig


class PersonalizationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "personalization"
    verbose_name = "Personal recommendations"

    def ready(self) -> None:
        from .placements import register_placements

        register_placements()
