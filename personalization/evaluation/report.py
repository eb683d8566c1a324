"""The evaluation as ``README.md``, ``results.json`` and PNG charts in one folder (``reports/personalization/``)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

from . import plots
from .metrics import RANKING_METRICS
from .runner import HEADLINE, PLANTED_K
from .split import SESSION_GAP_SECONDS

METRIC_LABELS = {
    "precision": "P",
    "recall": "R",
    "f1": "F1",
    "map": "MAP",
    "ndcg": "nDCG",
    "hit_rate": "hit rate",
}
CHARTS = {
    "map_at_10.png": "MAP@10 per algorithm, mean ± std over the seeds",
    "precision_recall.png": "Precision and recall at 5, 10 and 20",
    "planted_preference.png": "Planted preference recovered",
}


def write_report(results: dict, out: Path) -> str:
    """Write the files and return the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(_rounded(results), indent=2, ensure_ascii=False) + "\n")
    summary = {name: values for name, values in results["summary"].items() if values["seeds"]}
    charts: list[str] = []
    if summary:
        plots.headline_chart(summary, HEADLINE, out / "map_at_10.png")
        plots.precision_recall_chart(summary, list(results["config"]["ks"]), out / "precision_recall.png")
        charts += ["map_at_10.png", "precision_recall.png"]
        if any(f"planted_share@{PLANTED_K}" in values for values in summary.values()):
            plots.planted_chart(summary, out / "planted_preference.png")
            charts.append("planted_preference.png")
    markdown = render_markdown(results, charts)
    (out / "README.md").write_text(markdown)
    return markdown


def render_markdown(results: dict, charts: list[str]) -> str:
    config, summary = results["config"], results["summary"]
    names = list(config["algorithms"])
    seeds = ", ".join(str(seed) for seed in config["seeds"])
    lines = [
        "# Personal recommendations: offline evaluation",
        "",
        "**The data is simulated.** No real shopper's history exists for this catalogue: every event below comes "
        "from the shopper simulator (`personalization/simulation/simulator.py`), run in memory with "
        f"{config['shoppers']:,} shoppers over {config['weeks']} weeks, seeds {seeds}, and a planted preference "
        f"(a share {config['plant_share']:g} of the shoppers prefer {_attributes(config['plant_attributes'])}). "
        "The numbers say how the algorithms rank one another on that simulation, not what a real shop would see.",
        "",
        f"Generated {results['generated_at']} by `python manage.py evaluate_personalization` in "
        f"{results['seconds']:.0f} s on {results['catalogue_products']:,} catalogue products; "
        f"{_machine(results['machine'])}.",
        "",
        "## Goals (issue 17)",
        "",
        *[f"- {'✓' if goal['passed'] else '✗'} {goal['goal']}: {goal['detail']}" for goal in results["goals"]],
        "",
        *_errors(results["errors"]),
        "## Summary",
        "",
        *summary_table(summary, names),
        "",
        "Mean ± standard deviation over the seeds. Fit: seconds to train on the training log; score: milliseconds "
        "per test shopper to score the whole catalogue. Coverage@10: the share of the catalogue in any test "
        "shopper's top 10; novelty@10: mean -log2 popularity share of the listed products (higher: less popular).",
        "",
        *_chart("map_at_10.png", charts),
        "## Every metric at 5, 10 and 20",
        "",
    ]
    for k in config["ks"]:
        lines += [f"### k = {k}", "", *k_table(summary, names, k), ""]
    lines += _chart("precision_recall.png", charts)
    lines += [
        "## Planted preference",
        "",
        f"For up to {config['planted_shoppers']:,} planted shoppers with a training history, the share of each "
        f"algorithm's top {PLANTED_K} (their training products left out) that has the planted attributes, against "
        "the catalogue's share of such products (what a random list shows). Lift = share / base rate.",
        "",
        *planted_table(summary, names),
        "",
        *_chart("planted_preference.png", charts),
        "## Rank stability",
        "",
        f"Each algorithm's place by {HEADLINE.upper()} in each seed (1 is best).",
        "",
        *rank_table(results["ranks"], config["seeds"], summary),
        "",
        _stability(results["ranks"]),
        "",
        f"S.e.: the standard error of {HEADLINE.upper()} over one seed's test shoppers (mean over the seeds); "
        "algorithms closer than about twice that can swap places by chance.",
        "",
        "## Data per seed",
        "",
        *data_table(results["seeds"]),
        "",
        "## The simulator's parameters",
        "",
        "`SimulationConfig` as the evaluation ran it: the simulator's defaults, fixed before any algorithm was "
        "scored (docs/simulation.md), but for the number of shoppers and weeks and a fixed end. The planted "
        "preference is `plant`.",
        "",
        *parameter_table(results.get("simulation", {})),
        "",
        "## Method",
        "",
        f"- **Split**: per shopper, by time. A session ends after {SESSION_GAP_SECONDS // 60:.0f} minutes without "
        f"an event. A test shopper has at least {config['min_train_events']} events before their last session "
        "and touches at least one new product in it; that session is held out, and its products that the shopper "
        "had not touched before (any kind of event) are the relevant set. Everything else, every other shopper's "
        f"whole history included, is the training log. At most {config['test_shoppers'] or 'all'} test "
        "shoppers per seed, a seeded sample.",
        "- **Ranking**: every algorithm scores the whole catalogue for each test shopper from the training log (no "
        "sampled negatives); the shopper's training products are left out of their ranking, as they are out of "
        "the relevant set. Equal scores rank the lower product code first; `-inf` places are empty and miss.",
        "- **Metrics**: per test shopper, then averaged. P@k = hits/k; R@k = hits/|relevant|; F1 per shopper; "
        "AP@k sums the precision at each hit within k over min(k, |relevant|); nDCG@k with gain 1/log2(rank+1) "
        "over the ideal of min(k, |relevant|) hits; hit rate: any hit within k. Novelty's popularity share is "
        "each product's add-one smoothed share of the training events.",
        "- **Seeds**: each seed simulates a new history; algorithms that take a seed get the same one. "
        "Standard deviations are over the seeds (n - 1).",
        "",
    ]
    if charts:
        lines += ["Files: `results.json` (every number, per seed), " + ", ".join(f"`{c}`" for c in charts) + "."]
    return "\n".join(lines).rstrip() + "\n"


def summary_table(summary: dict[str, dict], names: list[str]) -> list[str]:
    lines = [
        "| algorithm | MAP@10 | P@10 | R@10 | nDCG@10 | fit (s) | score (ms/shopper) | coverage@10 | novelty@10 "
        f"| planted share@{PLANTED_K} (lift) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in names:
        values = summary[name]
        if not values["seeds"]:
            lines.append(f"| {name} | failed in every seed | | | | | | | | |")
            continue
        planted = (
            f"{_pm(values[f'planted_share@{PLANTED_K}'])} ({values['planted_lift']['mean']:.1f}x)"
            if f"planted_share@{PLANTED_K}" in values
            else "-"
        )
        cells = [
            _pm(values["map@10"]),
            _pm(values["precision@10"]),
            _pm(values["recall@10"]),
            _pm(values["ndcg@10"]),
            _pm(values["fit_seconds"], 1),
            _pm(values["score_ms_per_shopper"], 2),
            _pm(values["coverage@10"]),
            _pm(values["novelty@10"], 2),
            planted,
        ]
        lines.append(f"| {name}{_failures(values)} | " + " | ".join(cells) + " |")
    return lines


def k_table(summary: dict[str, dict], names: list[str], k: int) -> list[str]:
    header = [f"{METRIC_LABELS[metric]}@{k}" for metric in RANKING_METRICS] + [f"coverage@{k}", f"novelty@{k}"]
    lines = ["| algorithm | " + " | ".join(header) + " |", "|" + " --- |" * (len(header) + 1)]
    for name in names:
        values = summary[name]
        if not values["seeds"]:
            continue
        cells = [_pm(values[f"{metric}@{k}"]) for metric in RANKING_METRICS]
        cells += [_pm(values[f"coverage@{k}"]), _pm(values[f"novelty@{k}"], 2)]
        lines.append(f"| {name}{_failures(values)} | " + " | ".join(cells) + " |")
    return lines


def planted_table(summary: dict[str, dict], names: list[str]) -> list[str]:
    lines = [
        f"| algorithm | planted shoppers | share of top {PLANTED_K} | base rate | lift |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in names:
        values = summary[name]
        if f"planted_share@{PLANTED_K}" not in values:
            continue
        lines.append(
            f"| {name} | {values['planted_shoppers']['mean']:,.0f} | {_pm(values[f'planted_share@{PLANTED_K}'])} "
            f"| {values['planted_base_rate']['mean']:.4f} | {_pm(values['planted_lift'], 1)} |"
        )
    return lines


def rank_table(ranks: dict[str, list], seeds: list[int], summary: dict[str, dict]) -> list[str]:
    lines = [
        "| algorithm | " + " | ".join(f"seed {seed}" for seed in seeds) + " | mean place | s.e. |",
        "|" + " --- |" * (len(seeds) + 3),
    ]
    for name, places in ranks.items():
        ranked = [place for place in places if place is not None]
        mean = f"{sum(ranked) / len(ranked):.1f}" if ranked else "-"
        error = summary.get(name, {}).get(f"stderr_{HEADLINE}")
        cells = ["failed" if place is None else str(place) for place in places]
        cells += [mean, f"{error['mean']:.4f}" if error else "-"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def data_table(seeds: dict[str, dict]) -> list[str]:
    lines = [
        "| seed | events | shoppers | days | simulated in (s) | training events | held-out events | test shoppers "
        "| relevant per test shopper | planted shoppers | planted products |",
        "|" + " --- |" * 11,
    ]
    for seed, result in seeds.items():
        data = result["data"]
        lines.append(
            f"| {seed} | {data['events']:,} | {data['shoppers']:,} | {data['days']:.0f} "
            f"| {data['simulation_seconds']:.1f} | {data['train_events']:,} | {data['held_out_events']:,} "
            f"| {data['test_shoppers']:,} | {data['relevant_per_test_shopper']:.1f} | {data['planted_shoppers']:,} "
            f"| {data['planted_products']:,} |"
        )
    return lines


def parameter_table(parameters: dict) -> list[str]:
    lines = ["| parameter | value |", "| --- | --- |"]
    for name, value in parameters.items():
        shown = datetime.fromtimestamp(value, UTC).isoformat() if name == "end" and value is not None else value
        lines.append(f"| `{name}` | {_plain(shown)} |")
    return lines


def _plain(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_plain(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        # A sequence of pairs (a gender and its share) reads "Men 0.48, Women 0.44".
        return ", ".join(
            " ".join(map(_plain, item)) if isinstance(item, list | tuple) else _plain(item) for item in value
        )
    return str(value)


def _stability(ranks: dict[str, list]) -> str:
    orders = {tuple(places[i] for places in ranks.values()) for i in range(len(next(iter(ranks.values()), [])))}
    if len(orders) <= 1:
        return "The order is the same in every seed."
    moved = [name for name, places in ranks.items() if len(set(places)) > 1]
    return f"The order changes between seeds for: {', '.join(moved)}."


def _chart(name: str, charts: list[str]) -> list[str]:
    return [f"![{CHARTS[name]}]({name})", ""] if name in charts else []


def _errors(errors: list[str]) -> list[str]:
    if not errors:
        return []
    return [
        "## Errors",
        "",
        "These runs failed; their algorithms' numbers are missing or partial.",
        "",
        *[f"- {error}" for error in errors],
        "",
    ]


def _failures(values: dict) -> str:
    return f" (failed in {values['errors']} seeds)" if values["errors"] else ""


def _pm(value: dict[str, float], digits: int = 4) -> str:
    return f"{value['mean']:.{digits}f} ± {value['std']:.{digits}f}"


def _attributes(attributes: dict[str, str]) -> str:
    return " and ".join(f"{name} = {value}" for name, value in attributes.items()) or "nothing"


def _machine(machine: dict) -> str:
    return f"{machine['cpu']}, {machine['cores']} cores available, Python {machine['python']}, numpy {machine['numpy']}"


def _rounded(value):
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 6)
    if isinstance(value, dict):
        return {str(key): _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value
