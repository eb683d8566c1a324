from django.apps import AppConfig


class ShopConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shop"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
