"""Median render time of the storefront pages on the current database.

    .venv/bin/python benchmarks/storefront_pages.py [--repeat 30]

Requests go through Django's full stack in process (middleware, ORM, templates;
no network). Each page is reported in milliseconds and as a ratio to a baseline
measured in the same run: the cheapest page Django can serve here (the admin
login form, no catalogue queries). Product pages include their similar items;
"random" requests a different product each time, so nothing comes from a warm cache;
"... again" requests the same products once more, their similar items' rankings now
in Django's cache (in process, or Redis with CACHE_URL set).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.test import Client, override_settings  # noqa: E402

from benchmarks.machine import describe_machine  # noqa: E402
from shop.models import Product  # noqa: E402


def median_ms(client: Client, url: str, repeat: int) -> float:
    return median_ms_over(client, [url] * repeat)


def median_ms_over(client: Client, urls: list[str]) -> float:
    """One request per URL, e.g. different products, so that no result is served from a warm cache."""
    client.get(urls[0])
    timings = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    count = Product.objects.count()
    if not count:
        raise SystemExit("The catalogue is empty: run scripts/start.sh with the dataset first.")
    product = Product.objects.filter(pk=15970).first() or Product.objects.first()
    pages = {
        "home": "/",
        "listing": "/products/",
        "listing, 2 filters": "/products/?gender=Women&article_type=Tops",
        "listing, page 20": "/products/?master_category=Apparel&page=20",
        "search": "/search/?q=blue+shirt",
        "search, typo fallback": "/search/?q=tshrt",
        "product page": product.get_absolute_url(),
        "product page, 3 options": f"{product.get_absolute_url()}?same_gender=1&same_category=1&in_stock=1",
    }
    others = Product.objects.exclude(image="").order_by("?")[: args.repeat]
    product_pages = [other.get_absolute_url() for other in others]
    client = Client()
    baseline = median_ms(client, "/admin/login/", args.repeat)

    print(f"Storefront pages, {count:,} products, median of {args.repeat} requests")
    print(f"Machine: {describe_machine()}")
    print(f"{'page':<24}{'ms':>8}{'x baseline':>12}")
    print(f"{'baseline (admin login)':<24}{baseline:>8.1f}{1:>12.1f}")
    for name, url in pages.items():
        ms = median_ms(client, url, args.repeat)
        print(f"{name:<24}{ms:>8.1f}{ms / baseline:>12.1f}")
    rows = {"product pages, random": median_ms_over(client, product_pages)}
    rows["... again (cached)"] = median_ms_over(client, product_pages)
    with override_settings(SIMILAR_ITEMS_METADATA_RANKING=True):
        rows["... metadata ranking"] = median_ms_over(client, product_pages)
    for name, ms in rows.items():
        print(f"{name:<24}{ms:>8.1f}{ms / baseline:>12.1f}")


if __name__ == "__main__":
    main()
