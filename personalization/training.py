"""Training the learnt strategies from the interaction log (the scheduled job and ``train_recommenders``)."""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .algorithms.base import Algorithm
from .algorithms.hybrid import Hybrid
from .algorithms.matrix_factorization import BPR
from .catalogue import CatalogueArrays
from .interactions import KINDS, EventLog
from .models import ARTIFACT_FORMAT, TrainedModel
from .selectors import load_catalogue

logger = logging.getLogger(__name__)

# What ``train`` fits, by the name strategies load it under. The hybrid holds the ALS, item-to-item, user-to-user
# and content models it ranks the candidates of, which their own strategies serve from.
TRAINED: dict[str, Callable[[], Algorithm]] = {"hybrid": Hybrid, "bpr": BPR}
# Runs of each model kept (the newest serves), to compare in the admin.
KEEP_RUNS = 2


def load_event_log(catalogue: CatalogueArrays, *, days: int | None = None) -> EventLog:
    """The log's events of the kinds that say what a shopper likes, over the last ``days`` (the training window),
    keyed by account when the shopper was signed in, else by browser."""
    days = settings.PERSONALIZATION_TRAINING_DAYS if days is None else days
    since = timezone.now() - timedelta(days=days)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce('u' || user_id::text, visitor_id::text), product_id, kind,"
            " extract(epoch from created_at), coalesce(order_id, -1)"
            " FROM events_event WHERE kind = ANY(%s) AND product_id IS NOT NULL AND created_at >= %s",
            [list(KINDS), since],
        )
        rows = cursor.fetchall()
    known = set(catalogue.product_ids.tolist())  # a product deleted since is left out
    return EventLog.from_rows((row for row in rows if row[1] in known), product_ids=catalogue.product_ids)


def train(names: list[str] | None = None, *, progress: Callable[[str], None] = logger.info) -> list[TrainedModel]:
    """Fit the named models (all by default) on the current log and store them; returns the stored runs."""
    names = names or list(TRAINED)
    unknown = sorted(set(names) - set(TRAINED))
    if unknown:
        raise ValueError(f"Unknown model {', '.join(unknown)}: choose from {', '.join(TRAINED)}.")
    started = time.perf_counter()
    catalogue = load_catalogue(embeddings=True)
    log = load_event_log(catalogue)
    progress(
        f"Read {len(log):,} events of {log.shoppers:,} shoppers on {len(catalogue):,} products"
        f" in {time.perf_counter() - started:.1f} s"
    )
    stored: list[TrainedModel] = []
    if len(log) == 0:
        progress("Nothing to learn from: the log holds no views, clicks, wishlist or cart adds or purchases yet.")
        return stored
    for name in names:
        began = time.perf_counter()
        algorithm = TRAINED[name]().fit(log, catalogue)
        seconds = time.perf_counter() - began
        details = {"parameters": _parameters(algorithm)}
        if isinstance(algorithm, Hybrid):
            details |= {
                "learnt": algorithm.learnt,
                "positives": algorithm.learnt_from,
                "seconds_per_model": {key: round(value, 1) for key, value in algorithm.fit_seconds.items()},
            }
        stored.append(_store(name, algorithm, log, seconds, details))
        progress(f"Trained {name} in {seconds:.1f} s")
    return stored


def _parameters(algorithm: Algorithm) -> dict[str, object]:
    return {
        key: value
        for key, value in vars(algorithm).items()
        if isinstance(value, int | float | str | bool) and not key.startswith("_")
    }


def _store(name: str, algorithm: Algorithm, log: EventLog, seconds: float, details: dict) -> TrainedModel:
    artifact = pickle.dumps(algorithm, protocol=pickle.HIGHEST_PROTOCOL)
    with transaction.atomic():
        run = TrainedModel.objects.create(
            name=name,
            events=len(log),
            shoppers=log.shoppers,
            products=log.products,
            seconds=seconds,
            details=details | {"bytes": len(artifact), "format": ARTIFACT_FORMAT},
            artifact=artifact,
        )
        older = TrainedModel.objects.filter(name=name).values_list("pk", flat=True)[KEEP_RUNS:]
        TrainedModel.objects.filter(pk__in=list(older)).delete()
    return run
