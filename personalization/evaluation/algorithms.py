"""The algorithms the evaluation measures, by name: the one list to extend when an algorithm is added.

Every name here is evaluated by default, and one that cannot be imported or built is an error, never skipped.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from django.utils.module_loading import import_string

from ..algorithms.base import Algorithm

ALGORITHMS: dict[str, str] = {
    "popularity": "personalization.algorithms.popularity.Popularity",
    "random": "personalization.algorithms.popularity.Random",
    "item_knn": "personalization.algorithms.neighbours.ItemKNN",
    "user_knn": "personalization.algorithms.neighbours.UserKNN",
    "als": "personalization.algorithms.matrix_factorization.ALS",
    "bpr": "personalization.algorithms.matrix_factorization.BPR",
    "content": "personalization.algorithms.content.ContentProfile",
    "hybrid": "personalization.algorithms.hybrid.Hybrid",
}

# Neither learns a shopper's taste: the goals compare the personal strategies with them.
BASELINES: frozenset[str] = frozenset({"popularity", "random"})
HYBRID = "hybrid"

# These read the catalogue's image embeddings (``load_catalogue(embeddings=True)``).
NEEDS_EMBEDDINGS: frozenset[str] = frozenset({"content", "hybrid"})


class AlgorithmUnavailable(Exception):
    pass


def algorithm_class(name: str) -> type[Algorithm]:
    if name not in ALGORITHMS:
        raise AlgorithmUnavailable(f"Unknown algorithm {name!r}; choose from {', '.join(ALGORITHMS)}.")
    try:
        return import_string(ALGORITHMS[name])
    except ImportError as error:
        raise AlgorithmUnavailable(f"{name}: {ALGORITHMS[name]} cannot be imported: {error}") from error


def check(names: Iterable[str]) -> None:
    """Raise ``AlgorithmUnavailable`` for the first name that is unknown or cannot be imported."""
    for name in names:
        algorithm_class(name)


def build(name: str, seed: int) -> Algorithm:
    """A new instance, seeded with the simulator's seed where the class (or a base that its ``**options`` reach)
    takes a ``seed``."""
    cls = algorithm_class(name)
    return cls(seed=seed) if _takes_seed(cls) else cls()


def _takes_seed(cls: type) -> bool:
    for klass in cls.__mro__:
        if "__init__" not in vars(klass) or klass is object:
            continue
        parameters = inspect.signature(klass.__init__).parameters
        if "seed" in parameters:
            return True
        if not any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
            return False
    return False
