from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.services import prune_events


class Command(BaseCommand):
    help = "Delete the interaction log's events older than the retention period (EVENTS_RETENTION_DAYS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=settings.EVENTS_RETENTION_DAYS, help="Keep this many days.")

    def handle(self, *args, days: int, **options) -> None:
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        deleted = prune_events(days=days)
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} events older than {days} days."))
