"""What a running A/B test costs a page: the home page with and without an experiment on its Trending shelf.

    .venv/bin/python benchmarks/experiment_assignment.py [--repeat 200]

Requests go through Django's full stack in process, each from a new visitor (who is assigned, and exposed with
one insert) and again from the same visitors (assigned, already exposed). The experiment is created for the run
and deleted afterwards with its exposures; the baseline is the same page with no experiment, in the same run.
Also the assignment alone (the running experiments, the visitor's unit, the hash), in microseconds.
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

from django.test import Client, RequestFactory  # noqa: E402

from benchmarks.machine import describe_machine  # noqa: E402
from events.middleware import COOKIE_NAME  # noqa: E402
from experiments.models import Experiment, Variant  # noqa: E402
from experiments.selectors import assign  # noqa: E402
from experiments.services import start_experiment, stop_experiment  # noqa: E402
from shop.models import Product  # noqa: E402

PLACEMENT = "home: Trending"


def visitors(count: int) -> list[Client]:
    clients = []
    for _ in range(count):
        client = Client()
        client.cookies[COOKIE_NAME] = uuid.uuid4().hex
        clients.append(client)
    return clients


def median_ms(clients: list[Client]) -> float:
    timings = []
    for client in clients:
        started = time.perf_counter()
        response = client.get("/")
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"The home page answered {response.status_code}.")
    return statistics.median(timings)


def assignment_us(repeat: int) -> float:
    request = RequestFactory().get("/")
    timings = []
    for _ in range(repeat):
        request.visitor_id = uuid.uuid4()
        started = time.perf_counter()
        assign(request, PLACEMENT)
        timings.append((time.perf_counter() - started) * 1e6)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    if not Product.objects.exists():
        raise SystemExit("The catalogue is empty: run scripts/start.sh with the dataset first.")
    if Experiment.objects.filter(placement=PLACEMENT, status=Experiment.Status.RUNNING).exists():
        raise SystemExit(f"An experiment is running on {PLACEMENT!r}: stop it first.")

    Client().get("/")  # warm up: templates, the trending list's cache
    rows = {"no experiment": median_ms(visitors(args.repeat))}
    rows["... again"] = median_ms(visitors(args.repeat))
    experiment = Experiment.objects.create(name="benchmark (deleted after the run)", placement=PLACEMENT)
    for key, is_control in (("control", True), ("b", False)):
        Variant.objects.create(
            experiment=experiment, key=key, strategy="trending", parameters={"limit": 6}, is_control=is_control
        )
    try:
        start_experiment(experiment)
        shoppers = visitors(args.repeat)
        rows["experiment, new visitors"] = median_ms(shoppers)
        rows["experiment, again"] = median_ms(shoppers)
        assigned = assignment_us(args.repeat * 10)
        stop_experiment(experiment)
    finally:
        experiment.delete()

    baseline = statistics.mean([rows["no experiment"], rows["... again"]])
    print(f"Home page with and without an A/B test on its Trending shelf, median of {args.repeat} visitors")
    print(f"Machine: {describe_machine()}")
    print(f"{'home page':<28}{'ms':>8}{'x baseline':>12}")
    for name, ms in rows.items():
        print(f"{name:<28}{ms:>8.2f}{ms / baseline:>12.2f}")
    print(f"assignment alone: {assigned:.1f} µs median ({args.repeat * 10} visitors)")


if __name__ == "__main__":
    main()
