"""The buffered writer against the real database: events wait out an outage, in memory and in spool files.

The writer's thread commits with its own connection, so these tests delete what they wrote themselves.
"""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from events.models import Event
from events.recorder import EventRecorder

pytestmark = pytest.mark.django_db


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"Not within {timeout} s.")


@pytest.fixture
def visitor() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def recorder(visitor: uuid.UUID) -> Iterator[EventRecorder]:
    """A writer of its own; whatever it holds or wrote of the test's visitor is gone afterwards."""
    recorder = EventRecorder()
    yield recorder
    recorder.forget({visitor})  # or the writer's exit handler would write it after the test
    with admin_connection(connection.settings_dict["NAME"]) as database:
        database.execute("DELETE FROM events_event WHERE visitor_id = %s", [visitor])


def server_params() -> dict:
    params = connection.get_connection_params()
    return {key: value for key, value in params.items() if key in {"host", "port", "user", "password"}}


@contextmanager
def admin_connection(dbname: str = "postgres") -> Iterator[psycopg.Connection]:
    with psycopg.connect(dbname=dbname, autocommit=True, **server_params()) as admin:
        yield admin


@contextmanager
def database_outage() -> Iterator[None]:
    """New connections to the test database are refused and the open ones cut (but the test's), until the block
    ends."""
    name = connection.settings_dict["NAME"]
    with admin_connection() as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            # Every connection but the test's own, the writer's among them.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                [name, connection.connection.info.backend_pid],
            )
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def event(visitor: uuid.UUID, number: int) -> dict:
    return {"kind": "search", "created_at": timezone.now(), "visitor_id": visitor, "query": f"query {number}"}


def written(visitor: uuid.UUID) -> int:
    return Event.objects.filter(visitor_id=visitor).count()


def test_events_are_written_in_the_background_and_wait_out_a_database_outage(recorder, visitor, tmp_path: Path):
    connection.ensure_connection()
    with override_settings(
        EVENTS_BUFFERED=True, EVENTS_FLUSH_SECONDS=0.2, EVENTS_BUFFER_LIMIT=10, EVENTS_SPOOL_DIR=tmp_path
    ):
        recorder.record(event(visitor, 0))
        wait_for(lambda: written(visitor) == 1)

        with database_outage():
            for number in range(1, 51):
                recorder.record(event(visitor, number))
            # The writer tries and fails meanwhile: at once without a pool, after DATABASE_POOL_TIMEOUT with one
            # (its pool waits that long for a connection). Beyond the limit, the oldest go to a spool file.
            wait_for(lambda: recorder.pending() == 10, timeout=settings.DATABASE_POOL_TIMEOUT + 10)
            assert written(visitor) == 1
            spooled = sum(len(path.read_text().splitlines()) for path in tmp_path.glob("events-*.jsonl"))
            assert spooled == 40

        wait_for(lambda: written(visitor) == 51)
    queries = sorted(Event.objects.filter(visitor_id=visitor).values_list("query", flat=True))
    assert queries == sorted(f"query {number}" for number in range(51))
    assert recorder.pending() == 0 and not list(tmp_path.iterdir())


def test_recording_never_waits_on_the_database(recorder, visitor, tmp_path: Path):
    settings = {"EVENTS_FLUSH_SECONDS": 60, "EVENTS_BATCH_SIZE": 5000, "EVENTS_SPOOL_DIR": tmp_path}
    with override_settings(EVENTS_BUFFERED=True, **settings):
        recorder.record(event(visitor, 0))  # starts the writer
        for number in range(1, 1001):
            recorder.record(event(visitor, number))
        assert written(visitor) == 0 and recorder.pending() == 1001  # nothing waited on the database
        recorder.flush()
    assert written(visitor) == 1001


def test_an_event_the_database_refuses_is_dropped_and_the_rest_of_its_batch_written(recorder, visitor, tmp_path):
    bad = event(visitor, 99) | {"list_id": "x" * 40}  # longer than the column
    with override_settings(EVENTS_BUFFERED=True, EVENTS_FLUSH_SECONDS=60, EVENTS_SPOOL_DIR=tmp_path):
        recorder.record(event(visitor, 1))
        recorder.record(bad)
        recorder.record(event(visitor, 2))
        recorder.flush()

    assert sorted(Event.objects.filter(visitor_id=visitor).values_list("query", flat=True)) == ["query 1", "query 2"]
    assert recorder.pending() == 0
