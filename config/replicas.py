"""Read replicas: the storefront's reads that may be a little stale go to them, everything else to the primary.

A read goes to a replica only inside ``stale_reads_ok()``, which the selectors of similar items, recommendation lists
and catalogue listings enter. Writes, reads inside a transaction on the primary, and every read outside that scope
(the bag, checkout, the admin, the interaction log) stay on ``default``. The replicas are the aliases in
``settings.DATABASE_REPLICAS`` (from ``DATABASE_REPLICA_URLS``); with none, every read goes to ``default``.

Querysets that are handed out unevaluated, and raw SQL, must take their alias from ``router.db_for_read(Model)``
inside the scope, since the scope has ended by the time they run.
"""

import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model

logger = logging.getLogger(__name__)

# A replica that cannot be reached is left out of the choice for this long (per process).
RETRY_SECONDS = 30.0

_stale_reads_ok: ContextVar[bool] = ContextVar("stale_reads_ok", default=False)
_down_until: dict[str, float] = {}


@contextmanager
def stale_reads_ok() -> Iterator[None]:
    """Reads inside may be answered by a replica, a little behind the primary. Also a decorator."""
    token = _stale_reads_ok.set(True)
    try:
        yield
    finally:
        _stale_reads_ok.reset(token)


def reachable_replica() -> str | None:
    """A replica picked at random among those that answer, else None; the one this thread is connected to, if any,
    so that a request's reads see one state of the data (replicas lag by different amounts)."""
    now = time.monotonic()
    candidates = [alias for alias in settings.DATABASE_REPLICAS if _down_until.get(alias, 0.0) <= now]
    random.shuffle(candidates)
    candidates.sort(key=lambda alias: connections[alias].connection is None)
    for alias in candidates:
        try:
            connections[alias].ensure_connection()  # no round trip when this thread holds a connection already
        except DatabaseError as error:
            logger.warning("Read replica %s is unreachable, reading from the primary for now: %s", alias, error)
            _down_until[alias] = now + RETRY_SECONDS
            continue
        _down_until.pop(alias, None)
        return alias
    return None


class ReplicaRouter:
    """``DATABASE_ROUTERS``: reads in ``stale_reads_ok()`` to a replica; writes and migrations to the primary."""

    def db_for_read(self, model: type[Model], **hints) -> str | None:
        # Inside a transaction on the primary a read must see what the transaction wrote.
        if not _stale_reads_ok.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None  # Django's choice: the database an instance came from, else the primary
        return reachable_replica()

    def db_for_write(self, model: type[Model], **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints) -> bool:
        return True  # the replicas hold the primary's very rows

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
