"""Latency summaries."""

import numpy as np


def latency_summary(seconds: list[float]) -> dict[str, float]:
    """Median and 95th percentile, in milliseconds."""
    milliseconds = np.array(seconds) * 1000
    return {"median_ms": float(np.median(milliseconds)), "p95_ms": float(np.percentile(milliseconds, 95))}
