"""Each personal list's latency on the configured database, uncached, as a page renders it.

    .venv/bin/python benchmarks/personalization_latency.py [--visitors 200] [--strategies for_you,trending,...]

Meant for the full catalogue with a simulated history and trained models:

    .venv/bin/python manage.py simulate_shoppers && .venv/bin/python manage.py train_recommenders

Each strategy's list of six (``Strategy.recommend``: the visitor's latest events, scoring, the rules and the product
cards; the lists' cache off, ``PERSONALIZATION_CACHE_SECONDS=0``; the hourly table of which article types are bought
together stays cached, as it does in production) is timed for ``--visitors`` simulated shoppers (product lists for
one of the products each viewed), the strategies interleaved so that the machine's load weighs on all alike. The
baseline, measured in the same run, is the product page's "similar items" for the same products: the budget the
issue gives "for you" is the product page's.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.test import override_settings  # noqa: E402

from benchmarks.machine import describe_machine  # noqa: E402
from events.models import Event, Visitor  # noqa: E402
from personalization.model_store import trained  # noqa: E402
from personalization.registry import get_strategy  # noqa: E402
from personalization.strategies.base import Context  # noqa: E402
from recommendations.vectors.selectors import serving_space, similar_products  # noqa: E402
from shop.models import Product  # noqa: E402

DEFAULT = (
    "for_you,for_you_als,for_you_bpr,shoppers_like_you,for_you_content,recently_viewed,trending,also_bought,"
    "bought_together"
)
PRODUCT_STRATEGIES = {"also_bought", "also_viewed", "bought_together"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--strategies", default=DEFAULT)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    names = options.strategies.split(",")
    if trained("hybrid") is None:
        sys.exit("No trained model: run simulate_shoppers and train_recommenders first.")
    space = serving_space()
    visitors = list(Visitor.objects.filter(synthetic=True).values_list("id", flat=True)[:50_000])
    if not visitors:
        sys.exit("No simulated shoppers: run simulate_shoppers first.")
    random.Random(options.seed).shuffle(visitors)
    visitors = visitors[: options.visitors]
    products = {
        visitor: Event.objects.filter(visitor_id=visitor, kind="view").values_list("product_id", flat=True).first()
        for visitor in visitors
    }
    times: dict[str, list[float]] = {name: [] for name in [*names, "similar items (baseline)"]}
    lengths: dict[str, list[int]] = {name: [] for name in names}
    print(describe_machine())
    print(f"{Event.objects.count():,} events, {Product.objects.count():,} products, {len(visitors)} visitors")
    for name in names:  # warm: the trained model loads once per process
        get_strategy(name).recommend(
            Context(visitor_id=visitors[0], product=Product.objects.get(pk=products[visitors[0]]))
        )
    with override_settings(PERSONALIZATION_CACHE_SECONDS=0):
        for visitor in visitors:
            product = Product.objects.get(pk=products[visitor])
            for name in names:
                context = Context(visitor_id=visitor, product=product if name in PRODUCT_STRATEGIES else None)
                started = time.perf_counter()
                found = get_strategy(name).recommend(context)
                times[name].append(time.perf_counter() - started)
                lengths[name].append(len(found))
            if space is not None:
                started = time.perf_counter()
                similar_products(product, k=6)
                times["similar items (baseline)"].append(time.perf_counter() - started)
    baseline = statistics.median(times["similar items (baseline)"]) if space is not None else None
    print("\n| list | median | p95 | x similar items | mean length |\n| --- | ---: | ---: | ---: | ---: |")
    for name, values in times.items():
        if not values:
            continue
        median = statistics.median(values)
        p95 = statistics.quantiles(values, n=20)[-1]
        ratio = f"{median / baseline:.2f}" if baseline else "-"
        length = f"{statistics.mean(lengths[name]):.1f}" if name in lengths else "6"
        print(f"| {name} | {median * 1000:.1f} ms | {p95 * 1000:.1f} ms | {ratio} | {length} |")


if __name__ == "__main__":
    main()
