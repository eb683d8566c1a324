from django.apps import AppConfig


class CartConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cart"
    verbose_name = "Bags and wishlists"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the merge on login)
