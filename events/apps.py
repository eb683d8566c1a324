from django.apps import AppConfig


class EventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "events"
    verbose_name = "Interaction log"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
