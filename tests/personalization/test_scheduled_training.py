"""The scheduled training runs on a real Celery worker: celery beat's entry names the task, the routes send it to
the ``recommendations`` queue, and the worker's run is what web processes then serve (``model_store``)."""

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app
from events.models import Event
from personalization import model_store
from personalization.models import TrainedModel
from personalization.strategies.base import Context
from personalization.strategies.learnt import ForYou
from personalization.tasks import train_recommenders
from shop.models import Product
from tests.processes import Worker, celery_broker, wait_for

pytestmark = pytest.mark.slow
DATABASE = 13


def broker_url() -> str:
    base = urlparse(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    return base._replace(path=f"/{DATABASE}").geturl()


@pytest.fixture
def empty_log() -> None:
    """Overrides the package's: it would open the test's transaction before the log is committed."""


@pytest.fixture
def committed_log(django_db_setup, django_db_blocker) -> Iterator[list[int]]:
    """Thirty shoppers' views, committed for the worker to read; removed afterwards with what it trained."""
    with django_db_blocker.unblock():
        products = list(Product.objects.order_by("pk").values_list("pk", flat=True)[:20])
        at = timezone.now() - timedelta(hours=1)
        Event.objects.bulk_create(
            Event(kind="view", product_id=products[(shopper + step) % 20], visitor_id=uuid.UUID(int=shopper + 1),
                  created_at=at + timedelta(seconds=step))
            for shopper in range(30) for step in range(6)
        )  # fmt: skip
        try:
            yield products
        finally:
            Event.objects.filter(visitor_id__in=[uuid.UUID(int=shopper + 1) for shopper in range(30)]).delete()
            TrainedModel.objects.all().delete()
            model_store.forget()


def test_beat_schedules_the_training_and_a_worker_of_the_recommendations_queue_runs_it(
    committed_log: list[int], tmp_path: Path, db: None
) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["train-recommenders"]
    assert entry["task"] == train_recommenders.name
    assert entry["schedule"] == settings.PERSONALIZATION_TRAINING_HOURS * 3600
    assert app.amqp.router.route({}, train_recommenders.name)["queue"].name == "recommendations"

    with celery_broker(broker_url()) as broker:
        worker = Worker("training", "recommendations", broker, tmp_path / "worker.log")
        try:
            assert wait_for(lambda: " ready." in worker.text(), timeout=120), worker.text()
            with app.connection_for_write(broker) as connection:
                sent = train_recommenders.apply_async(connection=connection)
            assert wait_for(lambda: f"[{sent.id}] succeeded" in worker.text(), timeout=300), worker.text()
        finally:
            worker.stop()

    assert set(TrainedModel.objects.values_list("name", flat=True)) == {"hybrid", "bpr"}
    assert TrainedModel.objects.get(name="hybrid").shoppers == 30
    model_store.forget()
    visitor = uuid.UUID(int=1)  # one of the trained shoppers: served from the worker's run
    assert ForYou("for_you").candidates(Context(visitor_id=visitor), 5)
