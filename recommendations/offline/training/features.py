"""What the frozen front of the trunk makes of catalogue images and of photo-like views of them, computed once
and cached.

Training then reads arrays from disk instead of running the whole trunk: minutes instead of hours.
"""

import hashlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from recommendations.embedding.onnx_model import cpu_threads
from recommendations.offline.backbones import Backbone
from recommendations.offline.export import onnx_model
from recommendations.offline.training.head import thumbnails

# Bump when the views change (training_view, photo reduction): cached view features then no longer apply.
VIEWS_VERSION = 3
# Of the cached held-out photo queries: bump when their pixels change.
QUERIES_VERSION = 4

Run = Callable[[np.ndarray], np.ndarray]
"""uint8 pixels ``(N, size, size, 3)`` -> the front's activations ``(N, C, H, W)``."""


@dataclass(frozen=True)
class Features:
    maps: np.ndarray  # (N, C, H, W) float16: the front's activations, the tail's input
    thumbnails: np.ndarray  # (N, 3, side, side) float32, what the head reads colours and layout from

    def __len__(self) -> int:
        return len(self.maps)

    def take(self, positions: np.ndarray) -> "Features":
        return Features(self.maps[positions], self.thumbnails[positions])


def trunk_runner(backbone: Backbone, *, device: str, onnx_dir: Path) -> Run:
    """ONNX Runtime on CPU (the fastest there), the PyTorch module on a GPU. ``backbone``: the trunk's front."""
    if device == "cpu":
        return onnx_model(backbone, onnx_dir)
    module = backbone.module.to(device)

    def run(pixels: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(pixels).to(device)).float().cpu().numpy()

    return run


def extract(
    load: Callable[[int], Image.Image],
    count: int,
    *,
    backbone: Backbone,
    run: Run,
    batch_size: int = 64,
    description: str = "Features",
    progress: bool = True,
) -> Features:
    """Features of the ``count`` images ``load(0)``..., decoded in threads while the trunk runs."""
    map_rows, thumbnail_rows = [], []
    with tqdm(total=count, desc=description, unit=" img", disable=not progress) as bar:
        for pixels in _pixel_batches(load, count, backbone, batch_size):
            map_rows.append(run(pixels).astype(np.float16))
            with torch.inference_mode():
                thumbnail_rows.append(thumbnails(torch.from_numpy(pixels)).numpy())
            bar.update(len(pixels))
    return Features(np.concatenate(map_rows), np.concatenate(thumbnail_rows))


def _pixel_batches(
    load: Callable[[int], Image.Image], count: int, backbone: Backbone, batch_size: int
) -> Iterator[np.ndarray]:
    def decode(start: int) -> np.ndarray:
        return np.stack([backbone.preprocessor(load(i)) for i in range(start, min(start + batch_size, count))])

    threads = cpu_threads()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="views") as pool:
        pending: deque[Future[np.ndarray]] = deque()
        for start in range(0, count, batch_size):
            pending.append(pool.submit(decode, start))
            if len(pending) > threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


@dataclass(frozen=True)
class FeatureCache:
    """One front's features of sets of images, computed once and kept as files in ``folder``."""

    folder: Path
    backbone: Backbone
    run: Run
    batch_size: int = 64
    progress: bool = True
    say: Callable[[str], None] = print

    def get(self, what: str, ids: np.ndarray, keys: list[str], load: Callable[[int], Image.Image]) -> Features:
        """The features of ``load(0)``... for the images of products ``ids``; ``keys`` (e.g. the images'
        sha256) and ``what`` (e.g. which views) tell sets of images apart."""
        path = self.folder / self._file_name(what, ids, keys)
        if path.is_file():
            self.say(f"Reusing the {what} features cached in {path}.")
            with np.load(path) as stored:
                return Features(stored["maps"], stored["thumbnails"])
        features = extract(
            load,
            len(ids),
            backbone=self.backbone,
            run=self.run,
            batch_size=self.batch_size,
            description=what,
            progress=self.progress,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npz")
        np.savez(temporary, maps=features.maps, thumbnails=features.thumbnails)
        temporary.replace(path)
        return features

    def _file_name(self, what: str, ids: np.ndarray, keys: list[str]) -> str:
        digest = hashlib.sha256(ids.astype(np.int64).tobytes() + "".join(keys).encode()).hexdigest()[:12]
        return f"{self.backbone.version}-{what}-{digest}.npz"
