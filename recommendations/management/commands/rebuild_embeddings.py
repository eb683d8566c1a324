import time
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from recommendations.embedding.manifest import ModelFilesError
from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors import services
from recommendations.vectors.selectors import products_to_embed, products_with_image
from recommendations.vectors.tasks import schedule_embeddings
from shop.models import Product

# --async gives up when the workers have made no progress for this long.
STALL_SECONDS = 600


def _store(space: EmbeddingSpace, rows: list[ProductEmbedding]) -> int:
    try:
        services.store_embeddings(space, rows)
        return len(rows)
    finally:
        connection.close()  # the writer thread's own connection


class Command(BaseCommand):
    help = "Compute the image embeddings of the catalogue, here or on the Celery workers (--async)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model", help="An exported model (export_embedding_model); default: the EMBEDDING_MODEL setting."
        )
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", dest="selection", action="store_const", const="all", help="Every product.")
        which.add_argument(
            "--missing",
            dest="selection",
            action="store_const",
            const="missing",
            help="Products with no embedding yet, or whose last try failed (the default).",
        )
        which.add_argument(
            "--stale", dest="selection", action="store_const", const="stale", help="Products whose image changed."
        )
        parser.add_argument(
            "--batch-size", type=int, default=settings.EMBEDDING_TASK_SIZE, help="Products per batch (per task)."
        )
        parser.add_argument("--async", dest="run_async", action="store_true", help="Enqueue batches for the workers.")

    def handle(self, *args, model: str | None, selection: str | None, batch_size: int, run_async: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            space = services.get_or_create_space(model or settings.EMBEDDING_MODEL)
        except ModelFilesError as error:
            raise CommandError(str(error)) from error
        ids = list(products_to_embed(space, selection or "missing").order_by("pk").values_list("pk", flat=True))
        self.stdout.write(f"{space.version}: {len(ids)} products to embed ({selection or 'missing'}).")

        started = timezone.now()
        bar = tqdm(total=len(ids), desc="Embedding", unit=" img", file=self.stderr, disable=options["verbosity"] == 0)
        with bar:
            if run_async:
                self._run_on_workers(space, ids, batch_size, bar)
            else:
                self._run_here(space, ids, batch_size, bar)
        self._report(space, ids, started)

    def _run_here(self, space: EmbeddingSpace, ids: list[int], batch_size: int, bar: tqdm) -> None:
        """Compute each batch while the previous one is written to the database."""
        if connection.in_atomic_block:
            # A caller's transaction (e.g. a test's) is invisible to another thread's connection.
            for batch in services.chunked(ids, batch_size):
                outcome = services.embed_products(space, batch)
                bar.update(outcome.embedded + len(outcome.failed))
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="store") as writer:
            writing: Future | None = None
            for batch in services.chunked(ids, batch_size):
                rows, _ = services.compute_embeddings(space, batch)
                if writing:
                    bar.update(writing.result())
                writing = writer.submit(_store, space, rows)
            if writing:
                bar.update(writing.result())

    def _run_on_workers(self, space: EmbeddingSpace, ids: list[int], batch_size: int, bar: tqdm) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self.stderr.write("No CELERY_BROKER_URL is configured: the batches run in this process.")
        started = timezone.now()
        tasks = schedule_embeddings(space, ids, batch_size=batch_size)
        self.stderr.write(f"Sent {tasks} batches to the workers.")
        done, last_change = 0, time.monotonic()
        while done < len(ids):
            time.sleep(1)
            now_done = ProductEmbedding.objects.filter(space=space, product_id__in=ids, updated_at__gte=started).count()
            if now_done != done:
                bar.update(now_done - done)
                done, last_change = now_done, time.monotonic()
            elif time.monotonic() - last_change > STALL_SECONDS:
                raise CommandError(
                    f"No progress for {STALL_SECONDS}s with {len(ids) - done} products left: is a worker running "
                    f"(celery -A config worker) on {settings.CELERY_BROKER_URL}?"
                )
        self._wait_for_completion(space)

    def _wait_for_completion(self, space: EmbeddingSpace) -> None:
        """The worker that writes the last batch completes the space (and builds its index) just after."""
        if products_with_image().exclude(embeddings__space=space).exists():
            return  # not every product has a row yet: the space cannot complete
        deadline = time.monotonic() + STALL_SECONDS
        while time.monotonic() < deadline:
            space.refresh_from_db()
            if space.state == EmbeddingSpace.State.COMPLETE:
                return
            time.sleep(1)

    def _report(self, space: EmbeddingSpace, ids: list[int], started) -> None:
        rows = ProductEmbedding.objects.filter(space=space, product_id__in=ids, updated_at__gte=started)
        failed = list(rows.filter(status=ProductEmbedding.Status.FAILED).values_list("product_id", "error"))
        for product_id, error in failed:
            self.stdout.write(self.style.WARNING(f"product {product_id}: {error}"))
        without_image = list(Product.objects.filter(image="").order_by("pk").values_list("pk", flat=True))
        space.refresh_from_db()
        state = "complete, serving similar items" if space.state == EmbeddingSpace.State.COMPLETE else "still building"
        self.stdout.write(
            self.style.SUCCESS(
                f"Embedded {rows.filter(status=ProductEmbedding.Status.OK).count()}, failed {len(failed)}, "
                f"skipped {len(without_image)} without image"
                + (f" ({', '.join(map(str, without_image[:20]))})" if without_image else "")
                + f". Space {space.version} is {state}."
            )
        )
