"""Requests per second of product pages against the admin login page, on the same gunicorn, at the same concurrency.

    .venv/bin/python benchmarks/page_throughput.py [--concurrency 8] [--seconds 20] [--rounds 4]

The server is the one scripts/start.sh runs (scripts/serve.sh: gunicorn with config/gunicorn.py, DEBUG off, the
Redis cache) on the current database. The baseline is the admin login form, the cheapest page Django serves here (no
catalogue query). The rows take turns in rounds (baseline, product pages, their shelves; again), and each round's
rate is divided by its own baseline: the ratio is the median of the rounds', with their spread, so that a drift of
the machine during the run (other tenants, clock speed) shows and does not decide. Product pages are requested in a
random order over the whole catalogue, each once; "their shelves" then asks the same products' shelves (similar
items and recommendations) as a browser does after the page (``X-Shelves: 1``, static/shop/js/shelves.js), with
their similar items from a cold cache as often as a real crawl would make them.
"""

import argparse
import http.client
import itertools
import os
import random
import statistics
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

BASELINE = "/admin/login/"
BASELINE_ROW = "baseline (admin login)"
SHELVES = {"X-Shelves": "1"}  # what static/shop/js/shelves.js asks with


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


def measure(
    url: str, products: list[str], *, concurrency: int, seconds: float, rounds: int, warm_up: float
) -> dict[str, list[tuple[float, int, int]]]:
    """Each row's (requests/s, requests, failures) in each round, against the server at ``url``."""
    # Every worker loads the image model and the recommenders, and its pool connects, before anything counts.
    warming, rest = products[-200:], products[:-200] or products
    throughput(url, [BASELINE, *warming], concurrency, warm_up)
    rows: dict[str, list[tuple[float, int, int]]] = {BASELINE_ROW: [], "product pages, random": [], "their shelves": []}
    for turn in range(rounds):
        theirs = rest[turn::rounds] or rest  # other products in each round
        rows[BASELINE_ROW].append(throughput(url, [BASELINE], concurrency, seconds / rounds))
        rows["product pages, random"].append(throughput(url, theirs, concurrency, seconds / rounds))
        rows["their shelves"].append(throughput(url, theirs, concurrency, seconds / rounds, headers=SHELVES))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="Seconds of each row, over all the rounds.")
    parser.add_argument("--rounds", type=int, default=4, help="Rounds of the rows in turn.")
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
        rows = measure(
            url,
            products,
            concurrency=args.concurrency,
            seconds=args.seconds,
            rounds=args.rounds,
            warm_up=args.warm_up,
        )
    print(
        f"Throughput at concurrency {args.concurrency}, {args.seconds:g} s each in {args.rounds} rounds, "
        f"{len(ids):,} products"
    )
    print(f"Machine: {describe_machine()}")
    print(f"{'requests':<26}{'req/s':>8}{'failed':>8}{'x baseline':>12}{'rounds':>16}")
    for name, turns in rows.items():
        rate = statistics.mean(turn[0] for turn in turns)
        failed = sum(turn[2] for turn in turns)
        ratios = [turn[0] / base[0] for turn, base in zip(turns, rows[BASELINE_ROW], strict=True)]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(f"{name:<26}{rate:>8.1f}{failed:>8}{statistics.median(ratios):>12.2f}{spread:>16}")


if __name__ == "__main__":
    main()
