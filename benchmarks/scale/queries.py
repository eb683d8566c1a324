"""The storefront's similar-items SQL on the scale database: latency and recall@10 per ef_search and scope.

Each query is the SQL that ``recommendations.vectors.neighbours.nearest`` runs for a product page (compiled from
``neighbours_query`` with ``SimilarOptions.scope_for``, as many rows as ``similar_products`` asks for), in the
transaction of ``index_scan_settings`` (``hnsw.ef_search``, iterative scan), repeated exactly when a filtered
scan stops short, as ``nearest`` does. For the ``halfvec`` index the SQL's casts say ``halfvec``.
"""

import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import numpy as np
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from recommendations.models import EmbeddingSpace
from recommendations.vectors.index import stored_vector
from recommendations.vectors.neighbours import index_scan_settings, nearest, neighbours_query
from recommendations.vectors.selectors import POOL_FACTOR, SimilarOptions, similar_products
from shop.models import Product

from .cpu import CpuMeter
from .exact import Catalogue, Truth, true_distances
from .indexes import KINDS
from .progress import Progress

SCOPES = {
    "all": {"same_gender": False, "in_stock": False},
    "same gender, in stock": {"same_gender": True, "in_stock": True},
}
T = TypeVar("T")
# Query products whose recall@10 falls below this are listed in the results, to look into.
LOW_RECALL = 0.5
# How many of the first queries are EXPLAINed to check that the planner takes the HNSW index.
EXPLAINED = 20


def pool_size() -> int:
    """How many neighbours ``similar_products`` asks ``nearest`` for (metadata ranking off, the default)."""
    return settings.SIMILAR_ITEMS_COUNT * POOL_FACTOR


def summary(samples: list[tuple[float, float, float]]) -> dict[str, float]:
    """Wall-clock p50, p95 and mean of (wall, server CPU, this process's CPU) milliseconds, and the mean CPU."""
    ordered = sorted(wall for wall, _, _ in samples)
    return {
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "mean_ms": statistics.fmean(ordered),
        "server_cpu_ms": statistics.fmean(server for _, server, _ in samples),
        "client_cpu_ms": statistics.fmean(client for _, _, client in samples),
    }


def timed(meter: CpuMeter, call: Callable[[], T]) -> tuple[T, tuple[float, float, float]]:
    """``call()``'s result and its (wall, server CPU, this process's CPU) milliseconds."""
    cpu = meter.read()
    started = time.perf_counter()
    result = call()
    wall = (time.perf_counter() - started) * 1000
    return result, (wall, *meter.since(cpu))


def _run(sql: str, params: tuple, limit: int, restricted: bool) -> tuple[list[tuple], bool]:
    with index_scan_settings(limit) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        if len(rows) < limit and restricted:
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(sql, params)
            return cursor.fetchall(), True
    return rows, False


def _uses_index(sql: str, params: tuple, limit: int, index_name: str) -> bool:
    with index_scan_settings(limit) as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return any(index_name in line for (line,) in cursor.fetchall())


def measure(
    space: EmbeddingSpace,
    catalogue: Catalogue,
    query_ids: list[int],
    truths: dict[str, list[Truth]],
    meter: CpuMeter,
    *,
    kinds: list[str],
    ef_values: list[int],
    seed: int,
) -> dict:
    """Per index kind, scope and ef_search: p50/p95 of the query and mean recall@10; the storefront's own
    ``nearest`` and ``similar_products`` at the configured ef_search; whether the planner used the index."""
    rng = np.random.default_rng(seed)
    limit = pool_size()
    products = Product.objects.in_bulk(query_ids)
    timings: dict[tuple, list[tuple[float, float, float]]] = defaultdict(list)
    recalls: dict[tuple, list[float]] = defaultdict(list)
    exact_reruns: dict[tuple, int] = defaultdict(int)
    index_used: dict[tuple, list[bool]] = defaultdict(list)
    low_recall: dict[tuple, list[int]] = defaultdict(list)
    vector_cast = KINDS["vector"].cast(space.dimensions)
    progress = Progress("similar-items queries", len(query_ids), unit="products", every=15)
    for position, product_id in enumerate(query_ids):
        product = products[product_id]
        query_row = int(catalogue.rows([product_id])[0])
        for scope_name, options in SCOPES.items():
            similar = SimilarOptions(**options)
            scope = similar.scope_for(product)
            compiled, params = neighbours_query(
                space, stored_vector(space, product_id), limit=limit, scope=scope
            ).query.sql_with_params()
            truth = truths[scope_name][position]
            jobs = [(kind, ef) for kind in kinds for ef in ef_values] + [("nearest", None), ("similar_products", None)]
            for job in rng.permutation(len(jobs)):
                kind, ef = jobs[job]
                if ef is None:
                    call = (
                        partial(nearest, space, stored_vector(space, product_id), limit=limit, scope=scope)
                        if kind == "nearest"
                        else partial(similar_products, product, options=similar, space=space)
                    )
                    timings[(kind, scope_name, settings.SIMILAR_ITEMS_EF_SEARCH)].append(timed(meter, call)[1])
                    continue
                sql = compiled.replace(f"::{vector_cast}", f"::{KINDS[kind].cast(space.dimensions)}")
                with override_settings(SIMILAR_ITEMS_EF_SEARCH=ef):
                    (rows, rerun), sample = timed(meter, partial(_run, sql, params, limit, scope.restricted))
                    timings[(kind, scope_name, ef)].append(sample)
                    if position < EXPLAINED and ef == settings.SIMILAR_ITEMS_EF_SEARCH:
                        index_used[(kind, scope_name)].append(
                            _uses_index(sql, params, limit, KINDS[kind].index_name(space.pk))
                        )
                exact_reruns[(kind, scope_name, ef)] += rerun
                found = [product for _, product in sorted((row[2], row[1]) for row in rows)[:10]]
                distances = np.sort(true_distances(catalogue, query_row, found)) if found else np.array([])
                recalls[(kind, scope_name, ef)].append(truth.recall(distances))
                if recalls[(kind, scope_name, ef)][-1] < LOW_RECALL:
                    low_recall[(kind, scope_name, ef)].append(product_id)
        progress.update(position + 1)
    progress.finish(len(query_ids))
    return _results(timings, recalls, exact_reruns, index_used, low_recall)


def _results(timings: dict, recalls: dict, exact_reruns: dict, index_used: dict, low_recall: dict) -> dict:
    results: dict = {}
    for (kind, scope_name, ef), values in timings.items():
        row = summary(values)
        if (kind, scope_name, ef) in recalls:
            row["recall_at_10"] = float(np.mean(recalls[(kind, scope_name, ef)]))
            row["recall_at_10_min"] = float(np.min(recalls[(kind, scope_name, ef)]))
            row["exact_reruns"] = exact_reruns[(kind, scope_name, ef)]
            row["low_recall_products"] = low_recall[(kind, scope_name, ef)]
        results.setdefault(kind, {}).setdefault(scope_name, {})[str(ef)] = row
    results["index_used_share"] = {
        f"{kind}, {scope_name}": float(np.mean(used)) for (kind, scope_name), used in index_used.items()
    }
    return results


def product_pages(product_ids: list[int], meter: CpuMeter) -> dict[str, dict[str, float]]:
    """The product page through Django's whole stack in process (as ``benchmarks/storefront_pages.py``), one
    request per product, without and with the shopper's options, against the admin login page as a baseline. The
    first product only warms up."""
    client = Client()
    client.get("/admin/login/")
    variants = {"all": "", "same gender, in stock": "?same_gender=1&in_stock=1"}
    timings: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for product_id in product_ids:
        for name, query in [("baseline (admin login)", "/admin/login/"), *variants.items()]:
            url = query if name.startswith("baseline") else reverse("shop:product-detail", args=[product_id]) + query
            response, sample = timed(meter, partial(client.get, url))
            timings[name].append(sample)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            if not name.startswith("baseline") and b"product-grid--similar" not in response.content:
                raise SystemExit(f"{url} showed no similar items")
    return {name: summary(values[1:]) for name, values in timings.items()}


def connection_params() -> dict:
    params = connection.get_connection_params()
    return {key: params[key] for key in ("host", "port", "dbname", "user", "password") if params.get(key)}
