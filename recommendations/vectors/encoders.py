"""The configured image models, loaded from their exported files once per process."""

import functools
from pathlib import Path

from django.conf import settings

from recommendations.embedding.encoder import ImageEncoder
from recommendations.embedding.manifest import EXPORT_ADVICE, ModelFilesError, find_manifest

# The default model's files ship with the code, so that a fresh clone serves it offline and without torch.
SHIPPED_MODELS_DIR = Path(__file__).resolve().parent.parent / "weights"


def model_dirs() -> list[Path]:
    """Where models are looked up: the shop's own exports (``EMBEDDING_MODELS_DIR``) first, then those shipped."""
    return [Path(settings.EMBEDDING_MODELS_DIR), SHIPPED_MODELS_DIR]


@functools.cache
def get_encoder(model: str) -> ImageEncoder:
    """The encoder for ``model``; raises ``ModelFilesError`` saying how to export it when it is not here."""
    path = find_manifest(model, model_dirs())
    if path is None:
        folders = " or ".join(str(folder) for folder in model_dirs())
        raise ModelFilesError(f"No exported model named {model!r} in {folders}. {EXPORT_ADVICE}")
    return ImageEncoder.from_manifest(path, threads=settings.EMBEDDING_THREADS)
