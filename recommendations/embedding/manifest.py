"""What a served model is: its ONNX file, and what it takes to feed it and to tag its vectors."""

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from .preprocessing import Preprocessor

# Bump when the manifest's fields change.
MANIFEST_FORMAT = 1


class ModelFilesError(RuntimeError):
    """A model's exported files are missing, damaged or out of date; the message says what to do."""


@dataclass(frozen=True)
class Normalisation:
    """Per-channel ``(pixel / 255 - mean) / std``, as the model was trained with.

    The exported graph applies it itself (uint8 pixels go in); the manifest records it for the reader.
    """

    name: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


@dataclass(frozen=True)
class ModelManifest:
    model: str
    """The registered name, e.g. ``efficientnet_lite0_catalogue``."""
    version: str
    """Tags every vector: changes with the weights, the preprocessing and the input size."""
    dimensions: int
    input_size: int
    """The side of the square uint8 RGB input, ``(N, input_size, input_size, 3)``."""
    preprocessing: str
    """``Preprocessor.version`` at export: a change in preprocessing makes the export stale."""
    normalisation: Normalisation
    onnx_file: str
    """The model file's name, in the manifest's folder."""
    onnx_sha256: str
    format: int = MANIFEST_FORMAT

    @property
    def preprocessor(self) -> Preprocessor:
        return Preprocessor(self.input_size)

    def write(self, path: Path) -> None:
        with replacing(path) as temporary:
            temporary.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> "ModelManifest":
        """Raises ``ModelFilesError`` when the file is not a manifest this code can serve."""
        try:
            fields = json.loads(path.read_text())
            if fields.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"format {fields.get('format')!r}, not {MANIFEST_FORMAT}")
            fields["normalisation"] = Normalisation(
                name=fields["normalisation"]["name"],
                mean=tuple(fields["normalisation"]["mean"]),
                std=tuple(fields["normalisation"]["std"]),
            )
            manifest = cls(**fields)
        except (OSError, ValueError, KeyError, TypeError) as error:  # JSONDecodeError is a ValueError
            raise ModelFilesError(f"{path} is not a readable model manifest ({error}). {EXPORT_ADVICE}") from error
        if manifest.preprocessing != manifest.preprocessor.version:
            raise ModelFilesError(
                f"{path} was exported for preprocessing {manifest.preprocessing}; this code preprocesses "
                f"{manifest.preprocessor.version}. {EXPORT_ADVICE}"
            )
        return manifest

    def onnx_path(self, manifest_path: Path) -> Path:
        """The model file, checked against the checksum the export recorded."""
        path = manifest_path.parent / self.onnx_file
        if not path.is_file():
            raise ModelFilesError(f"{path}, named by {manifest_path}, is missing. {EXPORT_ADVICE}")
        if sha256(path) != self.onnx_sha256:
            raise ModelFilesError(f"{path} is not the file {manifest_path} was exported with. {EXPORT_ADVICE}")
        return path


EXPORT_ADVICE = (
    "Export the model again: install requirements-ml.txt and run `python manage.py export_embedding_model <model>`."
)


def manifest_path(directory: Path, model: str) -> Path:
    return directory / f"{model}.json"


def find_manifest(model: str, directories: list[Path]) -> Path | None:
    """The first folder's manifest of ``model``: a shop's own export comes before the one shipped."""
    return next((path for path in (manifest_path(d, model) for d in directories) if path.is_file()), None)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write, renamed to ``path`` when the block succeeds: readers never see half a file,
    and concurrent writers each write a file of their own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
