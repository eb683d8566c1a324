"""Train a catalogue-tuned model end to end: features, split, head, held-out figures, files."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from recommendations.offline import metrics
from recommendations.offline.backbones import TunedSpec, get_spec, load_backbone
from recommendations.offline.catalogue import ATTRIBUTES, Catalogue
from recommendations.offline.exact_search import nearest
from recommendations.offline.perturbations import training_view
from recommendations.offline.photo_queries import PhotoQuery, find_photos, photo_queries, stand_in_queries
from recommendations.offline.training import features
from recommendations.offline.training.features import Features
from recommendations.offline.training.head import CatalogueHead, HeadConfig, SavedHead
from recommendations.offline.training.splits import Split, duplicate_groups, split_by_group, split_path
from recommendations.offline.training.train import TrainingOptions, train_head
from recommendations.offline.training.trunk import Tail, cut_trunk, pooled
from recommendations.photo_search.photos import query_image

logger = logging.getLogger(__name__)

# The labels the figures report P@10 for.
REPORTED_ATTRIBUTES = ("article_type", "base_colour", "gender", "usage")
K = 10
RECALL_AT = (1, 5)
EMBED_CHUNK = 1024
# Held-out catalogue images that stand in for photos when no full-size photo shows a held-out product.
STAND_INS = 200


@dataclass(frozen=True)
class TrainingSetup:
    model: str  # a TunedSpec in BACKBONES
    out_dir: Path  # where the head and its split are written
    feature_dir: Path  # the cache of trunk features
    onnx_dir: Path  # the trunk's ONNX export, for feature extraction on CPU
    weights_dir: Path | None  # the trunk's weights, as for serving
    input_size: int
    photo_dir: Path | None  # full-size photos <product id>.jpg: held out, never trained on
    views: int = 2
    # The trunk's last blocks trained with the head (with its final convolution); 0 leaves the trunk frozen.
    tuned_blocks: int = 1
    held_out_fraction: float = 0.2
    duplicate_distance: float = 0.01
    head: HeadConfig = field(default_factory=HeadConfig)
    options: TrainingOptions = field(default_factory=TrainingOptions)
    batch_size: int = 64


@dataclass(frozen=True)
class Figures:
    precision: dict[str, float]  # attribute -> P@10 of held-out queries among held-out products
    precision_catalogue: dict[str, float]  # the same among every product, trained-on ones included
    recall: dict[int, float]  # k -> share of perturbed photos whose product is in the top k, whole catalogue
    recall_held_out: dict[int, float]  # the same among held-out products only
    recall_by_perturbation: dict[str, float]  # recall@1 per perturbation, whole catalogue


@dataclass(frozen=True)
class TrainingReport:
    weights_file: Path
    split_file: Path
    version: str
    split: Split
    photo_source: str
    tuned: Figures
    trunk: Figures  # the trunk's own features, the same queries and gallery
    seconds: dict[str, float]


def train_embedding_model(
    setup: TrainingSetup, catalogue: Catalogue, *, progress: bool = True, say: Callable[[str], None] = logger.info
) -> TrainingReport:
    spec = get_spec(setup.model)
    if not isinstance(spec, TunedSpec):
        raise ValueError(f"{setup.model} is not a catalogue-tuned model: it has nothing to train.")
    seconds: dict[str, float] = {}
    started = time.monotonic()
    trunk = load_backbone(spec.trunk, weights_dir=setup.weights_dir, input_size=setup.input_size)
    # Frozen or not, the last block is computed from the cache: one cache serves both kinds of training.
    tail_blocks = max(setup.tuned_blocks, 1)
    cut = cut_trunk(trunk, tail_blocks)
    run = features.trunk_runner(cut.front, device=setup.options.device, onnx_dir=setup.onnx_dir)
    cache = features.FeatureCache(setup.feature_dir, cut.front, run, setup.batch_size, progress, say)

    clean = cache.get("clean", catalogue.ids, catalogue.shas, catalogue.image)
    clean_trunk = _unit(pooled(cut.tail, clean.maps))
    groups = duplicate_groups(catalogue.shas, clean_trunk, max_distance=setup.duplicate_distance)
    split = split_by_group(
        catalogue.ids,
        groups,
        held_out_fraction=setup.held_out_fraction,
        seed=setup.options.seed,
        duplicate_distance=setup.duplicate_distance,
        reserved_ids=frozenset(_photos(setup.photo_dir)),
    )
    held_out = np.isin(catalogue.ids, split.held_out_ids)
    train = np.flatnonzero(~held_out)
    say(f"Split: {len(train)} products to train on, {held_out.sum()} held out with every copy of their pictures.")
    views = [_views(cache, catalogue, train, view, setup.options.seed) for view in range(setup.views)]
    photo_source, queries = held_out_photo_queries(catalogue, held_out, setup.photo_dir, seed=setup.options.seed)
    photos = cache.get(
        f"queries-v{features.QUERIES_VERSION}-s{setup.options.seed}",
        np.array([query.product_id for query in queries], dtype=np.int64),
        [f"{query.product_id}:{query.perturbation}" for query in queries],
        lambda index: queries[index].whole(),
    )
    seconds["features"] = time.monotonic() - started

    started = time.monotonic()
    labels = {name: catalogue.labels[name][train] for name in ATTRIBUTES}
    tune_tail = setup.tuned_blocks > 0
    trained = train_head(
        setup.head,
        clean.take(train),
        views,
        labels,
        setup.options,
        tail=cut.tail,
        tune_tail=tune_tail,
        progress=progress,
    )
    weights_file = setup.out_dir / spec.file_name
    SavedHead(
        setup.head,
        trained.head.state_dict(),
        trunk.version,
        setup.input_size,
        trunk_state_dict=trained.tail.network_state_dict() if tune_tail else {},
    ).save(weights_file)
    split.save(split_path(weights_file))
    served = load_backbone(setup.model, weights_dir=setup.out_dir)  # evaluate exactly what serving will load
    head = served.module.head
    tail = cut_trunk(replace(trunk, module=served.module.trunk), tail_blocks).tail
    seconds["training"] = time.monotonic() - started

    started = time.monotonic()
    tuned = evaluate(_embed(head, tail, clean), _embed(head, tail, photos), catalogue, groups, held_out, queries)
    photos_trunk = _unit(pooled(cut.tail, photos.maps))
    baseline = evaluate(clean_trunk, photos_trunk, catalogue, groups, held_out, queries)
    seconds["evaluation"] = time.monotonic() - started

    return TrainingReport(
        weights_file=weights_file,
        split_file=split_path(weights_file),
        version=served.version,
        split=split,
        photo_source=photo_source,
        tuned=tuned,
        trunk=baseline,
        seconds=seconds,
    )


def _views(cache: features.FeatureCache, catalogue: Catalogue, train: np.ndarray, view: int, seed: int) -> Features:
    """One photo-like view of each training product, reduced to the catalogue's detail as the search
    reduces a shopper's photo."""
    ids = catalogue.ids[train]

    def load(index: int) -> Image.Image:
        rng = np.random.default_rng([seed, view, int(ids[index])])
        return query_image(training_view(catalogue.image(int(train[index])), rng))

    keys = [catalogue.shas[position] for position in train]
    return cache.get(f"view{view}-v{features.VIEWS_VERSION}-s{seed}", ids, keys, load)


def held_out_photo_queries(
    catalogue: Catalogue, held_out: np.ndarray, photo_dir: Path | None, *, seed: int
) -> tuple[str, list[PhotoQuery]]:
    """Every perturbation of each full-size photo of a held-out product, else of ``STAND_INS`` held-out catalogue
    images scaled up; and what they are, said with the figures."""
    held = set(catalogue.ids[held_out].tolist())
    photos = {product_id: path for product_id, path in _photos(photo_dir).items() if product_id in held}
    if photos:
        return f"{len(photos)} full-size photos of held-out products", photo_queries(photos, seed=seed)
    candidates = np.flatnonzero(held_out)
    chosen = np.random.default_rng(seed).choice(candidates, size=min(STAND_INS, len(candidates)), replace=False)
    source = f"{len(chosen)} held-out catalogue images scaled up (no full-size photo of a held-out product)"
    return source, stand_in_queries(catalogue, chosen, seed=seed)


def evaluate(
    vectors: np.ndarray,
    photo_vectors: np.ndarray,
    catalogue: Catalogue,
    groups: np.ndarray,
    held_out: np.ndarray,
    queries: list[PhotoQuery],
) -> Figures:
    """Held-out queries only. P@10 among held-out products and among every product, leaving out the query's
    own duplicate group; photo recall (of the product or a byte-identical copy) against the whole catalogue,
    as the shop searches, and against held-out products only."""
    held = np.flatnonzero(held_out)
    labels = catalogue.labels
    found = nearest(vectors[held], vectors[held], K, groups=groups[held], query_groups=groups[held])
    precision = {
        name: metrics.label_precision(found, labels[name][held], labels[name][held], K) for name in REPORTED_ATTRIBUTES
    }
    found = nearest(vectors, vectors[held], K, groups=groups, query_groups=groups[held])
    precision_catalogue = {
        name: metrics.label_precision(found, labels[name][held], labels[name], K) for name in REPORTED_ATTRIBUTES
    }
    wanted = catalogue.groups[catalogue.rows([query.product_id for query in queries])]
    hits = catalogue.groups[nearest(vectors, photo_vectors, max(RECALL_AT))] == wanted[:, np.newaxis]
    hits_held_out = catalogue.groups[held][nearest(vectors[held], photo_vectors, max(RECALL_AT))] == wanted[:, None]
    recall = {k: float(metrics.hit_at_k(hits, k).mean()) for k in RECALL_AT}
    recall_held_out = {k: float(metrics.hit_at_k(hits_held_out, k).mean()) for k in RECALL_AT}
    perturbations = np.array([query.perturbation for query in queries])
    by_perturbation = {name: float(hits[perturbations == name, 0].mean()) for name in dict.fromkeys(perturbations)}
    return Figures(precision, precision_catalogue, recall, recall_held_out, by_perturbation)


def _embed(head: CatalogueHead, tail: Tail, cached: Features) -> np.ndarray:
    trunk = pooled(tail, cached.maps, chunk=EMBED_CHUNK)
    with torch.inference_mode():
        return np.concatenate(
            [
                head(
                    torch.from_numpy(trunk[start : start + EMBED_CHUNK]),
                    torch.from_numpy(cached.thumbnails[start : start + EMBED_CHUNK]),
                ).numpy()
                for start in range(0, len(cached), EMBED_CHUNK)
            ]
        )


def _unit(vectors: np.ndarray) -> np.ndarray:
    return F.normalize(torch.from_numpy(vectors), dim=1).numpy()


def _photos(photo_dir: Path | None) -> dict[int, Path]:
    return find_photos([photo_dir]) if photo_dir and photo_dir.is_dir() else {}
