"""Trending, uncached: the maintained per-product score against summing the raw log, in the same run.

    .venv/bin/python benchmarks/trending_latency.py [--events 1000000] [--products 0] [--repeat 30] [--keep]

It copies the configured database's catalogue (gender, category, article type, stock) into a database of its own
(``benchmark_trending``, dropped afterwards unless ``--keep``), writes a dense synthetic log into it (views, cart
adds, purchases and impressions over 60 days by 20,000 visitors; products drawn with a Zipf-like skew) and
rebuilds the popularity scores. Each segment's list (six products, through ``Strategy.recommend``: candidates,
rules and product cards, with the cache off) is then timed with the old query (the decayed sum over the log's
last 30 days, as trending read until the score table) and the new one, alternately, ``--repeat`` times each.
Last, what the score costs the log's writer: the upsert's time beside the insert's, for a batch of 500 events.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import math  # noqa: E402

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Case, DurationField, ExpressionWrapper, F, FloatField, Sum, Value, When  # noqa: E402
from django.db.models.functions import Exp, Extract  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.machine import describe_machine  # noqa: E402
from events.models import Event  # noqa: E402
from events.popularity import add_popularity, rebuild_popularity  # noqa: E402
from personalization.filters import product_q  # noqa: E402
from personalization.strategies.base import Candidate, Context  # noqa: E402
from personalization.strategies.trending import Trending  # noqa: E402
from shop.models import Product  # noqa: E402

DATABASE = "benchmark_trending"
COPIED_FIELDS = ["id", "name", "gender", "master_category", "sub_category", "article_type", "base_colour", "in_stock"]
DAYS = 60
VISITORS = 20_000
KINDS = [("view", 0.85), ("cart_add", 0.06), ("purchase", 0.03), ("impression", 0.06)]


class Uncached(Trending):
    def cache_key(self, context: Context) -> None:
        return None


class LogSum(Uncached):
    """Trending as it was read before the score table: the decayed sum over the window, in SQL."""

    def candidates(self, context: Context, count: int) -> list[Candidate]:
        weights = settings.PERSONALIZATION_WEIGHTS
        now = timezone.now()
        half_life = settings.PERSONALIZATION_HALF_LIFE_HOURS * 3600
        age = Extract(ExpressionWrapper(Value(now) - F("created_at"), output_field=DurationField()), "epoch")
        weight = Case(
            *[When(kind=kind, then=Value(float(value))) for kind, value in weights.items()],
            default=Value(0.0),
            output_field=FloatField(),
        )
        events = Event.objects.filter(
            product_q(context, "product__"),
            kind__in=list(weights),
            created_at__gte=now - timedelta(days=settings.PERSONALIZATION_WINDOW_DAYS),
            created_at__lte=now,
        )
        if context.category:
            events = events.filter(product__master_category=context.category)
        ranked = (
            events.values("product_id")
            .annotate(score=Sum(weight * Exp(Value(-math.log(2) / half_life) * age), output_field=FloatField()))
            .order_by("-score", "-product_id")[:count]
        )
        return [Candidate(row["product_id"], row["score"], "") for row in ranked]


def copy_catalogue(products: int) -> list[dict]:
    rows = list(Product.objects.order_by("pk").values(*COPIED_FIELDS))
    if not rows:
        raise SystemExit("The catalogue is empty: run scripts/start.sh with the dataset first.")
    return rows[:products] if products else rows


def create_database(keep: bool) -> None:
    connection.settings_dict.setdefault("TEST", {})["NAME"] = DATABASE
    print(f"Creating {DATABASE} (migrations)...", flush=True)
    # The pool holds connections to the catalogue's database: closed, or the migrations would run there.
    connection.close()
    connection.close_pool()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=keep)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        if cursor.fetchone()[0] != DATABASE:
            raise SystemExit(f"Not connected to {DATABASE}: stopping before writing anything.")


def write_catalogue(rows: list[dict]) -> None:
    Product.objects.all().delete()
    Product.objects.bulk_create((Product(**row) for row in rows), batch_size=5000)


def write_log(product_ids: list[int], count: int, seed: int) -> None:
    """``count`` events by COPY: products by a Zipf-like skew (rank r drawn ∝ 1/r), times uniform over the days."""
    chosen = random.Random(seed)
    ranked = product_ids[:]
    chosen.shuffle(ranked)
    skew = [1 / rank for rank in range(1, len(ranked) + 1)]
    visitors = [uuid.UUID(int=chosen.getrandbits(128)) for _ in range(VISITORS)]
    now = timezone.now()
    kinds, kind_weights = zip(*KINDS, strict=True)
    columns = "kind, created_at, visitor_id, product_id, product_ids, list_id, placement, strategy, query, synthetic"
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY events_event ({columns}) FROM STDIN") as copy:
        products = chosen.choices(ranked, weights=skew, k=count)
        for product_id, kind in zip(products, chosen.choices(kinds, weights=kind_weights, k=count), strict=True):
            at = now - timedelta(seconds=chosen.uniform(0, DAYS * 86400))
            shown = [product_id] if kind == "impression" else []
            copy.write_row((kind, at, chosen.choice(visitors), product_id, shown, "", "", "", "", True))


def time_ms(strategy: Trending, context: Context) -> tuple[float, list[int]]:
    started = time.perf_counter()
    found = strategy.recommend(context)
    return (time.perf_counter() - started) * 1000, [item.product.pk for item in found]


def segments(rows: list[dict]) -> dict[str, Context]:
    categories: dict[str, int] = {}
    for row in rows:
        if row["master_category"]:
            categories[row["master_category"]] = categories.get(row["master_category"], 0) + 1
    rare = min(categories, key=categories.__getitem__)
    return {
        "overall": Context(),
        "Women": Context(gender="Women"),
        "Men": Context(gender="Men"),
        "Women / Apparel": Context(gender="Women", category="Apparel"),
        "Men / Footwear": Context(gender="Men", category="Footwear"),
        "Girls": Context(gender="Girls"),
        f"{rare} (rarest category)": Context(category=rare),
    }


def write_cost_ms(product_ids: list[int], repeat: int) -> tuple[float, float]:
    """Median ms of the two statements the log's writer runs for a batch of 500 views of as many products (the
    worst case: no two on one row): the events' insert, and the popularity upsert. Rolled back."""
    chosen = random.Random(1)
    inserts, upserts = [], []
    for _ in range(repeat):
        batch = [
            {"kind": "view", "product_id": product_id, "visitor_id": uuid.uuid4(), "created_at": timezone.now()}
            for product_id in chosen.sample(product_ids, 500)
        ]
        with transaction.atomic():
            started = time.perf_counter()
            Event.objects.bulk_create([Event(**fields) for fields in batch])
            inserted = time.perf_counter()
            add_popularity(batch)
            inserts.append((inserted - started) * 1000)
            upserts.append((time.perf_counter() - inserted) * 1000)
            transaction.set_rollback(True)
    return statistics.median(inserts), statistics.median(upserts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=0, help="only the first N products (0: all)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help=f"keep (and reuse) the {DATABASE} database")
    args = parser.parse_args()

    rows = copy_catalogue(args.products)
    original = connection.settings_dict["NAME"]
    create_database(args.keep)
    try:
        started = time.perf_counter()
        if Event.objects.count() != args.events or Product.objects.count() != len(rows):
            Event.objects.all().delete()
            write_catalogue(rows)
            write_log([row["id"] for row in rows], args.events, args.seed)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        scored = rebuild_popularity()
        rebuilt = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        print(f"Trending, uncached, {args.events:,} events over {DAYS} days, {len(rows):,} products, {VISITORS:,}")
        print(f"visitors; median of {args.repeat} alternating runs; six products per list")
        print(f"Machine: {describe_machine()}; load average {os.getloadavg()[0]:.2f}")
        print(f"Log written in {loaded:.0f} s; rebuild_popularity: {scored:,} products in {rebuilt:.2f} s")
        print(f"{'segment':<32}{'log sum ms':>11}{'score ms':>10}{'x faster':>10}{'p95 score':>11}  same top 6")
        old, new = LogSum("trending"), Uncached("trending")
        for name, context in segments(rows).items():
            time_ms(old, context), time_ms(new, context)  # warm: plans, connection
            timings: dict[str, list[float]] = {"old": [], "new": []}
            shown = {}
            for index in range(args.repeat):
                order = [("old", old), ("new", new)] if index % 2 == 0 else [("new", new), ("old", old)]
                for label, strategy in order:
                    elapsed, shown[label] = time_ms(strategy, context)
                    timings[label].append(elapsed)
            before, after = statistics.median(timings["old"]), statistics.median(timings["new"])
            p95 = statistics.quantiles(timings["new"], n=20)[-1]
            same = "yes" if shown["old"] == shown["new"] else f"{len(set(shown['old']) & set(shown['new']))} of 6"
            print(f"{name:<32}{before:>11.1f}{after:>10.2f}{before / after:>10.0f}{p95:>11.2f}  {same}")
        insert, upsert = write_cost_ms([row["id"] for row in rows], args.repeat)
        print(f"A batch of 500 views of 500 products: insert {insert:.1f} ms, popularity upsert {upsert:.1f} ms")
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(original, verbosity=0)


if __name__ == "__main__":
    main()
