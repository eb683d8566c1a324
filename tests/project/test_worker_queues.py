"""Two real Celery workers on Redis, each consuming its own queues: every kind of task runs where it is routed.

The embeddings worker consumes ``embeddings`` only, the general one ``default`` and ``events``. The tasks are sent
as the app sends them, with no queue named, so only ``CELERY_TASK_ROUTES`` decides where they go; each worker's
log names the tasks it received. The broker is a Redis database of its own (TEST_REDIS_URL's server, database 14),
so that the other worker tests' queues (database 15) are never touched.
"""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

from config.celery import app
from events.tasks import prune_old_events
from orders.tasks import send_order_confirmation
from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors.tasks import embed_products
from shop.models import Product
from tests.processes import Worker, celery_broker, fresh_space, wait_for

ROOT = Path(settings.BASE_DIR)
DATABASE = 14

pytestmark = pytest.mark.slow


def broker_url() -> str:
    base = urlparse(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    database = DATABASE if base.path.strip("/") != str(DATABASE) else DATABASE - 1
    return base._replace(path=f"/{database}").geturl()


@pytest.fixture
def broker() -> Iterator[str]:
    with celery_broker(broker_url()) as url:
        yield url


@pytest.fixture
def space(django_db_setup, django_db_blocker) -> Iterator[EmbeddingSpace]:
    with django_db_blocker.unblock(), fresh_space("queue-tests") as space:
        yield space


@pytest.fixture
def workers(broker: str, tmp_path: Path) -> Iterator[tuple[Worker, Worker]]:
    embeddings = Worker("embeddings", "embeddings", broker, tmp_path / "embeddings.log")
    general = Worker("general", "default,events", broker, tmp_path / "general.log")
    try:
        deadline = time.monotonic() + 120
        # Ready: each has declared its queues, so nothing sent from now on is lost.
        while not all(" ready." in worker.text() for worker in (embeddings, general)):
            for worker in (embeddings, general):
                assert worker.process.poll() is None, worker.text()
            assert time.monotonic() < deadline, embeddings.text() + general.text()
            time.sleep(0.2)
        yield embeddings, general
    finally:
        embeddings.stop()
        general.stop()


def test_each_task_runs_on_the_worker_of_its_queue(
    space: EmbeddingSpace, broker: str, workers: tuple[Worker, Worker], db: None
) -> None:
    # `db` last: it has the test database set up (pytest-django sets up only what tests ask for) and opens the test's
    # transaction after `space` has committed the space that the worker must see.
    embeddings, general = workers
    ids = list(Product.objects.exclude(image="").order_by("pk").values_list("pk", flat=True)[:4])

    with app.connection_for_write(broker) as conn:
        embed = embed_products.apply_async(args=[space.pk, ids], connection=conn)
        prune = prune_old_events.apply_async(connection=conn)
        # No such order: the task fails in the worker, after the log names the worker that received it.
        mail = send_order_confirmation.apply_async(args=[0], connection=conn)

    def finished(task_id: str) -> bool:
        text = embeddings.text() + general.text()
        return any(f"[{task_id}] {outcome}" in text for outcome in ("succeeded", "raised"))

    assert wait_for(lambda: all(finished(task.id) for task in (embed, prune, mail)), timeout=180), (
        embeddings.text() + general.text()
    )
    received = {worker: worker.text() for worker in workers}

    assert f"recommendations.vectors.tasks.embed_products[{embed.id}] received" in received[embeddings]
    assert f"events.tasks.prune_old_events[{prune.id}] received" in received[general]
    assert f"orders.tasks.send_order_confirmation[{mail.id}] received" in received[general]
    assert embed.id not in received[general]
    assert prune.id not in received[embeddings] and mail.id not in received[embeddings]
    assert f"[{embed.id}] succeeded" in received[embeddings], received[embeddings]
    assert f"[{prune.id}] succeeded" in received[general], received[general]
    assert ProductEmbedding.objects.filter(space=space, product_id__in=ids, status="ok").count() == len(ids)


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("recommendations.vectors.tasks.embed_products", "embeddings"),
        ("recommendations.vectors.tasks.a_future_task", "embeddings"),
        ("recommendations.offline.training.tasks.train", "training"),
        ("recommendations.tasks.a_future_job", "recommendations"),
        ("personalization.tasks.a_future_job", "recommendations"),
        ("events.tasks.prune_old_events", "events"),
        ("events.tasks.write_events", "events"),
        ("orders.tasks.send_order_confirmation", "default"),
        ("celery.backend_cleanup", "default"),
    ],
)
def test_routes_send_each_app_s_tasks_to_its_queue(task: str, queue: str) -> None:
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_a_worker_without_q_consumes_every_routed_queue() -> None:
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert set(app.amqp.queues) == routed | {settings.CELERY_TASK_DEFAULT_QUEUE}
    # Under its own routing key each, so that a task sent to one queue is not copied into the others.
    assert {name: queue.routing_key for name, queue in app.amqp.queues.items()} == {
        name: name for name in app.amqp.queues
    }
