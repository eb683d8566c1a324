"""The trained models a process serves from: the newest run of each, loaded once and swapped when a newer run
appears (checked at most every ``PERSONALIZATION_MODEL_CHECK_SECONDS``)."""

from __future__ import annotations

import pickle
import threading
import time

from django.conf import settings

from .algorithms.base import Algorithm
from .models import ARTIFACT_FORMAT, TrainedModel

_lock = threading.Lock()
_loaded: dict[str, tuple[int, Algorithm]] = {}
_checked: dict[str, tuple[float, int | None]] = {}


def _newest_pk(name: str) -> int | None:
    now = time.monotonic()
    checked = _checked.get(name)
    if checked is not None and now - checked[0] < settings.PERSONALIZATION_MODEL_CHECK_SECONDS:
        return checked[1]
    runs = TrainedModel.objects.filter(name=name, details__format=ARTIFACT_FORMAT)
    pk = runs.values_list("pk", flat=True).first()
    _checked[name] = (now, pk)
    return pk


def trained(name: str) -> Algorithm | None:
    """The newest trained ``name`` model, or None before the first training."""
    pk = _newest_pk(name)
    if pk is None:
        return None
    loaded = _loaded.get(name)
    if loaded is not None and loaded[0] == pk:
        return loaded[1]
    with _lock:
        loaded = _loaded.get(name)
        if loaded is None or loaded[0] != pk:
            artifact = TrainedModel.objects.filter(pk=pk).values_list("artifact", flat=True).first()
            if artifact is None:
                return None
            loaded = (pk, pickle.loads(artifact))
            _loaded[name] = loaded
    return loaded[1]


def forget() -> None:
    """Drop what this process loaded (tests, after training)."""
    _loaded.clear()
    _checked.clear()
