"""What caching the ranking of similar items saves, on the current database.

    .venv/bin/python benchmarks/similar_items_cache.py [--products 200]

For the same random products, median milliseconds of ``similar_products``: the ranking computed (the HNSW query,
duplicates collapsed; PostgreSQL's buffers already warm from a first pass), and the ranking read from Django's cache
with the products' cards read afresh (one query by primary key). The cache is the settings' (Redis with CACHE_URL,
else in process); the run's entries go under a key prefix of their own. The computed ranking is the baseline.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import override_settings  # noqa: E402

from benchmarks.machine import describe_machine  # noqa: E402
from recommendations.models import ProductEmbedding  # noqa: E402
from recommendations.vectors.selectors import serving_space, similar_products  # noqa: E402
from shop.models import Product  # noqa: E402


def median_ms(products: list[Product], **options) -> float:
    timings = []
    for product in products:
        started = time.perf_counter()
        similar_products(product, **options)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=200)
    args = parser.parse_args()

    space = serving_space()
    if space is None:
        raise SystemExit("No embedding space serves yet: import and embed the catalogue first.")
    ids = ProductEmbedding.objects.filter(space=space, status=ProductEmbedding.Status.OK).values("product_id")
    products = list(Product.objects.filter(pk__in=ids).order_by("?")[: args.products])
    caches = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"similar-items-cache-{uuid.uuid4().hex[:8]}"}}
    print(f"Similar items, {len(products)} random products of {Product.objects.count():,}, median ms")
    print(f"Machine: {describe_machine()}; cache: {caches['default']['BACKEND']}")
    with override_settings(CACHES=caches, SIMILAR_ITEMS_CACHE_SECONDS=0):
        median_ms(products)  # PostgreSQL's buffers warm, nothing cached (a timeout of 0 keeps nothing)
        computed = median_ms(products)
    with override_settings(CACHES=caches):
        median_ms(products)  # cached
        cached = median_ms(products)
    if settings.CACHE_URL:  # an in-process cache goes with the process
        delete_keys(settings.CACHE_URL, caches["default"]["KEY_PREFIX"])
    print(f"{'ranking computed':<34}{computed:>8.1f}{1:>8.2f}")
    print(f"{'ranking cached, cards read afresh':<34}{cached:>8.1f}{cached / computed:>8.2f}")


def delete_keys(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


if __name__ == "__main__":
    main()
