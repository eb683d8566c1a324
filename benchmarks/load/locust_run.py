"""Run locust headless against a server (benchmarks/load/locustfile.py, in a process of its own) and read its
statistics. No Django: the runner and the tests call it alike."""

import csv
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True)
class Endpoint:
    """One kind of request's figures; times in milliseconds (locust rounds percentiles to two significant digits)."""

    name: str
    method: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float


@dataclass
class LocustResult:
    users: int
    seconds: float
    endpoints: list[Endpoint]
    total: Endpoint
    failures: list[str] = field(default_factory=list)
    """"N x METHOD name: error" for each kind of failure."""
    output: str = ""

    def requests_of(self, name: str) -> int:
        return sum(endpoint.requests for endpoint in self.endpoints if endpoint.name == name)


def run_locust(
    host: str,
    plan: Path,
    *,
    users: int,
    spawn_rate: float,
    run_time: str,
    csv_prefix: Path,
    every_kind_first: bool = False,
) -> LocustResult:
    """``users`` users, one in ten of them (at least one) a shopper, started ``spawn_rate`` a second, for
    ``run_time`` (``"60s"``); the plan must have an account for each shopper."""
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host,
        "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", run_time, "--stop-timeout", "30",
        "--csv", str(csv_prefix), "--only-summary", "--loglevel", "WARNING", "--plan", str(plan),
        "--shoppers", str(shoppers_among(users)),
    ]  # fmt: skip
    if every_kind_first:
        command.append("--every-kind-first")
    # Exit status 1 means failed requests, which the statistics tell; anything else is locust itself failing.
    finished = subprocess.run(command, capture_output=True, text=True, cwd=LOCUSTFILE.parent)
    output = finished.stdout + finished.stderr
    stats = Path(f"{csv_prefix}_stats.csv")
    if finished.returncode not in (0, 1) or not stats.exists():
        raise RuntimeError(f"locust exited with status {finished.returncode}:\n{output[-4000:]}")
    rows = list(csv.DictReader(stats.open()))
    endpoints = [_endpoint(row) for row in rows if row["Name"] != "Aggregated"]
    total = _endpoint(next(row for row in rows if row["Name"] == "Aggregated"))
    return LocustResult(
        users=users,
        seconds=_seconds(run_time),
        endpoints=endpoints,
        total=total,
        failures=[
            f"{row['Occurrences']} x {row['Method']} {row['Name']}: {row['Error']}"
            for row in csv.DictReader(Path(f"{csv_prefix}_failures.csv").open())
        ],
        output=output,
    )


def shoppers_among(users: int) -> int:
    return max(1, users // 10)


def _endpoint(row: dict[str, str]) -> Endpoint:
    def number(column: str) -> float:
        value = row[column]
        return float(value) if value not in ("", "N/A") else 0.0

    return Endpoint(
        name=row["Name"],
        method=row["Type"],
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        rps=number("Requests/s"),
        p50=number("50%"),
        p95=number("95%"),
        p99=number("99%"),
        max=number("Max Response Time"),
    )


def _seconds(run_time: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(run_time[:-1]) * units[run_time[-1]] if run_time[-1] in units else float(run_time)
