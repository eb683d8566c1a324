"""How often the A/B results call a winner between two identical variants (SIMULATED visitors, no database)."""

import time

from django.core.management.base import BaseCommand, CommandError
from scipy.stats import binomtest

from experiments.models import Metric
from experiments.simulation import aa_tests


class Command(BaseCommand):
    help = (
        "Run repeated A/A tests (the same strategy in both arms) on simulated visitors through the real assignment "
        "and statistics, and report how often each metric came out significant at p < 0.05 (expected: about 5%)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--runs", type=int, default=100)
        parser.add_argument("--visitors", type=int, default=2000, help="per run (default 2,000)")
        parser.add_argument("--click-rate", type=float, default=0.1)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options) -> None:
        if options["runs"] < 1 or options["visitors"] < 4:
            raise CommandError("--runs must be at least 1 and --visitors at least 4.")
        if not 0 < options["click_rate"] < 1:
            raise CommandError("--click-rate is a probability between 0 and 1 (exclusive).")
        started = time.perf_counter()
        report = aa_tests(options["runs"], options["visitors"], click_rate=options["click_rate"], seed=options["seed"])
        self.stdout.write(
            f"{report.runs} A/A tests of {report.visitors:,} simulated visitors each "
            f"in {time.perf_counter() - started:.1f} s. Significant at p < 0.05 (expected about 5%):"
        )
        for metric in Metric.values:
            found = report.significant[metric]
            interval = binomtest(found, report.runs).proportion_ci(0.95)
            self.stdout.write(
                f"  {Metric(metric).label:<22} {found:>4}/{report.runs}  {found / report.runs:6.1%}"
                f"  (95% interval {interval.low:.1%} to {interval.high:.1%})"
            )
        self.stdout.write(f"  sample-ratio alarms (p < 0.001): {report.sample_ratio_alarms}/{report.runs}")
