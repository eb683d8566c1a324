"""A real Celery worker process on the real Redis embeds real catalogue images.

These tests commit their data (the worker is another process and must see it),
so they use the committed catalogue (the fixture's; the sample's for the dataset test)
and delete the space they build.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from config.celery import app
from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors import services
from recommendations.vectors.tasks import embed_products
from shop.models import Product
from tests.processes import celery_broker, database_url, fresh_space

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
VISIBILITY_TIMEOUT = 5
ROOT = Path(settings.BASE_DIR)

pytestmark = pytest.mark.slow


@pytest.fixture
def committed(django_db_setup, django_db_blocker) -> Iterator[EmbeddingSpace]:
    """Database access outside a test transaction, and a fresh space that is deleted afterwards."""
    with django_db_blocker.unblock(), fresh_space("worker-tests") as space:
        yield space


@pytest.fixture
def broker() -> Iterator[str]:
    with celery_broker(REDIS_URL) as url:
        yield url


@pytest.fixture
def worker_env(broker: str) -> dict[str, str]:
    """The environment of a process that works on the test database through the test broker."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "EMBEDDING_MODELS_DIR": str(settings.EMBEDDING_MODELS_DIR),
        "CATALOG_DATASET_DIR": str(settings.CATALOG_DATASET_DIR),  # out of reach in tier 1 (conftest)
    }


@pytest.fixture
def start_worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    workers: list[subprocess.Popen] = []
    env = worker_env

    def start() -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(workers)}.log").open("w")
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "1", "--loglevel", "info",
             "--without-gossip", "--without-mingle", "--hostname", f"test-{uuid.uuid4().hex[:8]}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def send(space: EmbeddingSpace, ids: list[int]) -> None:
    with app.connection_for_write(REDIS_URL) as conn:
        embed_products.apply_async(args=[space.pk, ids], connection=conn)


def wait_for_rows(space: EmbeddingSpace, ids: list[int], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = ProductEmbedding.objects.filter(space=space, product_id__in=ids).count()
        if done == len(ids):
            return done
        time.sleep(0.5)
    return ProductEmbedding.objects.filter(space=space, product_id__in=ids).count()


def sample_ids(count: int, offset: int = 0) -> list[int]:
    return list(Product.objects.exclude(image="").order_by("pk").values_list("pk", flat=True)[offset : offset + count])


def test_worker_embeds_real_catalogue_images(committed: EmbeddingSpace, start_worker) -> None:
    ids = sample_ids(40)
    start_worker()

    send(committed, ids[:20])
    send(committed, ids[20:])

    assert wait_for_rows(committed, ids, timeout=180) == len(ids)
    rows = ProductEmbedding.objects.filter(space=committed, product_id__in=ids)
    assert {row.status for row in rows} == {ProductEmbedding.Status.OK}, {row.error for row in rows}
    product = Product.objects.get(pk=ids[0])
    with open(product.image.path, "rb") as handle:
        local = services.get_encoder(committed.backbone).encode_one(handle)
    stored = np.asarray(rows.get(product_id=ids[0]).vector)
    assert float(np.dot(local, stored)) > 0.999


@pytest.mark.dataset
def test_a_worker_killed_mid_batch_loses_no_work(committed: EmbeddingSpace, start_worker, tmp_path: Path) -> None:
    # A batch that takes ~10 s, to be killed in the middle of: 1,500 products, more than the fixture has.
    warm_up, batch = sample_ids(4), sample_ids(1500, offset=4)
    assert len(batch) == 1500
    first = start_worker()
    send(committed, warm_up)
    assert wait_for_rows(committed, warm_up, timeout=180) == len(warm_up)  # the model is loaded

    send(committed, batch)
    log = tmp_path / "worker-0.log"
    deadline = time.monotonic() + 30
    while log.read_text().count("received") < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # well into the batch, which takes ~10 s
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert ProductEmbedding.objects.filter(space=committed, product_id__in=batch).count() == 0

    time.sleep(VISIBILITY_TIMEOUT + 1)  # the unacknowledged batch becomes visible again
    start_worker()

    assert wait_for_rows(committed, batch, timeout=240) == len(batch)
    assert ProductEmbedding.objects.filter(space=committed, product_id__in=batch, status="ok").count() == len(batch)


def test_rebuild_async_follows_the_workers_to_the_end(
    committed: EmbeddingSpace, start_worker, worker_env: dict[str, str]
) -> None:
    products = Product.objects.exclude(image="").count()
    start_worker()

    command = subprocess.run(
        [sys.executable, "manage.py", "rebuild_embeddings", "--async", "--batch-size", "500"],
        cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip

    assert command.returncode == 0, command.stderr
    assert f"Sent {-(-products // 500)} batches to the workers" in command.stderr
    assert "img/s" in command.stderr
    assert f"Embedded {products}, failed 0" in command.stdout
    assert "is complete, serving similar items" in command.stdout
    committed.refresh_from_db()
    assert committed.state == EmbeddingSpace.State.COMPLETE
