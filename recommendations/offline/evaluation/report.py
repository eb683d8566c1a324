"""The evaluation as ``evaluation.json``, ``evaluation.md`` and PNG charts in one folder."""

import json
import math
from pathlib import Path

from django.conf import settings
from PIL import Image

from recommendations.offline.catalogue import ATTRIBUTES
from recommendations.offline.perturbations import PERTURBATIONS, perturb
from recommendations.offline.photo_queries import PHOTO_NAME
from recommendations.photo_search.photos import open_photo

from . import plots
from .photo_recall import RECALL_KS

EXAMPLE_HEIGHT = 200  # pixels of each perturbed photo in perturbations.png


def write_report(results: dict, out: Path) -> str:
    """Write the files and return the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(_rounded(results), indent=2) + "\n")
    evaluated = {name: model for name, model in results["models"].items() if model["status"] == "ok"}
    k = results["options"]["k"][0]
    charts = []
    if evaluated:
        plots.precision_chart(evaluated, k, out / "precision_by_attribute.png")
        charts.append(("Leave-one-out precision", "precision_by_attribute.png"))
    with_ranking = {name: model for name, model in evaluated.items() if model["metadata_ranking"]}
    if with_ranking:
        plots.metadata_ranking_chart(with_ranking, k, out / "metadata_ranking.png")
        charts.append(("Metadata ranking", "metadata_ranking.png"))
    with_photos = {name: model for name, model in evaluated.items() if model["photo_search"]}
    if with_photos:
        plots.photo_recall_chart(with_photos, out / "photo_recall.png")
        charts.append(("Search by photo", "photo_recall.png"))
    if example_photo := results["options"]["example_photo"]:
        plots.perturbation_examples(
            _examples(Path(settings.BASE_DIR, example_photo), results["options"]["seed"]), out / "perturbations.png"
        )
        charts.append(("The perturbations, on one photo", "perturbations.png"))
    markdown = render_markdown(results, charts)
    (out / "evaluation.md").write_text(markdown)
    return markdown


def render_markdown(results: dict, charts: list[tuple[str, str]]) -> str:
    options, models = results["options"], results["models"]
    k = options["k"][0]
    lines = [
        "# Recommendation quality",
        "",
        f"Generated {results['generated_at']} by `python manage.py evaluate_recommendations` "
        f"in {results['seconds']:.0f} s, "
        f"on {results['catalogue_products']:,} catalogue products with an image: leave-one-out with "
        f"{options['queries']:,} queries sampled from {options['queries_from']} (seed {options['seed']}), "
        f"the site's own search path with "
        f"{options['serving_queries']:,} of them, search by photo with {options['photos']} full-size photos "
        f"under {len(PERTURBATIONS)} perturbations.",
        "",
        "## Summary",
        "",
        *summary_table(models, k),
        "",
        *_unavailable(models),
        "## Leave-one-out retrieval",
        "",
        "Each query product is compared with every other catalogue product by exact cosine similarity of the "
        "model's vectors; the query itself and the products with a byte-identical image (trivial hits) are never "
        "retrieved. A retrieved product is relevant when it shares the attribute's value; queries without a "
        "value are left out of that attribute. Recall@k is over every relevant product in the catalogue, hence "
        "small. AP@k sums the precision at each relevant rank within k and divides by min(k, relevant products); "
        "nDCG@k uses gain 1/log2(rank + 1) over the same ideal.",
        "",
    ]
    for name, model in _evaluated(models):
        lines += [f"### {name}", "", f"`{model['version']}`, {model['dimensions']}-d, {model['vectors']}.", ""]
        lines += leave_one_out_table(model["leave_one_out"], options["k"])
        lines += ["", *confusion_lines(model["leave_one_out"], k)]
    lines += [
        "## Index and latency",
        "",
        f"`nearest()`, the HNSW query the product page runs (with its scope), against exact top-{k} over the same "
        "vectors; latencies of `nearest()` and of the whole `similar_products()` call, on this machine.",
        "",
        *index_table(models, k),
        "",
        "## Image-plus-metadata ranking",
        "",
        f"Precision@{k} of `similar_products()` (duplicates collapsed, as shoppers see them) with "
        "`metadata_ranking` off and on; the boosted attributes overlap the measured ones by design.",
        "",
        *metadata_table(models, k),
        "## Search by photo",
        "",
        f"{options['photos']} full-size photos named `<product id>.jpg`{_left_out(options)}, decoded and reduced "
        "like a shopper's upload (`open_photo`, `query_images`), each as it is and spoilt: a centred crop of 75% "
        "of each side, the same crop anywhere, a rotation by 5-10 degrees on white, a Gaussian blur of 1.5% of the "
        "longer side, JPEG re-compression at quality 10, and the product cut out and pasted at 60-80% size onto a "
        f"busy scene. Each photo is searched as search by photo does it: {_query_variants(options)}, each product "
        "ranked by its best match. A hit is the product itself or one with its "
        "byte-identical image, by exact search.",
        "",
        *photo_table(models),
        "",
    ]
    for title, file_name in charts:
        lines += [f"![{title}]({file_name})", ""]
    return "\n".join(lines)


def summary_table(models: dict[str, dict], k: int) -> list[str]:
    attributes = [f"{label} P@{k}" for label in ATTRIBUTES.values()]
    header = ["model", *attributes, f"index recall@{k}", "photo R@1", "photo R@10, spoilt (mean)"]
    rows = []
    for name, model in _evaluated(models):
        loo, photos = model["leave_one_out"], model["photo_search"]
        spoilt = [values[f"recall@{RECALL_KS[-1]}"] for p, values in photos.items() if p != "original"]
        rows.append(
            [
                name,
                *(_number(loo[a][f"precision@{k}"]) for a in ATTRIBUTES),
                _number(model["index"][f"recall@{k}"]) if model["index"] else "no index built",
                _number(photos["original"]["recall@1"]) if photos else "-",
                _number(sum(spoilt) / len(spoilt)) if spoilt else "-",
            ]
        )
    return _table(header, rows)


def leave_one_out_table(results: dict[str, dict], ks: list[int]) -> list[str]:
    header = ["attribute", "queries"] + [f"{m}@{k}" for k in ks for m in ("P", "R", "mAP", "nDCG")]
    rows = [
        [label, f"{results[a]['queries']:,}"]
        + [_number(results[a][f"{m}@{k}"]) for k in ks for m in ("precision", "recall", "map", "ndcg")]
        for a, label in ATTRIBUTES.items()
    ]
    return _table(header, rows)


def confusion_lines(results: dict[str, dict], k: int) -> list[str]:
    """The value pairs each attribute confuses most, with the precision each costs (older reports lack them)."""
    lines = []
    for attribute, label in ATTRIBUTES.items():
        confused = results[attribute].get("confused")
        if confused:
            pairs = ", ".join(f"{' / '.join(pair['values'])} {pair['share']:.3f}" for pair in confused)
            lines.append(f"- {label}: {pairs}")
    if not lines:
        return []
    return [
        f"Most confused values: the share of the first {k} retrieved products (the P@{k} it costs).",
        "",
        *lines,
        "",
    ]


def index_table(models: dict[str, dict], k: int) -> list[str]:
    header = [
        "model",
        "queries",
        f"recall@{k}",
        "nearest() median / p95 ms",
        "similar_products() median / p95 ms, ranking off",
        "ranking on",
    ]
    rows = []
    for name, model in _evaluated(models):
        index, ranking = model["index"], model["metadata_ranking"]
        if not index:
            rows.append([name, "no index built", "", "", "", ""])
            continue
        rows.append(
            [
                name,
                f"{index['queries']:,}",
                _number(index[f"recall@{k}"]),
                _milliseconds(index),
                _milliseconds(ranking["off"]),
                _milliseconds(ranking["on"]),
            ]
        )
    return _table(header, rows)


def metadata_table(models: dict[str, dict], k: int) -> list[str]:
    lines = []
    for name, model in _evaluated(models):
        ranking = model["metadata_ranking"]
        if not ranking:
            continue
        weights = ", ".join(f"{field}={weight:g}" for field, weight in ranking["weights"].items())
        off, on = ranking["off"][f"precision@{k}"], ranking["on"][f"precision@{k}"]
        rows = [
            [label, _number(off.get(a)), _number(on.get(a)), _signed(on.get(a), off.get(a))]
            for a, label in ATTRIBUTES.items()
        ]
        lines += [f"{name}, {ranking['queries']:,} queries, weights {weights}:", ""]
        lines += [*_table(["attribute", f"P@{k} off", f"P@{k} on", "change"], rows), ""]
    return lines or ["No model has a complete embedding space to run the product page with.", ""]


def photo_table(models: dict[str, dict]) -> list[str]:
    evaluated = [(name, model) for name, model in _evaluated(models) if model["photo_search"]]
    if not evaluated:
        return ["No photos of catalogue products were given."]
    header = ["perturbation"] + [f"{name} R@{k}" for name, _ in evaluated for k in RECALL_KS]
    rows = [
        [perturbation]
        + [_number(model["photo_search"][perturbation][f"recall@{k}"]) for _, model in evaluated for k in RECALL_KS]
        for perturbation in PERTURBATIONS
    ]
    return _table(header, rows)


def _examples(path: Path, seed: int) -> dict[str, Image.Image]:
    """The photo under each perturbation, as the evaluation made it."""
    with path.open("rb") as upload:
        photo = open_photo(upload)
    examples = {}
    for name in PERTURBATIONS:
        image = perturb(photo, name, seed=seed, photo_id=int(PHOTO_NAME.match(path.name).group(1)))
        examples[name] = image.resize((round(image.width * EXAMPLE_HEIGHT / image.height), EXAMPLE_HEIGHT))
    return examples


def _rounded(value: object) -> object:
    """Four decimals are more than the sampling allows, and keep the committed file readable."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _query_variants(options: dict) -> str:
    """What search by photo searched besides the whole photo, in words (older reports lack the later options)."""
    variants = []
    if shares := options["photo_parts"]:
        variants.append(f"parts (boxes of {', '.join(f'{share:.0%}' for share in shares)} of each side)")
    if factors := options.get("photo_zoom_outs"):
        variants.append(f"zoomed out on white ({', '.join(f'{factor:g}x' for factor in factors)} its size)")
    if options.get("photo_sharpen"):
        variants.append("sharpened")
    if not variants:
        return "the whole photo alone"
    return f"whole, and {', '.join(variants)}, their distances plus {options['photo_part_handicap']:g}"


def _left_out(options: dict) -> str:
    skipped = options["photos_not_in_catalogue"]
    return f" ({skipped} more are of products not in this catalogue)" if skipped else ""


def _evaluated(models: dict[str, dict]) -> list[tuple[str, dict]]:
    return [(name, model) for name, model in models.items() if model["status"] == "ok"]


def _unavailable(models: dict[str, dict]) -> list[str]:
    lines = [f"- {name}: unavailable: {model['reason']}" for name, model in models.items() if model["status"] != "ok"]
    return [*lines, ""] if lines else []


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(" --- " for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _number(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"


def _signed(value: float | None, reference: float | None) -> str:
    return "-" if value is None or reference is None else f"{value - reference:+.3f}"


def _milliseconds(latency: dict[str, float]) -> str:
    return f"{latency['median_ms']:.1f} / {latency['p95_ms']:.1f}"
