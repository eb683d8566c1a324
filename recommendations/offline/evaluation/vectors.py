"""Each model's vectors of the whole catalogue: read from its embedding space, or computed here and cached."""

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.core.files.storage import default_storage
from tqdm import tqdm

from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors.index import from_vector_bytes, vector_bytes
from recommendations.vectors.selectors import products_with_image
from recommendations.vectors.services import chunked

from .embedders import Embedder

# Images read and embedded at a time when a model's vectors are computed here.
COMPUTE_CHUNK = 1024


@dataclass(frozen=True)
class ModelVectors:
    model: str
    version: str
    ids: np.ndarray
    """Sorted product ids."""
    vectors: np.ndarray
    """``(len(ids), dim)`` float32 unit vectors, row for row with ``ids``."""
    space: EmbeddingSpace | None
    """The complete space they were read from, which the site answers similar items with; None when computed here."""

    @property
    def source(self) -> str:
        return f"embedding space {self.space.pk}" if self.space else "computed for this evaluation"


def catalogue_vectors(model: str, embedder: Embedder, *, cache_dir: Path | None, progress: bool) -> ModelVectors:
    """From the model's complete embedding space at this very version when there is one, else computed."""
    space = EmbeddingSpace.objects.filter(version=embedder.version, state=EmbeddingSpace.State.COMPLETE).first()
    if space is not None:
        return database_vectors(model, space)
    return computed_vectors(model, embedder, cache_dir=cache_dir, progress=progress)


def database_vectors(model: str, space: EmbeddingSpace) -> ModelVectors:
    rows = (
        ProductEmbedding.objects.filter(space=space, status=ProductEmbedding.Status.OK)
        .annotate(data=vector_bytes())
        .order_by("product_id")
        .values_list("product_id", "data")
    )
    ids, vectors = [], []
    for product_id, data in rows.iterator(chunk_size=2000):
        ids.append(product_id)
        vectors.append(from_vector_bytes(data))
    return ModelVectors(
        model=model,
        version=space.version,
        ids=np.array(ids, dtype=np.int64),
        vectors=np.stack(vectors) if vectors else np.empty((0, space.dimensions), dtype=np.float32),
        space=space,
    )


def computed_vectors(model: str, embedder: Embedder, *, cache_dir: Path | None, progress: bool) -> ModelVectors:
    """Every catalogue image embedded with ``embedder``.

    With ``cache_dir``, vectors are kept in ``<cache_dir>/<version>.npz`` by image checksum, so a later
    run only embeds the images it has not seen (a smaller or changed catalogue reuses the same file).
    """
    products = list(products_with_image().order_by("pk").values_list("pk", "image", "image_sha256"))
    path = cache_dir / f"{embedder.version}.npz" if cache_dir else None
    cached = _read_cache(path) if path else {}
    missing = list({sha: name for _, name, sha in products if sha not in cached}.items())
    if missing:
        with tqdm(total=len(missing), desc=f"Embedding with {model}", unit=" img", disable=not progress) as bar:
            for chunk in chunked(missing, COMPUTE_CHUNK):
                images = [_read(name) for _, name in chunk]
                result = embedder.encode(images)
                for index, (sha, _) in enumerate(chunk):
                    if index not in result.errors:
                        cached[sha] = result.vectors[index]
                bar.update(len(chunk))
        if path:
            _write_cache(path, cached)
    embedded = [(pk, sha) for pk, _, sha in products if sha in cached]
    dim = len(next(iter(cached.values()))) if cached else 0
    return ModelVectors(
        model=model,
        version=embedder.version,
        ids=np.array([pk for pk, _ in embedded], dtype=np.int64),
        vectors=np.stack([cached[sha] for _, sha in embedded]) if embedded else np.empty((0, dim), np.float32),
        space=None,
    )


def _read(name: str) -> bytes:
    # An unreadable file becomes bytes that fail to decode: the product is left out like a broken image.
    try:
        with default_storage.open(name) as handle:
            return handle.read()
    except OSError:
        return b""


def _read_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    with np.load(path) as data:
        return dict(zip(data["sha256"].tolist(), data["vectors"], strict=True))


def _write_cache(path: Path, vectors: dict[str, np.ndarray]) -> None:
    """Written to a temporary file and renamed, so that an interrupted run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp.npz")
    try:
        np.savez(temporary, sha256=np.array(list(vectors)), vectors=np.stack(list(vectors.values())))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
