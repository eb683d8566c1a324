"""Repeated A/A tests: the real assignment and statistics on visitors whose outcomes do not depend on their variant,
to measure how often the results call a difference that is not there (it should be about 5% at p < 0.05).
SIMULATED visitors; no database."""

import uuid
from dataclasses import dataclass

import numpy as np

from .assignment import choose
from .models import Metric
from .results import RATES
from .statistics import compare, sample_ratio


@dataclass(frozen=True)
class AATestReport:
    runs: int
    visitors: int
    significant: dict[str, int]  # metric -> runs where the two identical arms differed at p < 0.05
    sample_ratio_alarms: int

    def false_positive_rate(self, metric: str) -> float:
        return self.significant[metric] / self.runs


def aa_tests(runs: int = 100, visitors: int = 2000, *, click_rate: float = 0.1, seed: int = 0) -> AATestReport:
    """``runs`` experiments of ``visitors`` each, split 50/50 by ``assignment.choose`` with a fresh salt per run.

    A visitor clicks with ``click_rate``, a clicker adds to the cart 30% of the time, a carter buys 40% of the
    time, for a lognormal amount around ₹1,100: the same in both arms."""
    significant = dict.fromkeys(Metric.values, 0)
    alarms = 0
    for run in range(runs):
        rng = np.random.default_rng([seed, run])
        salt = uuid.UUID(bytes=rng.bytes(16)).hex
        arms = np.array([choose([1, 1], salt, uuid.UUID(bytes=rng.bytes(16)).hex) for _ in range(visitors)])
        clicked = rng.random(visitors) < click_rate
        carted = clicked & (rng.random(visitors) < 0.3)
        bought = carted & (rng.random(visitors) < 0.4)
        outcomes = {
            Metric.CLICK_THROUGH: clicked.astype(float),
            Metric.ADD_TO_CART: carted.astype(float),
            Metric.CONVERSION: bought.astype(float),
            Metric.REVENUE: np.where(bought, rng.lognormal(7.0, 0.6, visitors), 0.0),
        }
        for metric, values in outcomes.items():
            if compare(metric in RATES, values[arms == 0], values[arms == 1]).significant:
                significant[metric] += 1
        alarms += sample_ratio([int((arms == 0).sum()), int((arms == 1).sum())], [1, 1]).mismatch
    return AATestReport(runs, visitors, significant, alarms)
