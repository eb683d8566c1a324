import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from kombu.exceptions import ChannelError, KombuError
from tqdm import tqdm

from recommendations.embedding.manifest import ModelFilesError
from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors import services
from recommendations.vectors.selectors import products_to_embed, products_with_image
from recommendations.vectors.tasks import embed_products
from shop.models import Product

# --async gives up when the workers have made no progress for this long.
STALL_SECONDS = 600
# --async: with no progress for this long (--resend-after) and nothing waiting in the queue, the batches not done
# were lost, by a broker that restarted without them: they are sent again. A batch takes seconds.
RESEND_SECONDS = 60
# A database that went away (a restart) is waited for this long before the command gives up.
DATABASE_RETRY_SECONDS = 120
DATABASE_ERRORS = (OperationalError, InterfaceError)
# The broker cannot be reached: kombu's OperationalError (a KombuError), raised once its retries are spent.
BROKER_ERRORS = (KombuError, OSError)

T = TypeVar("T")


def retrying(call: Callable[[], T], say: Callable[[str], None], seconds: float = DATABASE_RETRY_SECONDS) -> T:
    """``call()``, tried again while the database cannot be reached, for up to ``seconds``. Every step that it
    wraps may run twice: reads, and writes that rewrite the same rows."""
    deadline, delay = time.monotonic() + seconds, 0.5
    while True:
        try:
            return call()
        except DATABASE_ERRORS as error:
            if connection.in_atomic_block or time.monotonic() + delay > deadline:
                raise  # a caller's transaction (a test's) is lost with its connection
            say(f"The database cannot be reached ({str(error).strip()}); trying again in {delay:.1f} s.")
            connection.close()  # this thread's; the next query connects again
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _store(space: EmbeddingSpace, rows: list[ProductEmbedding], say: Callable[[str], None]) -> int:
    try:
        retrying(lambda: services.store_embeddings(space, rows), say)
        return len(rows)
    finally:
        connection.close()  # the writer thread's own connection


def queued_batches() -> int | None:
    """Batches waiting in the embedding queue of the broker; None when the broker cannot be asked."""
    app = embed_products.app
    queue = app.amqp.router.route({}, embed_products.name)["queue"].name
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except ChannelError:
        return 0  # Redis keeps no empty queue: "not found"
    except BROKER_ERRORS:
        return None


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
        parser.add_argument(
            "--resend-after",
            type=float,
            default=RESEND_SECONDS,
            help="--async: seconds without progress, with an empty queue, after which the batches not done are sent "
            "again (a broker that restarted lost them).",
        )

    def handle(
        self,
        *args,
        model: str | None,
        selection: str | None,
        batch_size: int,
        run_async: bool,
        resend_after: float,
        **options,
    ):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            space = retrying(lambda: services.get_or_create_space(model or settings.EMBEDDING_MODEL), self._say)
        except ModelFilesError as error:
            raise CommandError(str(error)) from error
        query = products_to_embed(space, selection or "missing").order_by("pk").values_list("pk", flat=True)
        ids = retrying(lambda: list(query), self._say)
        self.stdout.write(f"{space.version}: {len(ids)} products to embed ({selection or 'missing'}).")

        started = timezone.now()
        bar = tqdm(total=len(ids), desc="Embedding", unit=" img", file=self.stderr, disable=options["verbosity"] == 0)
        try:
            with bar:
                if run_async:
                    self._run_on_workers(space, ids, batch_size, bar, resend_after)
                else:
                    self._run_here(space, ids, batch_size, bar)
            self._report(space, ids, started)
        except DATABASE_ERRORS as error:
            raise CommandError(
                f"The database could not be reached for {DATABASE_RETRY_SECONDS} s ({error}). What was stored is "
                "kept: run the command again to embed the rest (--missing)."
            ) from error

    def _say(self, message: str) -> None:
        self.stderr.write(message)

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
                rows, _ = retrying(lambda batch=batch: services.compute_embeddings(space, batch), self._say)
                if writing:
                    bar.update(writing.result())
                writing = writer.submit(_store, space, rows, self._say)
            if writing:
                bar.update(writing.result())

    def _run_on_workers(
        self, space: EmbeddingSpace, ids: list[int], batch_size: int, bar: tqdm, resend_after: float
    ) -> None:
        """Send the batches, then follow the rows that the workers write. The database, not the broker, says what
        is done: batches that a broker lost are sent again (``resend_after``), and a database that went away for a
        while is waited for."""
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self.stderr.write("No CELERY_BROKER_URL is configured: the batches run in this process.")
        started = timezone.now()
        sent = self._send(space, ids, batch_size)
        self.stderr.write(f"Sent {sent} batches to the workers.")
        written = ProductEmbedding.objects.filter(space=space, product_id__in=ids, updated_at__gte=started)
        done, last_change, database_down = 0, time.monotonic(), False
        while done < len(ids):
            time.sleep(1)
            try:
                now_done = written.count()
            except DATABASE_ERRORS as error:
                if not database_down:
                    self._say(f"The database cannot be reached ({str(error).strip()}); waiting for it.")
                database_down = True
                connection.close()
                now_done = done
            else:
                database_down = False
            stalled = time.monotonic() - last_change
            if now_done != done:
                bar.update(now_done - done)
                done, last_change = now_done, time.monotonic()
            elif stalled > STALL_SECONDS:
                raise CommandError(
                    f"No progress for {STALL_SECONDS}s with {len(ids) - done} products left: is a worker running "
                    f"(celery -A config worker) on {settings.CELERY_BROKER_URL}?"
                )
            elif stalled > resend_after and not database_down and queued_batches() == 0:
                done_ids = retrying(lambda: set(written.values_list("product_id", flat=True)), self._say)
                missing = sorted(set(ids) - done_ids)
                self._say(
                    f"No progress for {stalled:.0f} s and no batch waiting in the queue: sending the {len(missing)} "
                    "products not done again."
                )
                self._send(space, missing, batch_size)
                last_change = time.monotonic()
        self._wait_for_completion(space, resend_after)

    def _send(self, space: EmbeddingSpace, ids: list[int], batch_size: int) -> int:
        """Send these products to the workers in batches; returns how many were sent before the broker failed."""
        sent = 0
        for batch in services.chunked(ids, batch_size):
            try:
                embed_products.delay(space.pk, batch)
            except BROKER_ERRORS as error:
                self._say(f"The broker cannot be reached ({error}): the other batches are sent when it is back.")
                break
            sent += 1
        return sent

    def _wait_for_completion(self, space: EmbeddingSpace, grace: float) -> None:
        """The worker that writes the last batch completes the space (and builds its index) just after. If it has
        not done so after ``grace`` seconds (it failed, or its retry was lost with the broker), do it here."""
        if retrying(lambda: products_with_image().exclude(embeddings__space=space).exists(), self._say):
            return  # not every product has a row yet: the space cannot complete
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            retrying(space.refresh_from_db, self._say)
            if space.state == EmbeddingSpace.State.COMPLETE:
                return
            time.sleep(1)
        retrying(lambda: services.complete_space_if_done(space), self._say)

    def _report(self, space: EmbeddingSpace, ids: list[int], started) -> None:
        rows = ProductEmbedding.objects.filter(space=space, product_id__in=ids, updated_at__gte=started)

        def read() -> tuple[int, list[tuple[int, str]], list[int]]:
            failed = list(rows.filter(status=ProductEmbedding.Status.FAILED).values_list("product_id", "error"))
            without_image = list(Product.objects.filter(image="").order_by("pk").values_list("pk", flat=True))
            space.refresh_from_db()
            return rows.filter(status=ProductEmbedding.Status.OK).count(), failed, without_image

        embedded, failed, without_image = retrying(read, self._say)
        for product_id, error in failed:
            self.stdout.write(self.style.WARNING(f"product {product_id}: {error}"))
        state = "complete, serving similar items" if space.state == EmbeddingSpace.State.COMPLETE else "still building"
        self.stdout.write(
            self.style.SUCCESS(
                f"Embedded {embedded}, failed {len(failed)}, skipped {len(without_image)} without image"
                + (f" ({', '.join(map(str, without_image[:20]))})" if without_image else "")
                + f". Space {space.version} is {state}."
            )
        )
