"""Exact nearest neighbours with numpy: the ground truth that recall@10 is measured against."""

from dataclasses import dataclass

import numpy as np
import psycopg

from .catalogue import COPY_ID_OFFSET, EMBEDDINGS
from .progress import Progress

K = 10
# Distances that differ by less than this are ties (byte-identical pictures have the very same vector).
TIE = 1e-5
BATCH = 32


@dataclass
class Catalogue:
    """Every embedded product of the space: id, vector (unit length), gender (a code; -1: none), stock and
    picture hash."""

    ids: np.ndarray
    vectors: np.ndarray
    genders: np.ndarray
    in_stock: np.ndarray
    sha256: np.ndarray

    @classmethod
    def load(cls, params: dict, space_id: int, dimensions: int) -> "Catalogue":
        with psycopg.connect(**params) as conn:
            count = conn.execute(
                f"SELECT count(*) FROM {EMBEDDINGS} WHERE space_id = %s AND status = 'ok'", [space_id]
            ).fetchone()[0]
            ids = np.empty(count, dtype=np.int64)
            vectors = np.empty((count, dimensions), dtype=np.float32)
            genders = np.empty(count, dtype=object)
            in_stock = np.empty(count, dtype=bool)
            sha256 = np.empty(count, dtype="S64")
            progress = Progress("reading the vectors", count, unit="rows")
            with conn.cursor(name="catalogue") as cursor:
                cursor.itersize = 20_000
                cursor.execute(
                    "SELECT e.product_id, p.gender, p.in_stock, p.image_sha256, vector_send(e.vector) "
                    f"FROM {EMBEDDINGS} e JOIN shop_product p ON p.id = e.product_id "
                    "WHERE e.space_id = %s AND e.status = 'ok' ORDER BY e.product_id",
                    [space_id],
                )
                for row, (product_id, gender, stock, sha, data) in enumerate(cursor):
                    ids[row], genders[row], in_stock[row], sha256[row] = product_id, gender, stock, sha.encode()
                    vectors[row] = np.frombuffer(data, dtype=">f4", offset=4)
                    if row % 20_000 == 0:
                        progress.update(row)
            progress.finish(count)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        codes = {name: code for code, name in enumerate(sorted({g for g in genders if g}))}
        gender_codes = np.array([codes.get(gender, -1) for gender in genders], dtype=np.int16)
        return cls(ids, vectors, gender_codes, in_stock, sha256)

    def rows(self, product_ids: list[int] | np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ids, product_ids)

    def originals(self, rows: np.ndarray) -> np.ndarray:
        return self.ids[rows] % COPY_ID_OFFSET


@dataclass(frozen=True)
class Truth:
    """The exact answer for one query product in one scope."""

    tenth_distance: float
    in_scope: int

    def recall(self, found_distances: np.ndarray) -> float:
        """Share of the exact top 10 that the found top 10 matches, ties counted as matches."""
        wanted = min(K, self.in_scope)
        return min(int(np.sum(found_distances[:K] <= self.tenth_distance + TIE)), wanted) / wanted if wanted else 1.0


def scope_mask(catalogue: Catalogue, row: int, *, same_gender: bool, in_stock: bool) -> np.ndarray:
    """What ``SimilarOptions(...).scope_for(product)`` lets through: not the product, nor its picture under
    other ids; the product's gender when it has one; in stock."""
    mask = catalogue.sha256 != catalogue.sha256[row]
    mask[row] = False
    if same_gender and catalogue.genders[row] >= 0:
        mask &= catalogue.genders == catalogue.genders[row]
    if in_stock:
        mask &= catalogue.in_stock
    return mask


def truths(
    catalogue: Catalogue, query_rows: np.ndarray, scopes: dict[str, dict[str, bool]], *, duplicate_distance: float
) -> tuple[dict[str, list[Truth]], dict[str, float]]:
    """Per scope, each query's exact top-10 threshold; and how far the neighbours are (all products, nearly
    identical pictures left out), to show that the copies keep realistic distances."""
    found: dict[str, list[Truth]] = {name: [] for name in scopes}
    first, tenth, siblings = [], [], []
    progress = Progress("exact search", len(query_rows), unit="queries", every=15)
    for start in range(0, len(query_rows), BATCH):
        batch = query_rows[start : start + BATCH]
        distances = 1.0 - catalogue.vectors @ catalogue.vectors[batch].T
        for column, row in enumerate(batch):
            column_distances = distances[:, column]
            for name, options in scopes.items():
                mask = scope_mask(catalogue, row, **options)
                scoped = column_distances[mask]
                top = np.partition(scoped, min(K, len(scoped)) - 1)[:K] if len(scoped) else scoped
                found[name].append(Truth(float(top.max()) if len(top) else 0.0, int(mask.sum())))
            others = np.where(column_distances > duplicate_distance, column_distances, np.inf)
            nearest = np.argpartition(others, K)[:K]
            nearest = nearest[np.argsort(others[nearest])]
            first.append(others[nearest[0]])
            tenth.append(others[nearest[-1]])
            siblings.append(np.mean(catalogue.originals(nearest) == catalogue.originals(np.array([row]))[0]))
        progress.update(start + len(batch))
    progress.finish(len(query_rows))
    distances_summary = {
        "nearest_median": float(np.median(first)),
        "tenth_median": float(np.median(tenth)),
        "same_original_share": float(np.mean(siblings)),
    }
    return found, distances_summary


def true_distances(catalogue: Catalogue, query_row: int, product_ids: list[int]) -> np.ndarray:
    return 1.0 - catalogue.vectors[catalogue.rows(product_ids)] @ catalogue.vectors[query_row]
