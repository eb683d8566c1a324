"""What the interaction log costs a page: the product page's median with the log off and on, in the same run.

    .venv/bin/python benchmarks/event_logging.py [--repeat 200] [--rounds 5]

Requests go through Django's full stack in process, as in storefront_pages.py. The log runs as in production
(buffered, written by a background thread). Each product is requested with the log off and on, one right after the
other in alternating order, so that drift, other load and warm caches favour neither; the difference is the median
of these pairs. Each page view logs a view, the similar items' impression and, with a list id in the link, a click.
The goal the log was built to: at most 2 ms more per product page.
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

from django.test import Client, override_settings  # noqa: E402

from benchmarks.machine import describe_machine  # noqa: E402
from events.models import Event  # noqa: E402
from events.recorder import recorder  # noqa: E402
from shop.models import Product  # noqa: E402


def time_ms(client: Client, url: str, *, log: bool) -> float:
    with override_settings(EVENTS_ENABLED=log, EVENTS_BUFFERED=True):
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200, help="product pages per round and setting")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    ids = list(Product.objects.exclude(image="").order_by("?").values_list("pk", flat=True)[: args.repeat])
    if not ids:
        raise SystemExit("The catalogue is empty: run scripts/start.sh with the dataset first.")
    pages = {
        "product page": [f"/products/{pk}/" for pk in ids],
        "product page from a list": [f"/products/{pk}/?lid={uuid.uuid4().hex}&pos=3" for pk in ids],
    }
    client = Client()
    client.get(pages["product page"][0])  # the visitor cookie, the model, the connection
    before = Event.objects.count()
    pairs: dict[str, list[tuple[float, float]]] = {name: [] for name in pages}
    for round_number in range(args.rounds):
        for name, urls in pages.items():
            for index, url in enumerate(urls):
                first_on = (index + round_number) % 2 == 1
                first = time_ms(client, url, log=first_on)
                second = time_ms(client, url, log=not first_on)
                pairs[name].append((second, first) if first_on else (first, second))
    recorder.flush()
    logged = Event.objects.count() - before

    print(f"Product pages with the interaction log off and on, {len(ids)} products x {args.rounds} rounds, paired")
    print(f"Machine: {describe_machine()}; load average {os.getloadavg()[0]:.2f}")
    print(f"{'page':<28}{'off ms':>8}{'on ms':>8}{'+ms':>7}{'x off':>7}")
    for name, measured in pairs.items():
        off = statistics.median(pair[0] for pair in measured)
        on = statistics.median(pair[1] for pair in measured)
        added = statistics.median(pair[1] - pair[0] for pair in measured)
        print(f"{name:<28}{off:>8.2f}{on:>8.2f}{added:>7.2f}{on / off:>7.3f}")
    print(f"{logged} events written meanwhile by the background writer (none while the log was off).")


if __name__ == "__main__":
    main()
