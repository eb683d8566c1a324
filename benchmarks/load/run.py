"""The load suite: the storefront as scripts/start.sh serves it (scripts/serve.sh: gunicorn with config/gunicorn.py,
DEBUG off) on the current database, with Redis as the shared cache, under locust for 60 s; writes reports/load/.

    .venv/bin/python benchmarks/load/run.py --users 40                    # the measured run (60 s)
    .venv/bin/python benchmarks/load/run.py --steps 10,20,40,80 --users 40 # first 20 s at each count: find the knee
    .venv/bin/python benchmarks/load/run.py --clean-up                    # only remove what an interrupted run left

The users (benchmarks/load/locustfile.py) are nine visitors to one shopper: the home page, listings with filters,
text searches, product pages and then their shelves (similar items and more), searches by photo (the 100
full-size photos of ../shared/datasets/fashion-product-images-hires), and shoppers who log in, add sizes to the bag
and check out with cash on delivery. A warm-up (each user makes every kind of request first; 60 s) loads the image
model and the trained recommenders into the workers and fills the cache before the workers' memory is first read.
Their memory is read every 2 s of the run, and at its end.

What the run creates (shoppers, orders, the interaction log of its visitors) is removed at the end, and before the
start in case an earlier run was interrupted (benchmarks/load/plan.py). The cache keys of the run (its own prefix)
are deleted from Redis.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import psutil  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402

from benchmarks.load.locust_run import LocustResult, run_locust, shoppers_among  # noqa: E402
from benchmarks.load.plan import clean_up, write_plan  # noqa: E402
from benchmarks.machine import describe_machine  # noqa: E402
from config import gunicorn as gunicorn_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT.parent / "shared" / "datasets" / "fashion-product-images-hires"
SAMPLE_SECONDS = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=40, help="Concurrent users of the measured run.")
    parser.add_argument("--spawn-rate", type=float, default=10, help="Users started per second.")
    parser.add_argument("--run-time", default="60s", help="Length of the measured run (locust's notation).")
    parser.add_argument("--warm-up", default="60s", help="Length of the warm-up, before the steps and the run.")
    parser.add_argument("--steps", default="", help="User counts to try first, 20 s each (--step-time): 10,20,40.")
    parser.add_argument("--step-time", default="20s")
    parser.add_argument("--cache-url", default=os.environ.get("CACHE_URL") or "redis://127.0.0.1:6379/1")
    parser.add_argument("--photos", type=Path, default=PHOTOS, help="The photos searched with (*.jpg).")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "load")
    parser.add_argument("--note", default="", help="Written into the report: what else the machine was doing.")
    parser.add_argument("--clean-up", action="store_true", help="Only remove what earlier runs left, then stop.")
    args = parser.parse_args()

    print(clean_up())
    if args.clean_up:
        return
    steps_users = [int(users) for users in args.steps.split(",") if users]
    photos = sorted(args.photos.glob("*.jpg"))
    prefix = f"load-test-{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="load-test-"))  # the plan, locust's statistics, the server's log
    plan = work / "plan.json"
    most = max(shoppers_among(users) for users in [args.users, *steps_users])
    write_plan(plan, shoppers=most, photos=photos)
    load_before = os.getloadavg()
    try:
        with serving(work / "server.log", args.cache_url, prefix) as (url, master):

            def locust(users: int, run_time: str, name: str, **options) -> LocustResult:
                result = run_locust(
                    url, plan, users=users, spawn_rate=args.spawn_rate, run_time=run_time,
                    csv_prefix=work / name, **options,
                )  # fmt: skip
                print(f"{name}: {summary(result)}", *result.failures, sep="\n  ")
                return result

            locust(args.users, args.warm_up, "warm-up", every_kind_first=True)
            steps = [locust(users, args.step_time, f"step-{users}") for users in steps_users]
            before = worker_memory(master)
            with sampling(master) as samples:
                result = locust(args.users, args.run_time, "run")
            after = worker_memory(master)
            config = server_config(master)
    finally:
        print(clean_up())
        delete_cache_keys(args.cache_url, prefix)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        "note": args.note,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "server": config | {"cache": f"{args.cache_url} (prefix {prefix})", "database": database_name()},
        "users": {"total": args.users, "shoppers": shoppers_among(args.users), "spawn_rate": args.spawn_rate},
        "steps": [outcome(step) for step in steps],
        "run": outcome(result),
        "memory": memory_report(before, after, samples),
    }
    write_report(args.out, report)
    if result.total.failures:
        raise SystemExit(
            f"{result.total.failures} requests failed (the server's log: {work / 'server.log'}):\n"
            + "\n".join(result.failures)
        )
    shutil.rmtree(work)


@contextmanager
def serving(log: Path, cache_url: str, prefix: str) -> Iterator[tuple[str, int]]:
    """scripts/serve.sh on this database, with the shared cache; yields its URL and gunicorn's (master) pid."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PORT": str(port),
        "CACHE_URL": cache_url,
        "CACHE_KEY_PREFIX": prefix,
        # What the load test does is marked synthetic, so that it can be found and removed (plan.py).
        "EVENTS_ACCEPT_SYNTHETIC_HEADER": "true",
        # Every user comes from 127.0.0.1: the per-client limit would refuse all but 30 photo searches a minute.
        "API_PHOTO_SEARCH_RATE": "1000000/minute",
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            ["scripts/serve.sh"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"The server did not start:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url + "/", timeout=30):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        yield url, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def workers(master: int) -> list[psutil.Process]:
    return sorted(psutil.Process(master).children(), key=lambda worker: worker.pid)


def worker_memory(master: int) -> dict[int, float]:
    """Each gunicorn worker's resident memory, in MB."""
    return {worker.pid: worker.memory_info().rss / 2**20 for worker in workers(master)}


@contextmanager
def sampling(master: int) -> Iterator[list[dict[int, float]]]:
    samples: list[dict[int, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            samples.append(worker_memory(master))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        done.set()
        thread.join()


def memory_report(before: dict[int, float], after: dict[int, float], samples: list[dict[int, float]]) -> dict:
    """Per worker: MB before the run, at each quarter of it, its peak, and how much it grew in the second half."""
    half = samples[len(samples) // 2] if samples else before
    quarters = [samples[len(samples) * quarter // 4 - 1] for quarter in (1, 2, 3, 4)] if len(samples) >= 4 else []
    rows = []
    for pid in sorted(before):
        series = [sample[pid] for sample in samples if pid in sample]
        rows.append(
            {
                "pid": pid,
                "before_mb": round(before[pid], 1),
                "quarters_mb": [round(sample.get(pid, 0.0), 1) for sample in quarters],
                "after_mb": round(after.get(pid, 0.0), 1),
                "peak_mb": round(max(series, default=before[pid]), 1),
                "second_half_growth_mb": round(after.get(pid, 0.0) - half.get(pid, before[pid]), 1),
            }
        )
    restarted = sorted(set(after) - set(before))
    return {"workers": rows, "restarted_workers": restarted, "samples": len(samples)}


def server_config(master: int) -> dict:
    return {
        "workers": len(workers(master)),
        "threads": gunicorn_config.threads,
        "database_pool_max_size": settings.DATABASE_POOL_MAX_SIZE,
    }


def database_name() -> str:
    params = settings.DATABASES["default"]
    return f"{params['NAME']} ({params['ENGINE']})"


def delete_cache_keys(cache_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(cache_url)
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def outcome(result: LocustResult) -> dict:
    return {
        "users": result.users,
        "seconds": result.seconds,
        "total": asdict(result.total),
        "endpoints": [asdict(endpoint) for endpoint in result.endpoints],
        "failures": result.failures,
    }


def summary(result: LocustResult) -> str:
    total = result.total
    return (
        f"{result.users} users, {total.requests} requests, {total.rps:.1f}/s, p50 {total.p50:.0f} ms, "
        f"p95 {total.p95:.0f} ms, p99 {total.p99:.0f} ms, {total.failures} failed"
    )


def write_report(out: Path, report: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    run = report["run"]
    lines = [
        "# Load test",
        "",
        f"Written by `benchmarks/load/run.py` on {report['date']}: {run['users']} users for {run['seconds']:.0f} s.",
        f"Machine: {report['machine']}; load average {report['load_average_before'][0]:.1f} before, "
        f"{report['load_average_after'][0]:.1f} after. {report['note']}".rstrip(),
        f"Server: {report['server']['workers']} gunicorn workers of {report['server']['threads']} threads, "
        f"database pool {report['server']['database_pool_max_size']} per worker, {report['server']['database']}, cache "
        f"{report['server']['cache']}.",
        "",
        "| request | requests | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = [row["name"] for row in run["endpoints"]]
    for row in [*run["endpoints"], run["total"]]:
        name = row["name"] if names.count(row["name"]) == 1 else f"{row['name']} ({row['method']})"
        name = "**all**" if row is run["total"] else name
        lines.append(
            f"| {name} | {row['requests']:,} | {row['failures']} | {row['rps']:.1f} | {row['p50']:.0f} | "
            f"{row['p95']:.0f} | {row['p99']:.0f} | {row['max']:.0f} |"
        )
    if report["steps"]:
        lines += [
            "",
            "Steps before the run (users, 20 s each):",
            "",
            "| users | req/s | p50 ms | p95 ms | p99 ms | failures |",
        ]
        lines.append("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for step in report["steps"]:
            total = step["total"]
            lines.append(
                f"| {step['users']} | {total['rps']:.1f} | {total['p50']:.0f} | {total['p95']:.0f} | "
                f"{total['p99']:.0f} | {total['failures']} |"
            )
    memory = report["memory"]
    lines += [
        "",
        "Workers' resident memory (MB): before the run (after the warm-up), at each quarter of it, and after it:",
        "",
        "| worker | before | 1/4 | 1/2 | 3/4 | end | after | peak | growth, 2nd half |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in memory["workers"]:
        quarters = " | ".join(str(value) for value in row["quarters_mb"] or [""] * 4)
        lines.append(
            f"| {row['pid']} | {row['before_mb']} | {quarters} | {row['after_mb']} | {row['peak_mb']} | "
            f"{row['second_half_growth_mb']} |"
        )
    growth = [row["second_half_growth_mb"] for row in memory["workers"]]
    if growth:
        lines.append(f"\nMedian growth in the second half of the run: {statistics.median(growth):.1f} MB.")
    if run["failures"]:
        lines += ["", "Failures:", "", *(f"- {failure}" for failure in run["failures"])]
    (out / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
