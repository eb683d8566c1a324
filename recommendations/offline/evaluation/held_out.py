"""Queries no compared model has trained on: the products held out of every catalogue-tuned model's training."""

from dataclasses import dataclass

from django.conf import settings

from recommendations.offline.backbones import BACKBONES, TunedSpec, find_head
from recommendations.offline.training.splits import Split, split_path


@dataclass(frozen=True)
class QueryPool:
    ids: list[int] | None  # None: the whole catalogue
    description: str


WHOLE_CATALOGUE = QueryPool(None, "the whole catalogue")


def query_pool(models: list[str]) -> QueryPool:
    """The products held out by every tuned model among ``models`` whose head is here, so that each model is
    scored on the same queries and a tuned one never on a product it learnt; the whole catalogue when none is.
    """
    held_out: set[int] | None = None
    tuned = []
    for name in models:
        spec = BACKBONES.get(name)
        head = find_head(spec, weights_dir=settings.EMBEDDING_WEIGHTS_DIR) if isinstance(spec, TunedSpec) else None
        if head is None or not split_path(head).is_file():
            continue
        ids = set(Split.load(split_path(head)).held_out_ids)
        held_out = ids if held_out is None else held_out & ids
        tuned.append(name)
    if held_out is None:
        return WHOLE_CATALOGUE
    return QueryPool(sorted(held_out), f"the {len(held_out):,} products held out of the training of {', '.join(tuned)}")
