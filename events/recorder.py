"""Writing events without slowing pages or losing them.

A page only appends its events to a buffer in its process (microseconds). A background thread writes the buffer
in batches every ``EVENTS_FLUSH_SECONDS``. When the database cannot take them (it restarts, a connection drops) the
batch goes back into the buffer and is tried again, with a growing pause; beyond ``EVENTS_BUFFER_LIMIT`` pending
events, and when the process exits before they could be written, they are spooled to files in
``EVENTS_SPOOL_DIR``, which the next successful write loads back. With ``EVENTS_BUFFERED`` off (the tests),
each event is written at once in the caller's transaction.
"""

import atexit
import json
import logging
import os
import threading
import time
import uuid
from collections import deque
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, close_old_connections, connection, transaction

from .models import Event
from .popularity import add_popularity

logger = logging.getLogger(__name__)

MAX_PAUSE_SECONDS = 30.0


class EventRecorder:
    def __init__(self) -> None:
        self._buffer: deque[dict[str, Any]] = deque()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def record(self, fields: dict[str, Any]) -> None:
        if not settings.EVENTS_BUFFERED:
            _write_one(fields)
            return
        self._ensure_writer()
        self._buffer.append(fields)
        if len(self._buffer) >= settings.EVENTS_BATCH_SIZE:
            self._wake.set()

    def pending(self) -> int:
        return len(self._buffer)

    def flush(self) -> int:
        """Write everything buffered now, in this thread; returns how many were written. Raises ``DatabaseError``
        when the database cannot take them (they stay buffered)."""
        written = 0
        while self._buffer:
            written += self._write_batch()
        return written

    def forget(self, visitor_ids: set[uuid.UUID]) -> None:
        """Drop the buffered events of these visitors (a shopper deleting their data)."""
        with self._write_lock:
            kept = [fields for fields in self._buffer if fields["visitor_id"] not in visitor_ids]
            self._buffer.clear()
            self._buffer.extend(kept)

    def _ensure_writer(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._write_lock:
            if self._thread is not None and self._pid == os.getpid():
                return
            if self._pid is not None:
                # A forked child: the buffer it inherited is its parent's to write.
                self._buffer.clear()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
            self._thread.start()
            atexit.register(self._at_exit)

    def _run(self) -> None:
        pause = settings.EVENTS_FLUSH_SECONDS
        while True:
            self._wake.wait(pause)
            self._wake.clear()
            try:
                close_old_connections()  # the writer's own connection: renewed when the database dropped it
                self.flush()
                _load_spool(self._buffer)
                # Back to the pool while the writer sleeps, rather than holding one of the process's connections.
                close_old_connections()
                pause = settings.EVENTS_FLUSH_SECONDS
            except DatabaseError as error:
                connection.close()  # the writer's own, perhaps broken: opened anew on the next try
                pause = min(max(pause * 2, 1.0), MAX_PAUSE_SECONDS)
                logger.warning("Events not written (%s); %d pending, next try in %.0f s.", error, self.pending(), pause)
                self._spill_excess()
            except Exception:  # the writer must outlive any bad batch: log it and carry on
                logger.exception("The event writer failed; %d events pending.", self.pending())

    def _write_batch(self) -> int:
        with self._write_lock:
            batch = [self._buffer.popleft() for _ in range(min(settings.EVENTS_BATCH_SIZE, len(self._buffer)))]
        if not batch:
            return 0
        try:
            # A savepoint when a caller's transaction is open (a login flushing first): a refused batch spoils
            # nothing of the caller's.
            with transaction.atomic():
                Event.objects.bulk_create([Event(**fields) for fields in batch])
                add_popularity(batch)  # trending counts the batch once it is committed, never before or twice
        except (DataError, IntegrityError):
            return _write_one_by_one(batch)
        except DatabaseError:
            with self._write_lock:
                self._buffer.extendleft(reversed(batch))
            raise
        return len(batch)

    def _spill_excess(self) -> None:
        excess = len(self._buffer) - settings.EVENTS_BUFFER_LIMIT
        if excess > 0:
            with self._write_lock:
                oldest = [self._buffer.popleft() for _ in range(excess)]
            _spool(oldest)

    def _at_exit(self) -> None:
        if not self._buffer:
            return
        try:
            self.flush()
        except DatabaseError:
            with self._write_lock:
                pending = list(self._buffer)
                self._buffer.clear()
            _spool(pending)


def _write_one_by_one(batch: list[dict[str, Any]]) -> int:
    """A batch the database refused for what it holds: write what it takes, log and drop what it never will."""
    written = 0
    for fields in batch:
        try:
            _write_one(fields)
            written += 1
        except (DataError, IntegrityError) as error:
            logger.error("Event dropped, the database refuses it (%s): %r", error, fields)
    return written


def _write_one(fields: dict[str, Any]) -> None:
    with transaction.atomic():
        Event.objects.create(**fields)
        add_popularity([fields])


def _spool(events: list[dict[str, Any]]) -> None:
    folder = Path(settings.EVENTS_SPOOL_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"events-{os.getpid()}-{time.time_ns()}.jsonl"
    with path.open("w") as file:
        for fields in events:
            file.write(json.dumps(fields, default=_json_value) + "\n")
    logger.warning("Spooled %d events to %s: the database could not take them.", len(events), path)


def _load_spool(buffer: deque[dict[str, Any]]) -> None:
    """Put spooled events back in the buffer (each file once), to be written with the next batch."""
    folder = Path(settings.EVENTS_SPOOL_DIR)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("events-*.jsonl")):
        claimed = path.with_suffix(f".loading-{os.getpid()}")
        try:
            path.rename(claimed)  # several processes may look: one takes each file
        except FileNotFoundError:
            continue
        with claimed.open() as file:
            buffer.extend(_from_json(json.loads(line)) for line in file if line.strip())
        claimed.unlink()


def _json_value(value: object) -> str:
    if isinstance(value, datetime | uuid.UUID | Decimal):
        return str(value) if not isinstance(value, datetime) else value.isoformat()
    raise TypeError(f"{type(value).__name__} is not an event value")


def _from_json(fields: dict[str, Any]) -> dict[str, Any]:
    fields["created_at"] = datetime.fromisoformat(fields["created_at"])
    fields["visitor_id"] = uuid.UUID(fields["visitor_id"])
    if fields.get("value") is not None:
        fields["value"] = Decimal(fields["value"])
    return fields


recorder = EventRecorder()
