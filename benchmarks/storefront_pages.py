"""Median render time of the storefront pages on the current database.

    .venv/bin/python benchmarks/storefront_pages.py [--repeat 30]

Requests go through Django's full stack in process (middleware, ORM, templates;
no network). Each page is reported in milliseconds and as a ratio to a baseline
measured in the same run: the cheapest page Django can serve here (the admin
login form, no catalogue queries). Pages asked again are served from what the first
asking left in Django's cache (in process, or Redis with CACHE_URL set): counts, the
rendered filters; "new filters" and "new words" ask each listing or search once.
Product pages come without their shelves, which a browser asks for after the page:
"their shelves" (similar items and recommendations) of random products, so nothing
comes from a warm cache; "... again" the same ones, their similar items' rankings
now cached.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.test import Client, override_settings  # noqa: E402

from benchmarks.machine import describe_machine  # noqa: E402
from shop.models import Product  # noqa: E402

SHELVES = {"X-Shelves": "1"}  # the shelves a browser asks for after a product page (static/shop/js/shelves.js)


def median_ms(client: Client, url: str, repeat: int) -> float:
    return median_ms_over(client, [url] * repeat)


def median_ms_over(client: Client, urls: list[str], headers: dict[str, str] | None = None) -> float:
    """One request per URL, e.g. different products, so that no result is served from a warm cache."""
    client.get(urls[0], headers=headers)
    timings = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url, headers=headers)
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
    # Filters and searches not asked before in this run: their counts and rendered filters are not cached yet.
    types = list(Product.objects.exclude(article_type=None).values_list("article_type", flat=True).distinct())
    new_filters = [f"/products/?{urlencode({'article_type': name, 'sort': 'price'})}" for name in types]
    colours = list(Product.objects.exclude(base_colour=None).values_list("base_colour", flat=True).distinct())
    searched = zip(colours * len(types), types, strict=False)
    new_searches = [f"/search/?{urlencode({'q': f'{colour} {name}'})}" for colour, name in searched]
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
    rows["their shelves"] = median_ms_over(client, product_pages, SHELVES)
    rows["... again (cached)"] = median_ms_over(client, product_pages, SHELVES)
    with override_settings(SIMILAR_ITEMS_METADATA_RANKING=True):
        rows["... metadata ranking"] = median_ms_over(client, product_pages, SHELVES)
    rows["listing, new filters"] = median_ms_over(client, new_filters[: args.repeat])
    rows["search, new words"] = median_ms_over(client, new_searches[: args.repeat])
    for name, ms in rows.items():
        print(f"{name:<24}{ms:>8.1f}{ms / baseline:>12.1f}")


if __name__ == "__main__":
    main()
