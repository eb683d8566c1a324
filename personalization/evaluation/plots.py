"""The report's charts, as small PNGs (matplotlib's ``Figure`` renders with Agg, without pyplot's global state).

The only module of ``personalization`` that imports matplotlib (pyproject.toml's import contract exempts it): only
``report`` imports it, and only the evaluation command imports ``report``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

DPI = 80


def headline_chart(summary: dict[str, dict], metric: str, path: Path) -> None:
    """One bar per algorithm: the metric's mean over the seeds, the error bar one standard deviation."""
    names = [name for name in summary if metric in summary[name]]
    means = [summary[name][metric]["mean"] for name in names]
    stds = [summary[name][metric]["std"] for name in names]
    figure = Figure(figsize=(max(5, 1.1 * len(names) + 2), 3.6), layout="constrained")
    ax = figure.subplots()
    bars = ax.bar(names, means, yerr=stds, capsize=4, color="tab:blue")
    ax.bar_label(bars, fmt="%.4f", fontsize=7, padding=2)
    ax.set_ylabel(f"{metric.upper()} (mean ± std over seeds)")
    ax.set_title(f"{metric.upper()} on held-out sessions")
    ax.tick_params(axis="x", labelrotation=20)
    figure.savefig(path, dpi=DPI)


def precision_recall_chart(summary: dict[str, dict], ks: list[int], path: Path) -> None:
    """Precision and recall at each cut-off, a group of bars per algorithm, with error bars over the seeds."""
    names = [name for name in summary if f"precision@{ks[0]}" in summary[name]]
    figure = Figure(figsize=(max(7, 1.3 * len(names) + 3), 6), layout="constrained")
    axes = figure.subplots(2, 1, sharex=True)
    positions = np.arange(len(names))
    width = 0.8 / len(ks)
    for ax, metric in zip(axes, ("precision", "recall"), strict=True):
        for index, k in enumerate(ks):
            key = f"{metric}@{k}"
            ax.bar(
                positions + (index - (len(ks) - 1) / 2) * width,
                [summary[name][key]["mean"] for name in names],
                width,
                yerr=[summary[name][key]["std"] for name in names],
                capsize=2,
                label=f"@{k}",
            )
        ax.set_ylabel(metric)
    axes[0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[0].set_title("Precision and recall at 5, 10 and 20")
    axes[-1].set_xticks(positions, names)
    axes[-1].tick_params(axis="x", labelrotation=20)
    figure.savefig(path, dpi=DPI)


def planted_chart(summary: dict[str, dict], path: Path) -> None:
    """The share of the planted shoppers' top 10 with the planted attributes, against the catalogue's share."""
    names = [name for name in summary if "planted_share@10" in summary[name]]
    figure = Figure(figsize=(max(5, 1.1 * len(names) + 2), 3.6), layout="constrained")
    ax = figure.subplots()
    bars = ax.bar(
        names,
        [summary[name]["planted_share@10"]["mean"] for name in names],
        yerr=[summary[name]["planted_share@10"]["std"] for name in names],
        capsize=4,
        color="tab:green",
    )
    ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
    base_rate = summary[names[0]]["planted_base_rate"]["mean"]
    ax.axhline(base_rate, color="black", linestyle="--", linewidth=1, label=f"catalogue base rate {base_rate:.4f}")
    ax.set_ylabel("share of top 10 (mean ± std)")
    ax.set_title("Planted preference: planted products in the planted shoppers' top 10")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelrotation=20)
    figure.savefig(path, dpi=DPI)
