"""Turn catalogue photos of any kind into the input pixels of an image model.

Product shots are on white, so everything that is not picture (transparency,
the margins that make a portrait photo square) becomes white, never black.
"""

import io
import os
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

# Bump when the pixels given to the models change: embeddings are tagged with it.
PREPROCESSING_VERSION = 1

WHITE = (255, 255, 255)

ImageSource = str | os.PathLike[str] | bytes | BinaryIO | Image.Image
"""A path, the encoded bytes, an open binary file (e.g. an upload) or a Pillow image."""


class ImageDecodeError(ValueError):
    """The source is not an image Pillow can decode (missing, truncated, not an image...)."""


def open_image(source: ImageSource, *, min_size: int | None = None) -> Image.Image:
    """Decode ``source`` upright (EXIF orientation applied).

    With ``min_size``, JPEGs are decoded at the smallest 1/2, 1/4 or 1/8 scale that keeps
    both sides at least ``min_size`` pixels: a full-size photo decodes several times faster.
    """
    try:
        if isinstance(source, Image.Image):
            image = source
        else:
            image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
            if min_size:
                image.draft(None, (min_size, min_size))
            image.load()
        return ImageOps.exif_transpose(image)
    except Exception as error:  # Pillow's decoders raise OSError, SyntaxError, struct.error, ValueError...
        raise ImageDecodeError(f"cannot read image: {error}") from error


def to_rgb_on_white(image: Image.Image) -> Image.Image:
    """Any Pillow mode to RGB, with transparent pixels composited on white."""
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale: keep the high byte (Pillow's convert("L") would clip everything above 255).
        pixels = np.asarray(image, dtype=np.uint32) >> 8
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, WHITE)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image if image.mode == "RGB" else image.convert("RGB")


def fit_on_white_square(image: Image.Image, size: int) -> Image.Image:
    """Resize so the longer side is ``size`` and centre on a white ``size`` x ``size`` square."""
    width, height = image.size
    scale = size / max(width, height)
    resized = image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (size, size), WHITE)
    canvas.paste(resized, ((size - resized.width) // 2, (size - resized.height) // 2))
    return canvas


@dataclass(frozen=True)
class Preprocessor:
    """Decode, square on white and resize to a ``(size, size, 3)`` uint8 RGB array.

    Normalisation to the model's input statistics happens inside the model (see backbones.py):
    the runtimes fuse it into the first layer, where numpy spent as long on it as on decoding.
    """

    size: int

    @property
    def version(self) -> str:
        return f"p{PREPROCESSING_VERSION}-{self.size}px"

    def __call__(self, source: ImageSource) -> np.ndarray:
        image = to_rgb_on_white(open_image(source, min_size=self.size))
        return np.asarray(fit_on_white_square(image, self.size))
