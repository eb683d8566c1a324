"""The learnt "for you" strategies: the hybrid's ranking, matrix factorisation (ALS, BPR) and user to user. Each
serves the newest trained model (``personalization.training``, scheduled by celery beat) and folds the visitor in
from their latest events at request time, so the list follows their next click without retraining."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..algorithms.base import Algorithm
from ..algorithms.hybrid import Hybrid
from ..algorithms.threads import single_threaded
from ..catalogue import CatalogueArrays
from ..history import history_log, latest_events
from ..model_store import trained
from .base import Candidate, Context, Strategy


class LearntStrategy(Strategy):
    model: ClassVar[str] = "hybrid"
    source: ClassVar[str | None] = None  # one of the hybrid's own models, else the model itself
    reason: ClassVar[str] = "Shoppers like you liked it"
    needs = ("visitor",)
    # Scoring ranks the whole catalogue anyway: many candidates leave the rules (the cap per article type above
    # all, as a taste runs to a few types) enough to fill the list.
    overfetch = 10

    def algorithm(self, hybrid: Hybrid) -> Algorithm | None:
        if self.source is not None:
            return hybrid.sources.get(self.source)
        return hybrid if self.model == "hybrid" else trained(self.model)

    def candidates(self, context: Context, count: int) -> list[Candidate]:
        hybrid = trained("hybrid")  # its catalogue gives every model's product codes
        if not isinstance(hybrid, Hybrid) or hybrid.catalogue is None:
            return []
        algorithm, catalogue = self.algorithm(hybrid), hybrid.catalogue
        if algorithm is None:
            return []
        history = history_log(latest_events(context), catalogue.product_ids, catalogue.code)
        if len(history) == 0:
            return []
        with single_threaded():
            scores = algorithm.score(history, np.zeros(1, dtype=np.int64))[0].astype(np.float64)
        scores[history.product] = -np.inf  # what they did is the recently viewed strip's
        count = min(count, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.isfinite(scores[top])]
        top = top[np.argsort(-scores[top], kind="stable")]
        viewed_types = set(catalogue["article_type"][history.product].tolist())
        return [
            Candidate(
                int(catalogue.product_ids[code]), float(scores[code]), self.explain(catalogue, viewed_types, code)
            )
            for code in top
        ]

    def explain(self, catalogue: CatalogueArrays, viewed_types: set[str], code: int) -> str:
        return self.reason


class ForYou(LearntStrategy):
    """The hybrid: candidates of every model, ranked by the learnt ranker (or the blend while it cannot learn)."""

    label = "for you"
    overfetch = 5  # the ranker's list is varied already

    def explain(self, catalogue: CatalogueArrays, viewed_types: set[str], code: int) -> str:
        article_type = catalogue["article_type"][code]
        if article_type and article_type in viewed_types:
            return f"Because you looked at {article_type.lower()}"
        return "Picked for you: shoppers with your taste liked it"


class ForYouALS(LearntStrategy):
    label = "for you: ALS"
    source = "als"
    reason = "Picked for you by matrix factorisation (ALS)"


class ForYouBPR(LearntStrategy):
    label = "for you: BPR"
    model = "bpr"
    reason = "Picked for you by matrix factorisation (BPR)"


class ShoppersLikeYou(LearntStrategy):
    label = "shoppers like you"
    source = "user_knn"
    reason = "Shoppers like you liked it"
