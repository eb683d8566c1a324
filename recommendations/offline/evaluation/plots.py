"""The report's charts, as small PNGs (matplotlib's ``Figure`` renders with Agg, without pyplot's global state)."""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from recommendations.offline.catalogue import ATTRIBUTES
from recommendations.offline.perturbations import PERTURBATIONS

from .photo_recall import RECALL_KS

DPI = 80


def precision_chart(models: dict[str, dict], k: int, path: Path) -> None:
    """Leave-one-out precision@k per attribute, one bar per model."""
    series = {name: [model["leave_one_out"][a][f"precision@{k}"] for a in ATTRIBUTES] for name, model in models.items()}
    figure = _grouped_bars(
        list(ATTRIBUTES.values()), series, ylabel=f"precision@{k}", title="Same attribute, leave-one-out"
    )
    figure.savefig(path, dpi=DPI)


def photo_recall_chart(models: dict[str, dict], path: Path) -> None:
    """Recall@1 and @10 of search by photo per perturbation, one bar per model."""
    figure = Figure(figsize=(10, 6), layout="constrained")
    axes = figure.subplots(2, 1, sharex=True)
    for ax, k in zip(axes, (RECALL_KS[0], RECALL_KS[-1]), strict=True):
        series = {
            name: [model["photo_search"][p][f"recall@{k}"] for p in PERTURBATIONS] for name, model in models.items()
        }
        _bars(ax, list(PERTURBATIONS), series, ylabel=f"recall@{k}")
    axes[0].set_title("Search by photo: the photographed product found")
    axes[-1].tick_params(axis="x", labelrotation=20)
    figure.savefig(path, dpi=DPI)


def metadata_ranking_chart(models: dict[str, dict], k: int, path: Path) -> None:
    """Precision@k of the product page's similar items, metadata ranking off and on, per model."""
    figure = Figure(figsize=(8, 3.2 * len(models)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(models), 1, squeeze=False)[:, 0])
    for ax, (name, model) in zip(axes, models.items(), strict=True):
        ranking = model["metadata_ranking"]
        series = {
            f"ranking {setting}": [ranking[setting][f"precision@{k}"].get(a, np.nan) for a in ATTRIBUTES]
            for setting in ("off", "on")
        }
        _bars(ax, list(ATTRIBUTES.values()), series, ylabel=f"precision@{k}")
        ax.set_title(f"{name}: similar items on the product page")
    figure.savefig(path, dpi=DPI)


def perturbation_examples(images: dict[str, Image.Image], path: Path) -> None:
    """One photo under each perturbation."""
    figure = Figure(figsize=(1.6 * len(images), 2.4), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(images)))
    for ax, (name, image) in zip(axes, images.items(), strict=True):
        ax.imshow(np.asarray(image))
        ax.set_title(name, fontsize=8)
        ax.axis("off")
    figure.savefig(path, dpi=DPI)


def _grouped_bars(labels: list[str], series: dict[str, list[float]], *, ylabel: str, title: str) -> Figure:
    figure = Figure(figsize=(9, 4), layout="constrained")
    ax = figure.subplots()
    _bars(ax, labels, series, ylabel=ylabel)
    ax.set_title(title)
    return figure


def _bars(ax, labels: list[str], series: dict[str, list[float]], *, ylabel: str) -> None:
    width = 0.8 / max(len(series), 1)
    positions = np.arange(len(labels))
    for index, (name, values) in enumerate(series.items()):
        bars = ax.bar(positions + (index - (len(series) - 1) / 2) * width, values, width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(positions, labels)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
