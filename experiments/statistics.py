"""The statistics of an A/B test, on per-visitor outcomes (no Django): statsmodels' Agresti-Caffo two-proportion
test and interval for the rates, scipy's Welch t-test for revenue, a chi-square sample-ratio check and a power
analysis."""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    test_proportions_2indep,
)

ALPHA = 0.05  # 95% intervals
POWER = 0.8
# A sample-ratio mismatch this unlikely by chance means the split is broken, not unlucky.
SRM_ALPHA = 0.001


@dataclass(frozen=True)
class Comparison:
    """A variant against the control on one metric: the difference, its 95% interval and the p-value."""

    control: float
    variant: float
    difference: float
    low: float | None  # the difference's 95% interval; None when there is nothing to compare yet
    high: float | None
    p_value: float

    @property
    def lift(self) -> float | None:
        """Relative to the control, e.g. 0.12 for +12%."""
        return self.difference / self.control if self.control else None

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


def compare_rates(control: np.ndarray, variant: np.ndarray) -> Comparison:
    """Two proportions (0/1 per visitor): the Agresti-Caffo test and interval for the difference (a Wald test on
    counts plus one success and one failure per arm: well behaved at low rates and small samples)."""
    count_c, nobs_c = int(control.sum()), len(control)
    count_v, nobs_v = int(variant.sum()), len(variant)
    rate_c = count_c / nobs_c if nobs_c else 0.0
    rate_v = count_v / nobs_v if nobs_v else 0.0
    if min(nobs_c, nobs_v) == 0 or count_c + count_v in (0, nobs_c + nobs_v):
        return Comparison(rate_c, rate_v, rate_v - rate_c, None, None, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # statsmodels also computes ratios, of a zero rate too
        test = test_proportions_2indep(count_v, nobs_v, count_c, nobs_c, method="agresti-caffo", compare="diff")
        low, high = confint_proportions_2indep(
            count_v, nobs_v, count_c, nobs_c, method="agresti-caffo", compare="diff", alpha=ALPHA
        )
    return Comparison(rate_c, rate_v, rate_v - rate_c, float(low), float(high), float(test.pvalue))


def compare_means(control: np.ndarray, variant: np.ndarray) -> Comparison:
    """Two means (revenue per visitor): Welch's t-test and its interval for the difference."""
    mean_c = float(control.mean()) if len(control) else 0.0
    mean_v = float(variant.mean()) if len(variant) else 0.0
    if min(len(control), len(variant)) < 2 or (control.var() == 0 and variant.var() == 0):
        return Comparison(mean_c, mean_v, mean_v - mean_c, None, None, 1.0)
    test = stats.ttest_ind(variant, control, equal_var=False)
    interval = test.confidence_interval(1 - ALPHA)
    return Comparison(mean_c, mean_v, mean_v - mean_c, float(interval.low), float(interval.high), float(test.pvalue))


def compare(metric_is_rate: bool, control: np.ndarray, variant: np.ndarray) -> Comparison:
    return compare_rates(control, variant) if metric_is_rate else compare_means(control, variant)


@dataclass(frozen=True)
class SampleRatio:
    p_value: float

    @property
    def mismatch(self) -> bool:
        return self.p_value < SRM_ALPHA


def sample_ratio(observed: list[int], weights: list[int]) -> SampleRatio:
    """Chi-square of the exposed visitors per variant against the traffic shares."""
    total = sum(observed)
    if total == 0:
        return SampleRatio(1.0)
    expected = [total * weight / sum(weights) for weight in weights]
    return SampleRatio(float(stats.chisquare(observed, expected).pvalue))


def visitors_needed(metric_is_rate: bool, control: np.ndarray, lift: float) -> int | None:
    """Visitors per variant to detect a relative ``lift`` over the control's level with 80% power at 5%; None
    while the control has nothing to go on (no successes, or no spread in revenue)."""
    if len(control) < 2:
        return None
    baseline = float(control.mean())
    if metric_is_rate:
        if not 0 < baseline < 1 or baseline * (1 + lift) >= 1:
            return None
        effect = abs(proportion_effectsize(baseline * (1 + lift), baseline))
        needed = NormalIndPower().solve_power(effect_size=effect, alpha=ALPHA, power=POWER, ratio=1.0)
    else:
        spread = float(control.std(ddof=1))
        if spread == 0 or baseline == 0:
            return None
        needed = TTestIndPower().solve_power(effect_size=abs(baseline * lift) / spread, alpha=ALPHA, power=POWER)
    return math.ceil(needed)
