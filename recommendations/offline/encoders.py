"""Registered models as serving runs them: exported to ONNX, then loaded through ``get_encoder``."""

from pathlib import Path

from django.conf import settings

from recommendations.embedding.encoder import ImageEncoder
from recommendations.embedding.manifest import ModelFilesError, ModelManifest, find_manifest
from recommendations.vectors.encoders import get_encoder, model_dirs

from .backbones import DEFAULT_INPUT_SIZE, load_backbone
from .export import export_model


def serving_encoder(name: str, *, input_size: int = DEFAULT_INPUT_SIZE, download: bool = True) -> ImageEncoder:
    """The encoder serving loads for ``name``, exported to ``EMBEDDING_MODELS_DIR`` first unless an export of these
    very weights is found. Raises ``WeightsError`` (with instructions) when the weights are not here."""
    backbone = load_backbone(name, weights_dir=settings.EMBEDDING_WEIGHTS_DIR, download=download, input_size=input_size)
    path = find_manifest(name, model_dirs())
    try:
        current = path is not None and ModelManifest.read(path).version == backbone.version
    except ModelFilesError:
        current = False
    if not current:
        export_model(backbone, Path(settings.EMBEDDING_MODELS_DIR))
        get_encoder.cache_clear()
    return get_encoder(name)
