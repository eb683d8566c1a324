"""The evaluation loop: for each simulator seed, simulate a history in memory, split it, fit every algorithm on the
training log (timed), rank the whole catalogue for the test shoppers in chunks, and measure; then aggregate over
the seeds (mean ± std, each algorithm's rank per seed) and check the goals."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
from django.utils import timezone
from tqdm import tqdm

from ..algorithms.base import Algorithm
from ..catalogue import CatalogueArrays
from ..interactions import EventLog
from ..simulation.simulator import PlantedPreference, SimulationConfig, simulate
from . import algorithms as registry
from . import machine, metrics
from .goals import check_goals
from .split import MIN_TRAIN_EVENTS, SESSION_GAP_SECONDS, Split, interacted, split_last_session

HEADLINE = "map@10"
SIMULATION_END = datetime(2025, 12, 1, tzinfo=UTC).timestamp()
PLANTED_K = 10

Factory = Callable[[int], Algorithm]
Say = Callable[[str], None]


class History(Protocol):
    """What the simulator returns (``personalization.simulation.simulator.SimulatedHistory``)."""

    @property
    def log(self) -> EventLog: ...

    @property
    def planted_shoppers(self) -> np.ndarray: ...

    @property
    def planted_products(self) -> np.ndarray: ...


@dataclass(frozen=True)
class EvaluationConfig:
    seeds: tuple[int, ...] = (0, 1, 2)
    shoppers: int = 20_000
    weeks: int = 8
    plant_share: float = PlantedPreference().share
    plant_attributes: dict[str, str] = field(default_factory=lambda: dict(PlantedPreference().attributes))
    # The simulation ends at a fixed moment, so that a seed gives the same history (and season) on any day.
    end: float = SIMULATION_END
    algorithms: tuple[str, ...] = tuple(registry.ALGORITHMS)
    ks: tuple[int, ...] = metrics.KS
    test_shoppers: int | None = 2000  # a seeded sample of the shoppers who qualify; None: all of them
    planted_shoppers: int = 500  # planted shoppers checked for their preference, at most
    chunk_size: int = 256  # shoppers scored at once: chunk_size x products float32 scores
    session_gap_seconds: float = SESSION_GAP_SECONDS
    min_train_events: int = MIN_TRAIN_EVENTS


def simulation_config(config: EvaluationConfig) -> SimulationConfig:
    """The simulator's defaults (fixed before any algorithm was scored), but for the size of the history."""
    plant = PlantedPreference(share=config.plant_share, attributes=dict(config.plant_attributes))
    return SimulationConfig(shoppers=config.shoppers, weeks=config.weeks, end=config.end, plant=plant)


def run_evaluation(
    catalogue: CatalogueArrays,
    config: EvaluationConfig,
    *,
    factories: Mapping[str, Factory] | None = None,
    histories: Callable[[int], History] | None = None,
    say: Say = lambda message: None,
    progress: bool = False,
) -> dict:
    """Every seed's results, their aggregate, the ranks and the goals, as a JSON-ready dict."""
    factories = factories or {name: _registered(name) for name in config.algorithms}
    simulated_with = simulation_config(config)
    histories = histories or (lambda seed: simulate(catalogue, simulated_with, seed))
    started = time.perf_counter()
    seeds: dict[str, dict] = {}
    for done, seed in enumerate(config.seeds):
        seed_started = time.perf_counter()
        history = histories(seed)
        simulated = time.perf_counter() - seed_started
        split = split_last_session(
            history.log,
            gap_seconds=config.session_gap_seconds,
            min_train_events=config.min_train_events,
            max_test_shoppers=config.test_shoppers,
            seed=seed,
        )
        data = _data_summary(history, split, simulated)
        say(
            f"seed {seed}: {data['events']:,} events of {data['shoppers']:,} shoppers simulated in {simulated:.1f} s; "
            f"{data['test_shoppers']:,} test shoppers, {data['held_out_events']:,} events held out"
        )
        if not len(split.test_shoppers):
            raise ValueError(f"seed {seed}: no shopper has enough history to be tested; simulate more weeks.")
        rng = np.random.default_rng(seed)
        planted = _planted_shoppers(history, split.train, config.planted_shoppers, rng)
        results = {}
        for name, factory in factories.items():
            say(f"seed {seed} {name}: fitting")
            results[name] = evaluate_algorithm(
                name,
                factory(seed),
                split,
                catalogue,
                planted=(planted, np.asarray(history.planted_products)),
                ks=config.ks,
                chunk_size=config.chunk_size,
                label=f"seed {seed} {name}: ranking",
                progress=progress,
            )
            say(_one_line(name, results[name]))
        seeds[str(seed)] = {"data": data, "algorithms": results}
        elapsed = time.perf_counter() - started
        left = len(config.seeds) - done - 1
        say(f"seed {seed} done in {time.perf_counter() - seed_started:.0f} s; ETA {elapsed / (done + 1) * left:.0f} s")
    summary = aggregate(seeds, list(factories))
    ranks = rank_per_seed(seeds, list(factories))
    return {
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "seconds": time.perf_counter() - started,
        "catalogue_products": len(catalogue),
        "machine": machine.describe(),
        "config": asdict(config) | {"algorithms": list(factories)},
        "simulation": asdict(simulated_with),
        "seeds": seeds,
        "summary": summary,
        "ranks": ranks,
        "goals": check_goals(summary, list(factories)),
        "errors": [
            f"seed {seed}, {name}: {result['error']}"
            for seed, seed_results in seeds.items()
            for name, result in seed_results["algorithms"].items()
            if "error" in result
        ],
    }


def evaluate_algorithm(
    name: str,
    algorithm: Algorithm,
    split: Split,
    catalogue: CatalogueArrays,
    *,
    planted: tuple[np.ndarray, np.ndarray] | None = None,
    ks: Sequence[int] = metrics.KS,
    chunk_size: int = 256,
    label: str = "",
    progress: bool = False,
) -> dict:
    """Fit on the training log, rank for the test shoppers (and the planted ones), measure. A failure is recorded
    as ``{"error": ...}`` so that the other algorithms still run; the report and the command treat it as an error."""
    try:
        started = time.perf_counter()
        algorithm.fit(split.train, catalogue)
        fit_seconds = time.perf_counter() - started
        depth = max(ks)
        shoppers = split.test_shoppers
        planted_shoppers = planted[0] if planted is not None else np.zeros(0, dtype=np.int32)
        with tqdm(
            total=len(shoppers) + len(planted_shoppers), desc=label or name, unit=" shoppers", disable=not progress
        ) as bar:
            ranked, score_seconds = rank(algorithm, split.train, shoppers, depth, chunk_size, bar)
            planted_ranked = rank(algorithm, split.train, planted_shoppers, PLANTED_K, chunk_size, bar)[0]
    except Exception as error:  # an algorithm's failure is reported, never skipped
        return {"error": f"{type(error).__name__}: {error}"}
    hit = metrics.hits(ranked, split.relevant)
    values = metrics.ranking_metrics(hit, split.relevant_counts, ks)
    share = metrics.popularity_share(split.train.product, split.train.products)
    result = {
        "fit_seconds": fit_seconds,
        "score_ms_per_shopper": 1000 * score_seconds / len(shoppers),
        "metrics": {key: float(value.mean()) for key, value in values.items()},
        # The sampling error of the headline within the seed: places closer than this swap by chance.
        "stderr": {
            HEADLINE: float(values[HEADLINE].std(ddof=1) / np.sqrt(len(shoppers))) if len(shoppers) > 1 else 0.0
        },
        "coverage": {f"coverage@{k}": metrics.coverage(ranked, k, split.train.products) for k in ks},
        "novelty": {f"novelty@{k}": metrics.novelty(ranked, k, share) for k in ks},
    }
    if planted is not None:
        result["planted"] = planted_recovery(planted_ranked, planted[1], split.train.products)
    return result


def rank(
    algorithm: Algorithm,
    train: EventLog,
    shoppers: np.ndarray,
    depth: int,
    chunk_size: int,
    bar: tqdm | None = None,
) -> tuple[np.ndarray, float]:
    """The ``depth`` best products for each shopper over the whole catalogue, their training products left out
    (``-1`` pads a list the algorithm could not fill), and the seconds ``score`` took."""
    seen = interacted(train, shoppers)
    ranked = np.full((len(shoppers), depth), -1, dtype=np.int64)
    seconds = 0.0
    for start in range(0, len(shoppers), chunk_size):
        chunk = shoppers[start : start + chunk_size]
        started = time.perf_counter()
        scores = algorithm.score(train, chunk)
        seconds += time.perf_counter() - started
        if scores.shape != (len(chunk), train.products):
            raise ValueError(f"score returned shape {scores.shape}, not {(len(chunk), train.products)}")
        top = metrics.top_k(metrics.exclude(scores, seen[start : start + chunk_size]), depth)
        ranked[start : start + len(chunk), : top.shape[1]] = top
        if bar is not None:
            bar.update(len(chunk))
    return ranked, seconds


def planted_recovery(ranked: np.ndarray, planted_products: np.ndarray, products: int) -> dict:
    """The share of the planted shoppers' top-``PLANTED_K`` that has the planted attributes, against the share of
    the catalogue that has them (what a list drawn at random would show)."""
    is_planted = np.zeros(products + 1, dtype=bool)  # the last place stands for -1, an empty place
    is_planted[planted_products] = True
    share = float(is_planted[ranked].mean()) if ranked.size else float("nan")
    base_rate = len(np.unique(planted_products)) / products
    return {
        "shoppers": len(ranked),
        f"share@{PLANTED_K}": share,
        "base_rate": base_rate,
        "lift": share / base_rate if base_rate else float("nan"),
    }


def aggregate(seeds: Mapping[str, dict], names: Sequence[str]) -> dict[str, dict]:
    """Per algorithm, each number's mean and standard deviation over the seeds (n - 1; 0 with one seed), from the
    seeds where it ran; ``errors`` counts the seeds where it failed."""
    summary: dict[str, dict] = {}
    for name in names:
        runs = [seed["algorithms"][name] for seed in seeds.values()]
        ok = [run for run in runs if "error" not in run]
        numbers: dict[str, list[float]] = {}
        for run in ok:
            for key, value in _flatten(run).items():
                numbers.setdefault(key, []).append(value)
        summary[name] = {
            "seeds": len(ok),
            "errors": len(runs) - len(ok),
            **{key: _mean_std(values) for key, values in numbers.items()},
        }
    return summary


def rank_per_seed(seeds: Mapping[str, dict], names: Sequence[str], metric: str = HEADLINE) -> dict[str, list]:
    """Each algorithm's place by ``metric`` in each seed (1 is best; equal values share a place; None: failed)."""
    ranks: dict[str, list] = {name: [] for name in names}
    for seed in seeds.values():
        values = {
            name: seed["algorithms"][name]["metrics"][metric]
            for name in names
            if "error" not in seed["algorithms"][name]
        }
        for name in names:
            ranks[name].append(1 + sum(other > values[name] for other in values.values()) if name in values else None)
    return ranks


def _registered(name: str) -> Factory:
    registry.algorithm_class(name)  # fails now, before any simulation, if the algorithm is unavailable
    return lambda seed: registry.build(name, seed)


def _planted_shoppers(history: History, train: EventLog, limit: int, rng: np.random.Generator) -> np.ndarray:
    planted = np.unique(np.asarray(history.planted_shoppers, dtype=np.int64))
    with_history = planted[np.bincount(train.shopper, minlength=train.shoppers)[planted] > 0]
    if len(with_history) > limit:
        with_history = np.sort(rng.choice(with_history, limit, replace=False))
    return with_history.astype(np.int32)


def _data_summary(history: History, split: Split, simulated_seconds: float) -> dict:
    log = history.log
    return {
        "events": len(log),
        "shoppers": len(np.unique(log.shopper)),
        "products_touched": len(np.unique(log.product)),
        "days": float((log.timestamp.max() - log.timestamp.min()) / 86400) if len(log) else 0.0,
        "simulation_seconds": simulated_seconds,
        "train_events": len(split.train),
        "held_out_events": split.held_out_events,
        "test_shoppers": len(split.test_shoppers),
        "relevant_per_test_shopper": float(split.relevant_counts.mean()) if len(split.test_shoppers) else 0.0,
        "planted_shoppers": len(history.planted_shoppers),
        "planted_products": len(history.planted_products),
    }


def _flatten(run: dict) -> dict[str, float]:
    flat = {"fit_seconds": run["fit_seconds"], "score_ms_per_shopper": run["score_ms_per_shopper"]}
    for group in ("metrics", "coverage", "novelty"):
        flat |= run[group]
    flat |= {f"stderr_{key}": value for key, value in run["stderr"].items()}
    if "planted" in run:
        flat |= {f"planted_{key}": value for key, value in run["planted"].items()}
    return flat


def _mean_std(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=np.float64)
    return {"mean": float(array.mean()), "std": float(array.std(ddof=1)) if len(array) > 1 else 0.0}


def _one_line(name: str, result: dict) -> str:
    if "error" in result:
        return f"  {name}: FAILED: {result['error']}"
    return (
        f"  {name}: MAP@10 {result['metrics']['map@10']:.4f}, fit {result['fit_seconds']:.1f} s, "
        f"score {result['score_ms_per_shopper']:.1f} ms/shopper"
    )
