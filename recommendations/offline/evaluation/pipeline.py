"""One evaluation run: every selected model through every measurement, as a JSON-ready dict."""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone

from recommendations.offline.catalogue import load_catalogue
from recommendations.offline.photo_queries import find_photos, photo_queries
from recommendations.vectors.selectors import products_with_image

from .embedders import RAW_PIXELS, ModelUnavailable, load_embedder
from .held_out import WHOLE_CATALOGUE, query_pool
from .index_quality import evaluate_index
from .leave_one_out import evaluate_leave_one_out
from .metadata_ranking import evaluate_metadata_ranking
from .photo_recall import PreparedQuery, evaluate_photo_search, prepare
from .vectors import catalogue_vectors


@dataclass(frozen=True)
class EvaluationOptions:
    models: list[str]
    ks: list[int] = field(default_factory=lambda: [10])
    """The first is the one the summary, the index and the metadata ranking are measured at."""
    queries: int | None = 2000
    """How many products to sample as leave-one-out queries; None for all of them."""
    serving_queries: int = 300
    """How many of those also run the site's own search path (index recall, latency, metadata ranking)."""
    held_out_queries: bool = True
    """Sample the queries from the products the tuned models held out (``held_out.query_pool``)."""
    photo_folders: list[Path] = field(default_factory=list)
    cache_dir: Path | None = None
    """Where vectors computed here are kept between runs; None to keep none."""
    seed: int = 0
    progress: bool = False


def run_evaluation(options: EvaluationOptions) -> dict:
    started = time.monotonic()
    catalogue_ids = np.array(sorted(products_with_image().values_list("pk", flat=True)), dtype=np.int64)
    pool = query_pool(options.models) if options.held_out_queries else WHOLE_CATALOGUE
    queries = sample_queries(catalogue_ids, pool.ids, options)
    if not len(queries):
        raise ValueError(f"No queries: none of {pool.description} is in this catalogue.")
    photos = find_photos(options.photo_folders)
    known = set(catalogue_ids.tolist())
    in_catalogue = {product_id: path for product_id, path in photos.items() if product_id in known}
    queries_by_photo = prepare(photo_queries(in_catalogue, seed=options.seed), progress=options.progress)
    results = {
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "catalogue_products": len(catalogue_ids),
        "options": {
            "models": options.models,
            "k": options.ks,
            "queries": len(queries),
            "queries_from": pool.description,
            "serving_queries": min(options.serving_queries, len(queries)),
            "seed": options.seed,
            "photo_folders": [_shown(folder) for folder in options.photo_folders],
            "photos": len(in_catalogue),
            "photos_not_in_catalogue": len(photos) - len(in_catalogue),
            "photo_parts": settings.SEARCH_PHOTO_PARTS,
            "photo_zoom_outs": settings.SEARCH_PHOTO_ZOOM_OUTS,
            "photo_sharpen": settings.SEARCH_PHOTO_SHARPEN,
            "photo_part_handicap": settings.SEARCH_PHOTO_PART_HANDICAP,
            "example_photo": _shown(min(in_catalogue.items())[1]) if in_catalogue else None,
        },
        "models": {name: evaluate_model(name, queries, queries_by_photo, options) for name in options.models},
    }
    results["seconds"] = round(time.monotonic() - started, 1)
    return results


def _shown(path: Path) -> str:
    """Relative to the project, as the committed report should name it."""
    return os.path.relpath(path.resolve(), settings.BASE_DIR)


def sample_queries(catalogue_ids: np.ndarray, pool_ids: list[int] | None, options: EvaluationOptions) -> np.ndarray:
    """A seeded sample of ``pool_ids`` (all of ``catalogue_ids`` when None), in random order: its first
    ``serving_queries`` are the serving sample."""
    pool = catalogue_ids if pool_ids is None else np.intersect1d(catalogue_ids, pool_ids)
    shuffled = np.random.default_rng(options.seed).permutation(pool)
    return shuffled if options.queries is None else shuffled[: options.queries]


def evaluate_model(name: str, queries: np.ndarray, photos: list[PreparedQuery], options: EvaluationOptions) -> dict:
    started = time.monotonic()
    try:
        embedder = load_embedder(name)
    except ModelUnavailable as error:
        return {"status": "unavailable", "reason": str(error)}
    # Raw pixels are quicker to recompute than to read back (44k x 3,600 floats).
    cache_dir = None if name == RAW_PIXELS else options.cache_dir
    vectors = catalogue_vectors(name, embedder, cache_dir=cache_dir, progress=options.progress)
    catalogue = load_catalogue(vectors.ids)
    queries = queries[np.isin(queries, vectors.ids)]
    serving = queries[: options.serving_queries]
    k, progress = options.ks[0], options.progress
    result = {
        "status": "ok",
        "version": vectors.version,
        "vectors": vectors.source,
        "products": len(vectors.ids),
        "dimensions": int(vectors.vectors.shape[1]),
        "leave_one_out": evaluate_leave_one_out(vectors, catalogue, queries, options.ks, progress=progress),
        "index": None,
        "metadata_ranking": None,
        "photo_search": evaluate_photo_search(embedder, vectors, catalogue, photos, progress=progress),
    }
    if vectors.space is not None and len(serving):
        result["index"] = evaluate_index(vectors, catalogue, serving, k, progress=progress)
        result["metadata_ranking"] = evaluate_metadata_ranking(vectors.space, serving, k, progress=progress)
    result["seconds"] = round(time.monotonic() - started, 1)
    return result
