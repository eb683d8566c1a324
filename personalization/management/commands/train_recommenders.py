import time

from django.core.management.base import BaseCommand, CommandError

from personalization import training


class Command(BaseCommand):
    help = (
        "Train the learnt recommendation models (the hybrid with its ALS, item-to-item, user-to-user and content "
        "models; BPR) on the interaction log, as the scheduled job does, and store them for the storefront."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("models", nargs="*", help=f"Only these, of: {', '.join(training.TRAINED)}.")

    def handle(self, *args, models: list[str], **options) -> None:
        started = time.perf_counter()
        try:
            runs = training.train(models or None, progress=self.stdout.write)
        except ValueError as error:
            raise CommandError(str(error)) from error
        for run in runs:
            self.stdout.write(
                f"{run.name}: {run.events:,} events, {run.shoppers:,} shoppers, {run.products:,} products,"
                f" {run.seconds:.1f} s, {len(run.artifact) / 1e6:.1f} MB"
            )
        self.stdout.write(self.style.SUCCESS(f"Trained {len(runs)} models in {time.perf_counter() - started:.1f} s."))
