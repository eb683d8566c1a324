"""Training the head, and the trunk's tail if asked, on cached features: labels shared by neighbours, and photos
that find their product."""

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from recommendations.offline.catalogue import MISSING
from recommendations.offline.training.features import Features
from recommendations.offline.training.head import CatalogueHead, HeadConfig, picture_features
from recommendations.offline.training.trunk import Tail, pooled

# How much each label counts; the article type and the colour are what shoppers compare first.
ATTRIBUTE_WEIGHTS = {"article_type": 1.0, "base_colour": 1.0, "gender": 0.5, "usage": 0.3, "sub_category": 0.5}


@dataclass(frozen=True)
class TrainingOptions:
    epochs: int = 10
    batch_size: int = 256
    learning_rate: float = 2e-3
    # The trunk's tail starts from ImageNet weights: it moves three times slower than the new head.
    tail_learning_rate: float = 6e-4
    weight_decay: float = 1e-4
    # Normalised-softmax classifiers: logits are this scale times a cosine.
    classifier_scale: float = 16.0
    # The views' InfoNCE term: a view must be nearer its own catalogue image than any other in the batch.
    instance_weight: float = 0.5
    temperature: float = 0.07
    attribute_weights: dict[str, float] = field(default_factory=lambda: dict(ATTRIBUTE_WEIGHTS))
    seed: int = 0
    device: str = "cpu"


class CosineClassifier(nn.Module):
    def __init__(self, dim: int, classes: int, scale: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, dim) * dim**-0.5)
        self.scale = scale

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.scale * F.normalize(embedding, dim=1) @ F.normalize(self.weight, dim=1).T


@dataclass(frozen=True)
class Trained:
    head: CatalogueHead
    tail: Tail  # trained, or as it was when the tail was not tuned


def train_head(
    config: HeadConfig,
    clean: Features,
    views: list[Features],
    labels: dict[str, np.ndarray],
    options: TrainingOptions,
    *,
    tail: Tail,
    tune_tail: bool = False,
    progress: bool = True,
) -> Trained:
    """Train on the clean features of the training products and on their views (``views[v]`` row ``i`` is a
    view of ``clean`` row ``i``), with the trunk's ``tail`` frozen or, with ``tune_tail``, trained too (a copy:
    ``tail`` itself is left alone). Returns both in eval mode, on the CPU."""
    torch.manual_seed(options.seed)
    generator = np.random.default_rng(options.seed)
    device = torch.device(options.device)
    head = CatalogueHead(config).to(device)
    # Batch norm keeps its ImageNet statistics (eval mode): the batches mix catalogue images with photo-like views.
    tail = copy.deepcopy(tail).to(device, memory_format=torch.channels_last).eval().requires_grad_(tune_tail)
    weights = {name: weight for name, weight in options.attribute_weights.items() if weight and name in labels}
    classifiers = nn.ModuleDict(
        {name: CosineClassifier(config.dim, int(labels[name].max()) + 1, options.classifier_scale) for name in weights}
    ).to(device)
    groups = [{"params": [*head.parameters(), *classifiers.parameters()], "lr": options.learning_rate}]
    if tune_tail:
        groups.append({"params": list(tail.parameters()), "lr": options.tail_learning_rate})
    optimiser = torch.optim.AdamW(groups, weight_decay=options.weight_decay)
    steps_per_epoch = math.ceil(len(clean) / options.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser,
        max_lr=[group["lr"] for group in groups],
        total_steps=options.epochs * steps_per_epoch,
        pct_start=0.1,
    )
    tensors = _to_device(clean, views, labels, weights, config, device, None if tune_tail else tail)
    trunk = _TrunkFeatures(tail if tune_tail else None, device)

    head.train()
    with tqdm(range(options.epochs), desc="Training", unit=" epoch", disable=not progress) as epochs:
        for _ in epochs:
            order = torch.from_numpy(generator.permutation(len(clean))).to(device)
            total = 0.0
            for start in range(0, len(order), options.batch_size):
                batch = order[start : start + options.batch_size]
                if len(batch) < 2:
                    continue
                loss = _loss(head, classifiers, trunk, tensors, batch, weights, options, generator)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                schedule.step()
                total += loss.item() * len(batch)
            epochs.set_postfix(loss=f"{total / len(order):.3f}")
    return Trained(head.cpu().eval(), tail.cpu().to(memory_format=torch.contiguous_format).requires_grad_(False))


@dataclass(frozen=True)
class _TrunkFeatures:
    """The cached rows -> the trunk's pooled features: rows already pooled by a frozen tail are only widened
    to float32; with a tail to train, the rows are its input activations and it runs on them."""

    tail: Tail | None
    device: torch.device

    def __call__(self, rows: torch.Tensor) -> torch.Tensor:
        if self.tail is None:
            return rows.float()
        # bfloat16 autocast: faster on CPUs with native bf16 (AVX-512 bf16, AMX) and on recent GPUs.
        with torch.autocast(self.device.type, dtype=torch.bfloat16):
            return self.tail(rows.float().contiguous(memory_format=torch.channels_last)).float()


@dataclass(frozen=True)
class _Tensors:
    # Half precision until a batch is taken: half the memory for the views of the whole catalogue.
    trunk: torch.Tensor  # (V + 1, N, ...): the clean rows, then each view's; pooled features or the tail's input
    picture: torch.Tensor  # (V + 1, N, picture features)
    labels: dict[str, torch.Tensor]


def _to_device(
    clean: Features,
    views: list[Features],
    labels: dict[str, np.ndarray],
    weights: dict[str, float],
    config: HeadConfig,
    device: torch.device,
    frozen_tail: Tail | None,
) -> _Tensors:
    """With a ``frozen_tail``, the rows are its pooled features, computed once; else the tail's input."""
    every = [clean, *views]
    rows = [f.maps if frozen_tail is None else pooled(frozen_tail, f.maps).astype(np.float16) for f in every]
    return _Tensors(
        trunk=torch.from_numpy(np.stack(rows)).to(device),
        picture=torch.stack([_picture(f.thumbnails, config, device) for f in every]),
        labels={name: torch.from_numpy(labels[name]).to(device) for name in weights},
    )


def _picture(thumbnails: np.ndarray, config: HeadConfig, device: torch.device, chunk: int = 1024) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat(
            [
                picture_features(torch.from_numpy(thumbnails[start : start + chunk]).to(device), config).half()
                for start in range(0, len(thumbnails), chunk)
            ]
        )


def _loss(
    head: CatalogueHead,
    classifiers: nn.ModuleDict,
    trunk_features: _TrunkFeatures,
    tensors: _Tensors,
    batch: torch.Tensor,
    weights: dict[str, float],
    options: TrainingOptions,
    generator: np.random.Generator,
) -> torch.Tensor:
    with_views = tensors.trunk.shape[0] > 1
    if with_views:
        # One random view per product, next to its clean image.
        which = torch.from_numpy(generator.integers(1, tensors.trunk.shape[0], size=len(batch))).to(batch.device)
        trunk = torch.cat([tensors.trunk[0, batch], tensors.trunk[which, batch]])
        picture = torch.cat([tensors.picture[0, batch], tensors.picture[which, batch]])
        rows = torch.cat([batch, batch])
    else:
        trunk, picture, rows = tensors.trunk[0, batch], tensors.picture[0, batch], batch
    output = head.embed(trunk_features(trunk), picture.float())
    semantic = output[:, : head.config.dim]
    loss = output.new_zeros(())
    for name, weight in weights.items():
        targets = tensors.labels[name][rows]
        known = targets != MISSING
        if known.any():
            loss = loss + weight * F.cross_entropy(classifiers[name](semantic[known]), targets[known])
    if with_views and options.instance_weight:
        clean, view = F.normalize(output, dim=1).chunk(2)
        similarities = view @ clean.T / options.temperature
        diagonal = torch.arange(len(batch), device=batch.device)
        instance = (F.cross_entropy(similarities, diagonal) + F.cross_entropy(similarities.T, diagonal)) / 2
        loss = loss + options.instance_weight * instance
    return loss
