"""Export a loaded backbone to the files serving reads: ``<model>.onnx`` and its manifest ``<model>.json``."""

import contextlib
import logging
from pathlib import Path

import torch

from recommendations.embedding.manifest import (
    ModelFilesError,
    ModelManifest,
    manifest_path,
    replacing,
    sha256,
)
from recommendations.embedding.onnx_model import OnnxModel

from .backbones import Backbone

logger = logging.getLogger(__name__)


def export_model(backbone: Backbone, directory: Path) -> Path:
    """Write the model and then its manifest (so that a reader never finds a manifest without its model);
    returns the manifest's path. Concurrent exports each write files of their own and rename them."""
    size = backbone.preprocessor.size
    example = torch.zeros((2, size, size, 3), dtype=torch.uint8)
    logger.info("Exporting %s to %s", backbone.version, directory)
    onnx_path = directory / f"{backbone.name}.onnx"
    with replacing(onnx_path) as temporary, torch.no_grad():
        torch.onnx.export(
            backbone.module,
            (example,),
            str(temporary),
            input_names=["pixels"],
            output_names=["features"],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            external_data=False,
            verbose=False,
        )
    manifest = ModelManifest(
        model=backbone.name,
        version=backbone.version,
        dimensions=backbone.dim,
        input_size=size,
        preprocessing=backbone.preprocessor.version,
        normalisation=backbone.normalisation,
        onnx_file=onnx_path.name,
        onnx_sha256=sha256(onnx_path),
    )
    path = manifest_path(directory, backbone.name)
    manifest.write(path)
    return path


def exported(backbone: Backbone, directory: Path) -> Path:
    """The manifest of ``backbone`` in ``directory``, exported first unless that very version is there."""
    path = manifest_path(directory, backbone.name)
    if path.is_file():
        with contextlib.suppress(ModelFilesError):  # a damaged or stale export is written again
            if ModelManifest.read(path).version == backbone.version:
                return path
    return export_model(backbone, directory)


def onnx_model(backbone: Backbone, cache_dir: Path) -> OnnxModel:
    """``backbone`` (any module, e.g. a trunk's front) run by ONNX Runtime, exported once per version."""
    path = exported(backbone, cache_dir / backbone.version)
    return OnnxModel(ModelManifest.read(path).onnx_path(path))
