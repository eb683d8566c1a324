"""Cached reads of the catalogue follow its changes: any saved or deleted product or brand (the admin, the shell)
starts a new catalogue generation (``generations``). Writes that bypass these signals (the import's bulk writes,
``refresh_in_stock``'s SQL) bump the generations themselves."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import generations
from .models import Brand, Product


@receiver([post_save, post_delete], sender=Product)
@receiver([post_save, post_delete], sender=Brand)
def catalogue_changed(sender: type, **kwargs: object) -> None:
    generations.bump(generations.CATALOGUE)
