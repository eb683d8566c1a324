"""The held-out split: products the model never trains on, with every copy of their picture on their side.

The catalogue lists some pictures under several ids (byte-identical, or saved again at another quality); a
copy left on the training side would let the model score a held-out query by remembering it.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

# Nearly identical pictures are found on this many principal components first, then checked in full.
CANDIDATE_COMPONENTS = 128
CHUNK = 1024


@dataclass(frozen=True)
class Split:
    seed: int
    held_out_fraction: float
    duplicate_distance: float
    train_ids: list[int]
    held_out_ids: list[int]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, separators=(",", ":")) + "\n")

    @classmethod
    def load(cls, path: Path) -> "Split":
        return cls(**json.loads(path.read_text()))


def split_path(weights_file: Path) -> Path:
    """The held-out split is saved next to the head trained on it."""
    return weights_file.with_name(f"{weights_file.stem}.split.json")


def duplicate_groups(shas: list[str], vectors: np.ndarray, *, max_distance: float) -> np.ndarray:
    """A group number per image: byte-identical images, and images within ``max_distance`` (cosine) of each
    other, transitively, share one.

    ``vectors`` are unit length. Exact: a pair that close is close on any projection too, so the
    candidates found on the principal components include every such pair.
    """
    parents = np.arange(len(shas))

    def root(item: int) -> int:
        while parents[item] != item:
            parents[item] = parents[parents[item]]
            item = parents[item]
        return item

    def union(a: int, b: int) -> None:
        parents[root(a)] = root(b)

    first_with_sha: dict[str, int] = {}
    for position, sha in enumerate(shas):
        union(position, first_with_sha.setdefault(sha, position))
    for a, b in _near_pairs(vectors, max_distance):
        union(a, b)
    return np.array([root(position) for position in range(len(shas))])


def _near_pairs(vectors: np.ndarray, max_distance: float) -> list[tuple[int, int]]:
    full = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    centred = full - full.mean(0)
    components = min(CANDIDATE_COMPONENTS, *full.shape)
    _, _, basis = torch.pca_lowrank(centred, q=components, center=False)
    projected = full @ basis  # a projection never lengthens a difference
    squared = (projected**2).sum(1)
    limit = 2 * max_distance + 1e-5  # |a - b|^2 = 2 * cosine distance for unit vectors
    pairs = []
    for start in range(0, len(full), CHUNK):
        block = projected[start : start + CHUNK]
        distances = squared[start : start + CHUNK, None] + squared[None, :] - 2 * block @ projected.T
        rows, columns = torch.nonzero(distances <= limit, as_tuple=True)
        rows = rows + start
        keep = rows < columns
        rows, columns = rows[keep], columns[keep]
        exact = 1 - (full[rows] * full[columns]).sum(1)
        close = exact <= max_distance
        pairs.extend(zip(rows[close].tolist(), columns[close].tolist(), strict=True))
    return pairs


def split_by_group(
    ids: np.ndarray,
    groups: np.ndarray,
    *,
    held_out_fraction: float,
    seed: int,
    duplicate_distance: float,
    reserved_ids: frozenset[int] = frozenset(),
) -> Split:
    """Each duplicate group goes whole to one side, drawn from a hash of the seed and its smallest id.

    The draw does not depend on the other products, so adding products to the catalogue moves none
    of the old ones across. Groups holding a ``reserved_ids`` product (the photos kept for evaluation)
    are always held out.
    """
    smallest: dict[int, int] = {}
    for product_id, group in zip(ids.tolist(), groups.tolist(), strict=True):
        smallest[group] = min(product_id, smallest.get(group, product_id))
    held_out_groups = {
        group for group, product_id in zip(groups.tolist(), ids.tolist(), strict=True) if product_id in reserved_ids
    }
    held_out_groups |= {group for group, key in smallest.items() if _draw(seed, key) < held_out_fraction}
    held_out = np.isin(groups, list(held_out_groups))
    return Split(
        seed=seed,
        held_out_fraction=held_out_fraction,
        duplicate_distance=duplicate_distance,
        train_ids=sorted(ids[~held_out].tolist()),
        held_out_ids=sorted(ids[held_out].tolist()),
    )


def _draw(seed: int, key: int) -> float:
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
