"""Requests per second of product pages against the admin login page, on the same gunicorn, at the same concurrency.

    .venv/bin/python benchmarks/page_throughput.py [--concurrency 8] [--seconds 20]

The server is the one scripts/start.sh runs (scripts/serve.sh: gunicorn with config/gunicorn.py, DEBUG off, the
Redis cache) on the current database. The baseline is the admin login form, the cheapest page Django serves here (no
catalogue query); it is measured before and after the product pages, and their mean is the ratio's denominator, so
that a drift of the machine during the run shows. Product pages are requested in a random order over the whole
catalogue, each once; "their shelves" then asks the same products' shelves (similar items and recommendations) as
a browser does after the page (``X-Shelves: 1``, static/shop/js/shelves.js), with their similar items from a cold
cache as often as a real crawl would make them.
"""

import argparse
import http.client
import itertools
import os
import random
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from benchmarks.load.run import serving  # noqa: E402
from benchmarks.machine import describe_machine  # noqa: E402
from shop.models import Product  # noqa: E402


def throughput(
    url: str, paths: list[str], concurrency: int, seconds: float, headers: dict[str, str] | None = None
) -> tuple[float, int, int]:
    """(requests/s, requests, failures) of ``concurrency`` keep-alive clients taking ``paths`` in turn."""
    target = urlsplit(url)
    deadline = time.monotonic() + seconds
    turns = itertools.cycle(paths)
    lock = threading.Lock()
    done = [0, 0]

    def client() -> None:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                path = next(turns)
            try:
                connection.request("GET", path, headers=headers or {})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                ok = False
            with lock:
                done[0 if ok else 1] += 1
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.monotonic() - started), done[0], done[1]


def measure(url: str, products: list[str], concurrency: int, seconds: float, warm_up: float) -> dict:
    """Each row's (requests/s, requests, failures), against the server at ``url``."""
    # Every worker loads the image model and the recommenders, and its pool connects, before anything counts.
    throughput(url, ["/admin/login/", *products[-200:]], concurrency, warm_up)
    rows = {"baseline (admin login)": throughput(url, ["/admin/login/"], concurrency, seconds)}
    rows["product pages, random"] = throughput(url, products, concurrency, seconds)
    rows["their shelves"] = throughput(url, products, concurrency, seconds, headers={"X-Shelves": "1"})
    rows["baseline, after"] = throughput(url, ["/admin/login/"], concurrency, seconds)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warm-up", type=float, default=15.0, help="Seconds of requests before anything counts.")
    parser.add_argument("--cache-url", default=os.environ.get("CACHE_URL") or "redis://127.0.0.1:6379/1")
    args = parser.parse_args()

    ids = list(Product.objects.exclude(image="").values_list("pk", flat=True))
    if not ids:
        raise SystemExit("The catalogue is empty: run scripts/start.sh with the dataset first.")
    random.Random(0).shuffle(ids)
    products = [Product(pk=pk).get_absolute_url() for pk in ids]
    log = Path("var") / "page_throughput.log"
    log.parent.mkdir(exist_ok=True)
    with serving(log, args.cache_url, f"throughput-{uuid.uuid4().hex[:8]}") as (url, _):
        rows = measure(url, products, args.concurrency, args.seconds, args.warm_up)
    baseline = (rows["baseline (admin login)"][0] + rows["baseline, after"][0]) / 2
    print(f"Throughput at concurrency {args.concurrency}, {args.seconds:g} s each, {len(ids):,} products")
    print(f"Machine: {describe_machine()}")
    print(f"{'requests':<26}{'req/s':>8}{'failed':>8}{'x baseline':>12}")
    for name, (rate, _, failed) in rows.items():
        print(f"{name:<26}{rate:>8.1f}{failed:>8}{rate / baseline:>12.2f}")


if __name__ == "__main__":
    main()
