"""The models compared: every registered image model whose weights are here, and a raw-pixel baseline."""

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from PIL import Image

from recommendations.embedding.encoder import EncodeResult
from recommendations.embedding.preprocessing import WHITE, ImageDecodeError, ImageSource, open_image, to_rgb_on_white
from recommendations.offline.backbones import BACKBONES, WeightsError
from recommendations.offline.encoders import serving_encoder

RAW_PIXELS = "raw_pixels"
# Width x height: the catalogue's 60x80 photos halved.
RAW_PIXELS_SIZE = (30, 40)


class Embedder(Protocol):
    """What the evaluation needs of a model; ``ImageEncoder`` is one."""

    @property
    def version(self) -> str: ...

    def encode(self, sources: Sequence[ImageSource], batch_size: int = 32) -> EncodeResult: ...

    def encode_one(self, source: ImageSource) -> np.ndarray: ...


class ModelUnavailable(Exception):
    """The model cannot run here; the message is the short reason the report gives."""


def model_names() -> list[str]:
    return [RAW_PIXELS, *BACKBONES]


def load_embedder(name: str) -> Embedder:
    """The model, loaded once per process; raises ``ModelUnavailable`` when its weights are not here."""
    if name == RAW_PIXELS:
        return RawPixelEncoder()
    try:
        # Without downloading, so that the evaluation never waits on a network it may not have.
        return serving_encoder(name, download=False)
    except WeightsError as error:
        raise ModelUnavailable(str(error).split(". ")[0]) from error


class RawPixelEncoder:
    """The photo itself as the embedding: RGB pixels at 30x40 on white, L2-normalised.

    What any learned model has to beat; it already finds products of the same shape and colour.
    """

    version = f"{RAW_PIXELS}-{RAW_PIXELS_SIZE[0]}x{RAW_PIXELS_SIZE[1]}"

    def encode(self, sources: Sequence[ImageSource], batch_size: int = 32) -> EncodeResult:
        width, height = RAW_PIXELS_SIZE
        vectors = np.full((len(sources), width * height * 3), np.nan, dtype=np.float32)
        errors: dict[int, str] = {}
        for index, source in enumerate(sources):
            try:
                vectors[index] = self.encode_one(source)
            except ImageDecodeError as error:
                errors[index] = str(error)
        return EncodeResult(vectors=vectors, errors=errors)

    def encode_one(self, source: ImageSource) -> np.ndarray:
        image = _fit_on_white(to_rgb_on_white(open_image(source)), RAW_PIXELS_SIZE)
        pixels = np.asarray(image, dtype=np.float32).ravel()
        return pixels / max(float(np.linalg.norm(pixels)), 1e-12)


def _fit_on_white(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Resize to fit ``size``, keeping the proportions, centred on white."""
    scale = min(size[0] / image.width, size[1] / image.height)
    resized = image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BILINEAR
    )
    canvas = Image.new("RGB", size, WHITE)
    canvas.paste(resized, ((size[0] - resized.width) // 2, (size[1] - resized.height) // 2))
    return canvas
