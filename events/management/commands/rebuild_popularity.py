import time

from django.core.management.base import BaseCommand

from events.models import Event
from events.popularity import rebuild_popularity, weights


class Command(BaseCommand):
    help = (
        "Recompute every product's time-decayed popularity (what trending ranks by) from the interaction log: "
        "after changing PERSONALIZATION_WEIGHTS or PERSONALIZATION_HALF_LIFE_HOURS, or deleting events in bulk."
    )

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        products = rebuild_popularity()
        seconds = time.perf_counter() - started
        counted = Event.objects.filter(kind__in=list(weights()), product__isnull=False).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt the popularity of {products} products from {counted} events in {seconds:.1f} s."
            )
        )
