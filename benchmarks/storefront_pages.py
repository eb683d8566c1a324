"""Median render time of the storefront pages on the current database.

    .venv/bin/python benchmarks/storefront_pages.py [--repeat 60]

Requests go through Django's full stack in process (middleware, ORM, templates; no network). Each page is reported
in milliseconds and as a ratio to a baseline measured in the same run: the cheapest page Django can serve here (the
admin login form, no catalogue queries), asked before each request of the page, so that a drift of the machine
(other tenants, clock speed) moves both alike. Pages asked again are served from what the first asking left in
Django's cache (in process, or Redis with CACHE_URL set): counts, the rendered filters; "new filters" and "new
words" ask each listing or search once. Product pages come without their shelves, which a browser asks for after
the page: "their shelves" (similar items and recommendations) of random products, so nothing comes from a warm
cache; "... again" the same ones, their similar items' rankings now cached.
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


BASELINE = "/admin/login/"


def timed_ms(client: Client, url: str, headers: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed


def medians_ms(client: Client, urls: list[str], headers: dict[str, str] | None = None) -> tuple[float, float]:
    """Median ms of one request per URL (e.g. different products, so that nothing comes from a warm cache), and of
    the baseline asked just before each: the machine's drift (other tenants, frequency) moves both alike."""
    client.get(urls[0], headers=headers)
    pages, baselines = [], []
    for url in urls:
        baselines.append(timed_ms(client, BASELINE))
        pages.append(timed_ms(client, url, headers))
    return statistics.median(pages), statistics.median(baselines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=60)
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
    client.get(BASELINE)

    print(f"Storefront pages, {count:,} products, median of {args.repeat} requests")
    print(f"Machine: {describe_machine()}")
    print(f"{'page':<24}{'ms':>8}{'baseline ms':>13}{'x baseline':>12}")

    def row(name: str, urls: list[str], headers: dict[str, str] | None = None) -> None:
        ms, baseline = medians_ms(client, urls, headers)
        print(f"{name:<24}{ms:>8.1f}{baseline:>13.1f}{ms / baseline:>12.1f}", flush=True)

    for name, url in pages.items():
        row(name, [url] * args.repeat)
    row("product pages, random", product_pages)
    row("their shelves", product_pages, SHELVES)
    row("... again (cached)", product_pages, SHELVES)
    with override_settings(SIMILAR_ITEMS_METADATA_RANKING=True):
        row("... metadata ranking", product_pages, SHELVES)
    row("listing, new filters", new_filters[: args.repeat])
    row("search, new words", new_searches[: args.repeat])


if __name__ == "__main__":
    main()
