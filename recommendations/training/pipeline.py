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

from recommendations.backbones import TunedSpec, get_spec, load_backbone
from recommendations.perturbations import training_view
from recommendations.photos import query_image
from recommendations.training import features
from recommendations.training.catalogue import ATTRIBUTES, Catalogue
from recommendations.training.features import Features
from recommendations.training.head import CatalogueHead, HeadConfig, SavedHead
from recommendations.training.metrics import neighbours, precision_at_k, recall_at_k
from recommendations.training.photo_queries import PhotoQueries, photo_queries
from recommendations.training.splits import Split, duplicate_groups, split_by_group, split_path
from recommendations.training.train import TrainingOptions, train_head
from recommendations.training.trunk import Tail, cut_trunk, pooled

logger = logging.getLogger(__name__)

# The labels the figures report P@10 for.
REPORTED_ATTRIBUTES = ("article_type", "base_colour", "gender", "usage")
K = 10
RECALL_AT = (1, 5)
EMBED_CHUNK = 1024


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
        reserved_ids=_photo_ids(setup.photo_dir),
    )
    held_out = np.isin(catalogue.ids, split.held_out_ids)
    train = np.flatnonzero(~held_out)
    say(f"Split: {len(train)} products to train on, {held_out.sum()} held out with every copy of their pictures.")
    views = [_views(cache, catalogue, train, view, setup.options.seed) for view in range(setup.views)]
    queries = photo_queries(catalogue, held_out, setup.photo_dir, seed=setup.options.seed)
    photos = cache.get(
        f"queries-v{features.VIEWS_VERSION}-s{setup.options.seed}",
        catalogue.ids[queries.positions],
        [f"{photo}:{name}" for photo, name in zip(queries.photos, queries.perturbations, strict=True)],
        lambda index: queries.image(catalogue, index),
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
        photo_source=queries.source,
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


def evaluate(
    vectors: np.ndarray,
    photo_vectors: np.ndarray,
    catalogue: Catalogue,
    groups: np.ndarray,
    held_out: np.ndarray,
    queries: PhotoQueries,
) -> Figures:
    """Held-out queries only. P@10 among held-out products and among every product, leaving out the query's
    own duplicate group; photo recall against the whole catalogue (as the shop searches) and against
    held-out products only."""
    held = np.flatnonzero(held_out)
    found = neighbours(vectors[held], vectors[held], K, query_groups=groups[held], gallery_groups=groups[held])
    precision = {
        name: precision_at_k(found, catalogue.labels[name][held], catalogue.labels[name][held])
        for name in REPORTED_ATTRIBUTES
    }
    found = neighbours(vectors[held], vectors, K, query_groups=groups[held], gallery_groups=groups)
    precision_catalogue = {
        name: precision_at_k(found, catalogue.labels[name][held], catalogue.labels[name])
        for name in REPORTED_ATTRIBUTES
    }
    answers = [catalogue.shas[position] for position in queries.positions]
    shas = np.array(catalogue.shas)
    recall = recall_at_k(photo_vectors, answers, vectors, catalogue.shas, RECALL_AT)
    recall_held_out = recall_at_k(photo_vectors, answers, vectors[held], list(shas[held]), RECALL_AT)
    top = shas[neighbours(photo_vectors, vectors, 1)[:, 0]] == np.array(answers)
    perturbations = np.array(queries.perturbations)
    by_perturbation = {name: float(top[perturbations == name].mean()) for name in dict.fromkeys(perturbations)}
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


def _photo_ids(photo_dir: Path | None) -> frozenset[int]:
    if not photo_dir or not photo_dir.is_dir():
        return frozenset()
    return frozenset(int(path.stem) for path in photo_dir.glob("*.jpg") if path.stem.isdigit())
