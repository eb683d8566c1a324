"""Similar items at 44k, 200k and 1M products: HNSW builds, query latency and recall@10, the product page.

    nice -n 10 .venv/bin/python benchmarks/catalogue_scale.py [--sizes 44446 200000 1000000] [--queries 200]
        [--ef 40,80,100,160,320] [--kinds vector,halfvec] [--skip-generate] [--skip-build] [--plot-only]

Works in its own embedded PostgreSQL (``var/scale/pgdata``, database ``storefront``), never in the development
database, which it only reads once: the real catalogue and the configured model's embeddings are copied from it
(``--source``, default ``.pgdata``). The catalogue then grows to each size with copies of the real products whose
vectors are the real ones plus noise (``benchmarks/scale/vectors.py``); each size rebuilds the HNSW indexes and
measures the storefront's own similar-items SQL against exact search, and the product page end to end.
Sizes run in increasing order and can be run one at a time; results are merged into ``reports/scale/results.json``
after each size, and the plot is drawn again. See ``reports/scale/README.md``.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The scale database is an embedded server of its own, whatever the environment points at, without replicas.
for name in ("DATABASE_URL", "DATABASE_REPLICA_URLS", "CACHE_URL"):
    os.environ.pop(name, None)
os.environ["EMBEDDED_POSTGRES_DATA"] = str(ROOT / "var" / "scale" / "pgdata")
# Similar items computed on every call: what a page costs when its list is not cached (the cache is per process).
os.environ["SIMILAR_ITEMS_CACHE_SECONDS"] = "0"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[44_446, 200_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200, help="Query products per size.")
    parser.add_argument("--pages", type=int, default=60, help="Product pages requested per size and variant.")
    parser.add_argument("--ef", default="40,80,100,160,320", help="hnsw.ef_search values.")
    parser.add_argument("--kinds", default="vector,halfvec", help="HNSW indexes to build and query.")
    parser.add_argument("--workers", type=int, default=1, help="max_parallel_maintenance_workers for the builds.")
    parser.add_argument("--shared-buffers", default="4GB", help="The scale server's shared_buffers.")
    parser.add_argument("--source", type=Path, default=ROOT / ".pgdata", help="The development database's folder.")
    parser.add_argument("--skip-generate", action="store_true", help="Measure the catalogue as it is.")
    parser.add_argument("--skip-build", action="store_true", help="Keep HNSW indexes that exist.")
    parser.add_argument("--plot-only", action="store_true")
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="Only time product pages on the catalogue as it is; with DEBUG off, kept apart as product_page_debug_off.",
    )
    parser.add_argument("--results", type=Path, default=ROOT / "reports" / "scale" / "results.json")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


args = parse_args()
os.environ["EMBEDDED_POSTGRES_SHARED_BUFFERS"] = args.shared_buffers

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from benchmarks.machine import describe_machine  # noqa: E402
from benchmarks.scale import catalogue, exact, indexes, queries, report  # noqa: E402
from benchmarks.scale.cpu import CpuMeter  # noqa: E402
from benchmarks.scale.vectors import NoiseRecipe  # noqa: E402
from recommendations.models import EmbeddingSpace  # noqa: E402
from shop.models import Product  # noqa: E402


def source_params(data_dir: Path) -> dict:
    """The development server's socket (its postmaster.pid names it); the server must be running."""
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        raise SystemExit(f"No PostgreSQL runs in {data_dir}: start it (python -m config.embedded_db start).")
    lines = pid_file.read_text().splitlines()
    return {"host": lines[4], "port": int(lines[3]), "dbname": "storefront", "user": "postgres"}


def server_facts(conn: psycopg.Connection) -> dict:
    return {
        "postgresql": conn.execute("SHOW server_version").fetchone()[0],
        "pgvector": conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0],
        "shared_buffers": conn.execute("SHOW shared_buffers").fetchone()[0],
        "hnsw_m": 16,
        "hnsw_ef_construction": 64,
    }


def build_indexes(params: dict, space: EmbeddingSpace, rows: int, kinds: list[str], previous: dict) -> dict:
    builds = {}
    for name in kinds:
        kind = indexes.KINDS[name]
        if args.skip_build and indexes.existing(params, kind, space.pk) is not None and name in previous:
            builds[name] = previous[name]
            continue
        builds[name] = indexes.build(params, kind, space.pk, space.dimensions, rows, args.workers).as_dict()
    indexes.prewarm(params, [indexes.KINDS[name].index_name(space.pk) for name in kinds])
    return builds


def measure_size(params: dict, space: EmbeddingSpace, size: int, kinds: list[str], previous: dict) -> dict:
    rows = Product.objects.filter(embeddings__space=space, embeddings__status="ok").count()
    print(f"\n== {Product.objects.count():,} products, {rows:,} vectors ==", flush=True)
    builds = build_indexes(params, space, rows, kinds, previous.get("builds", {}))
    data = exact.Catalogue.load(params, space.pk, space.dimensions)
    rng = np.random.default_rng([args.seed, size])
    query_ids = sorted(rng.choice(data.ids, args.queries, replace=False).tolist())
    started = time.perf_counter()
    truths, distances = exact.truths(
        data,
        data.rows(query_ids),
        queries.SCOPES,
        duplicate_distance=settings.SIMILAR_ITEMS_DUPLICATE_DISTANCE,
    )
    print(f"  exact search: {time.perf_counter() - started:.0f} s", flush=True)
    load_before = os.getloadavg()[0]
    meter = CpuMeter(Path(os.environ["EMBEDDED_POSTGRES_DATA"]))
    ef_values = [int(ef) for ef in args.ef.split(",")]
    results = queries.measure(space, data, query_ids, truths, meter, kinds=kinds, ef_values=ef_values, seed=args.seed)
    page_ids = rng.choice(data.ids, args.pages + 1, replace=False).tolist()
    del data
    pages = queries.product_pages(page_ids, meter)
    return {
        "products": Product.objects.count(),
        "vectors": rows,
        "builds": builds,
        "queries": results,
        "product_page": pages,
        "debug": settings.DEBUG,
        "neighbour_distances": distances,
        "load_average": [load_before, os.getloadavg()[0]],
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
    }


def measure_pages_only(results: dict) -> None:
    ids = np.array(Product.objects.filter(embeddings__status="ok").values_list("pk", flat=True))
    page_ids = np.random.default_rng([args.seed, len(ids), 1]).choice(ids, args.pages + 1, replace=False).tolist()
    meter = CpuMeter(Path(os.environ["EMBEDDED_POSTGRES_DATA"]))
    key = "product_page" if settings.DEBUG else "product_page_debug_off"
    pages = queries.product_pages(page_ids, meter)
    # What a web process that has served product pages holds (this one holds nothing else).
    pages["process_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["sizes"].setdefault(str(Product.objects.count()), {})[key] = pages
    report.save(results, args.results)
    print(results["sizes"][str(Product.objects.count())][key])


def main() -> None:
    results = report.load(args.results)
    plot_path = args.results.parent / "latency_recall.png"
    if args.plot_only:
        report.plot(results, plot_path)
        print(report.tables(results))
        return
    call_command("migrate", verbosity=0)
    if args.pages_only:
        measure_pages_only(results)
        return
    params = queries.connection_params()
    kinds = args.kinds.split(",")
    with psycopg.connect(**params, autocommit=True) as bulk:
        if not Product.objects.exists():
            print("Copying the real catalogue from the development database", flush=True)
            with psycopg.connect(**source_params(args.source)) as source:
                catalogue.copy_real_catalogue(source, bulk, settings.EMBEDDING_MODEL)
        space = EmbeddingSpace.objects.get(backbone=settings.EMBEDDING_MODEL, state=EmbeddingSpace.State.COMPLETE)
        originals = catalogue.originals(bulk, space.pk)
        recipe = NoiseRecipe.fit(
            originals.vectors, duplicate_distance=settings.SIMILAR_ITEMS_DUPLICATE_DISTANCE, seed=args.seed
        )
        print(f"Noise recipe: {recipe.describe()}", flush=True)
        results.update(
            machine=describe_machine(),
            server=server_facts(bulk),
            space=space.version,
            recipe=recipe.describe(),
            similar_items={"k": settings.SIMILAR_ITEMS_COUNT, "pool": queries.pool_size()},
        )
        for size in sorted(args.sizes):
            current = Product.objects.count()
            if size < current:
                print(f"Skipping {size:,}: the scale database already holds {current:,} products.", flush=True)
                continue
            if not args.skip_generate:
                print(f"\nGrowing the catalogue to {size:,} products", flush=True)
                catalogue.grow(bulk, space.pk, size, originals, recipe, args.seed)
            key = str(Product.objects.count())
            results["sizes"][key] = measure_size(params, space, int(key), kinds, results["sizes"].get(key, {}))
            report.save(results, args.results)
            report.plot(results, plot_path)
    print(f"\nMachine: {results['machine']}\n")
    print(report.tables(results))


if __name__ == "__main__":
    main()
