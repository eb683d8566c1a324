from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cart.services import delete_abandoned


class Command(BaseCommand):
    help = "Delete visitors' bags and wishlists (not accounts') that have not changed for some days."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=30, help="Unchanged for this many days (default 30).")

    def handle(self, *args, days: int, **options) -> None:
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        carts, wishlists = delete_abandoned(timezone.now() - timedelta(days=days))
        self.stdout.write(f"Deleted {carts} visitors' bags and {wishlists} wishlists unchanged for {days} days.")
