"""Image embeddings: photos in, L2-normalised float32 vectors out, one bad photo never failing the rest."""

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .manifest import ModelManifest
from .onnx_model import OnnxModel, cpu_threads
from .preprocessing import ImageDecodeError, ImageSource, Preprocessor


class Runtime(Protocol):
    """uint8 pixels ``(N, size, size, 3)`` -> float32 pooled features ``(N, dim)``."""

    name: str

    def __call__(self, pixels: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class EncodeResult:
    vectors: np.ndarray
    """``(N, dim)`` float32, unit length; the rows of failed items are NaN (pgvector refuses to store NaN)."""
    errors: dict[int, str]
    """Index of each item that could not be decoded -> the reason."""

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the items that have a vector."""
        mask = np.ones(len(self.vectors), dtype=bool)
        mask[list(self.errors)] = False
        return mask


@dataclass(frozen=True)
class _DecodedBatch:
    start: int
    pixels: np.ndarray  # (n_ok, size, size, 3) uint8
    indices: list[int]  # positions in the batch of the rows of pixels
    errors: dict[int, str]


class ImageEncoder:
    """Loaded once per process (it holds the model), then called for any number of images.

    The next batches are decoded in background threads while the runtime works on the current
    one (Pillow and the runtimes release the GIL): full-size photos take as long to decode as to embed.
    """

    def __init__(
        self,
        *,
        version: str,
        dim: int,
        preprocessor: Preprocessor,
        runtime: Runtime,
        decode_threads: int | None = None,
    ) -> None:
        self.version = version
        """Store it with every vector: vectors of different versions are not comparable."""
        self.dim = dim
        self.preprocessor = preprocessor
        self.runtime = runtime
        self.decode_threads = decode_threads or cpu_threads()

    @classmethod
    def from_manifest(cls, manifest_path: Path, *, threads: int | None = None) -> "ImageEncoder":
        """The exported model a manifest describes; raises ``ModelFilesError`` saying what to do."""
        manifest = ModelManifest.read(manifest_path)
        return cls(
            version=manifest.version,
            dim=manifest.dimensions,
            preprocessor=manifest.preprocessor,
            runtime=OnnxModel(manifest.onnx_path(manifest_path), threads=threads),
        )

    def encode(self, sources: Sequence[ImageSource], batch_size: int = 32) -> EncodeResult:
        vectors = np.full((len(sources), self.dim), np.nan, dtype=np.float32)
        errors: dict[int, str] = {}
        for batch in self._decoded_batches(sources, batch_size):
            errors.update({batch.start + index: reason for index, reason in batch.errors.items()})
            if batch.indices:
                features = self.runtime(batch.pixels)
                vectors[[batch.start + index for index in batch.indices]] = _l2_normalise(features)
        return EncodeResult(vectors=vectors, errors=errors)

    def encode_one(self, source: ImageSource) -> np.ndarray:
        """One ``(dim,)`` vector, e.g. for a search-by-photo upload; raises ``ImageDecodeError``."""
        pixels = self.preprocessor(source)
        return _l2_normalise(self.runtime(pixels[np.newaxis]))[0]

    def _decoded_batches(self, sources: Sequence[ImageSource], batch_size: int) -> Iterator[_DecodedBatch]:
        """Batches in order, the next ones decoded in the background while the caller runs this one."""
        with ThreadPoolExecutor(max_workers=self.decode_threads, thread_name_prefix="decode") as pool:
            pending: deque[Future[_DecodedBatch]] = deque()
            for start in range(0, len(sources), batch_size):
                pending.append(pool.submit(self._decode, sources, start, batch_size))
                if len(pending) > self.decode_threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def _decode(self, sources: Sequence[ImageSource], start: int, batch_size: int) -> _DecodedBatch:
        arrays, indices, errors = [], [], {}
        for index, source in enumerate(sources[start : start + batch_size]):
            try:
                arrays.append(self.preprocessor(source))
                indices.append(index)
            except ImageDecodeError as error:
                errors[index] = str(error)
        size = self.preprocessor.size
        pixels = np.stack(arrays) if arrays else np.empty((0, size, size, 3), dtype=np.uint8)
        return _DecodedBatch(start=start, pixels=pixels, indices=indices, errors=errors)


def _l2_normalise(features: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return (features / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
