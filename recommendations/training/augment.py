"""Photo perturbations: what a shopper's photo of a product does that the catalogue's image does not.

The same functions make the training views (random strengths over a wide range) and the evaluation
queries (one perturbation at a time, at fixed ranges, seeded). Sizes are relative to the photo, so a
perturbation means the same on a 60x80 catalogue image scaled up and on a 1800x2400 original.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

WHITE = (255, 255, 255)
# Longer side of the catalogue's images: blur radii are given in its pixels.
CATALOGUE_SIDE = 80
# Channels all above this are the white studio background.
NEAR_WHITE = 235
# The background is found on a copy this small: enough for a mask that is reduced to 80 px anyway.
MASK_SIDE = 120

Perturbation = Callable[[Image.Image, np.random.Generator], Image.Image]


@dataclass(frozen=True)
class Strengths:
    """Ranges the random perturbations draw from."""

    crop_keep: tuple[float, float]  # share of each side kept
    angle: tuple[float, float]  # degrees, either direction
    blur: tuple[float, float]  # Gaussian radius in catalogue pixels
    jpeg_quality: tuple[int, int]


# The evaluation's perturbations: each clearly visible, none hiding the product.
EVALUATION = Strengths(crop_keep=(0.7, 0.9), angle=(5.0, 10.0), blur=(0.6, 1.2), jpeg_quality=(15, 40))
# Training views cover a wider range, from untouched to stronger than the evaluation's.
TRAINING = Strengths(crop_keep=(0.6, 1.0), angle=(0.0, 12.0), blur=(0.0, 1.5), jpeg_quality=(10, 90))


def crop(image: Image.Image, rng: np.random.Generator, strengths: Strengths = EVALUATION) -> Image.Image:
    width, height = image.size
    keep_w, keep_h = rng.uniform(*strengths.crop_keep, size=2)
    w, h = max(1, round(width * keep_w)), max(1, round(height * keep_h))
    left, top = rng.integers(0, width - w + 1), rng.integers(0, height - h + 1)
    return image.crop((int(left), int(top), int(left) + w, int(top) + h))


def rotate(image: Image.Image, rng: np.random.Generator, strengths: Strengths = EVALUATION) -> Image.Image:
    angle = rng.uniform(*strengths.angle) * rng.choice([-1, 1])
    return image.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=WHITE)


def blur(image: Image.Image, rng: np.random.Generator, strengths: Strengths = EVALUATION) -> Image.Image:
    radius = rng.uniform(*strengths.blur) * max(image.size) / CATALOGUE_SIDE
    return image.filter(ImageFilter.GaussianBlur(radius)) if radius > 0 else image


def recompress(image: Image.Image, rng: np.random.Generator, strengths: Strengths = EVALUATION) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(strengths.jpeg_quality[0], strengths.jpeg_quality[1] + 1)))
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def clutter(image: Image.Image, rng: np.random.Generator, strengths: Strengths = EVALUATION) -> Image.Image:
    """The studio's white replaced by a busy background: colours, shapes and noise."""
    alpha = background_mask(image)
    return Image.composite(clutter_background(image.size, rng), image, alpha)


def background_mask(image: Image.Image) -> Image.Image:
    """``L`` mask, 255 on the white background: the near-white pixels connected to the border.

    White parts inside the product (a white shirt's front) are not connected to the border and stay.
    """
    scale = min(1.0, MASK_SIDE / max(image.size))
    small = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    near_white = np.asarray(small.convert("RGB")).min(axis=2) > NEAR_WHITE
    reached = np.zeros_like(near_white)
    reached[[0, -1], :] = near_white[[0, -1], :]
    reached[:, [0, -1]] |= near_white[:, [0, -1]]
    while True:  # flood fill by repeated dilation inside the near-white pixels
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= near_white
        if np.array_equal(grown, reached):
            break
        reached = grown
    mask = Image.fromarray(reached.astype(np.uint8) * 255)
    return mask.resize(image.size, Image.Resampling.BILINEAR)


def clutter_background(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    # Drawn small and scaled up: the shapes' size is relative to the photo, and drawing is cheap.
    small = (max(8, size[0] // 8), max(8, size[1] // 8))
    start, end = rng.integers(0, 256, size=(2, 3))
    ramp = np.linspace(0.0, 1.0, small[1])[:, None, None]
    gradient = (start + (end - start) * ramp) * np.ones((1, small[0], 1))
    background = Image.fromarray(gradient.astype(np.uint8))
    draw = ImageDraw.Draw(background)
    for _ in range(int(rng.integers(3, 9))):
        x0, x1 = sorted(rng.integers(0, small[0], size=2))
        y0, y1 = sorted(rng.integers(0, small[1], size=2))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((int(x0), int(y0), int(x1), int(y1)), fill=tuple(int(c) for c in rng.integers(0, 256, size=3)))
    background = background.resize(size, Image.Resampling.BILINEAR)
    noise = rng.normal(0.0, 12.0, size=(size[1], size[0], 3))
    return Image.fromarray(np.clip(np.asarray(background) + noise, 0, 255).astype(np.uint8))


PERTURBATIONS: dict[str, Callable[..., Image.Image]] = {
    "crop": crop,
    "rotation": rotate,
    "blur": blur,
    "jpeg": recompress,
    "clutter": clutter,
}


def perturb(image: Image.Image, name: str, rng: np.random.Generator) -> Image.Image:
    """One named evaluation perturbation (``PERTURBATIONS``)."""
    return PERTURBATIONS[name](image.convert("RGB"), rng, EVALUATION)


def training_view(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A random photo-like view of a catalogue image: each perturbation applied or not, at a random strength.

    The image is scaled up first, so that blur and re-compression act at a photo's scale as they do on
    the original photos; reduce the result to the catalogue's level of detail as the search does
    (``recommendations.photos.query_image``).
    """
    image = image.convert("RGB")
    image = image.resize((image.width * 4, image.height * 4), Image.Resampling.BICUBIC)
    if rng.random() < 0.6:  # the hardest perturbation for the trunk's features: the most often
        image = clutter(image, rng, TRAINING)
    if rng.random() < 0.6:
        image = rotate(image, rng, TRAINING)
    if rng.random() < 0.7:
        image = crop(image, rng, TRAINING)
    if rng.random() < 0.5:
        image = blur(image, rng, TRAINING)
    if rng.random() < 0.5:
        image = recompress(image, rng, TRAINING)
    return image
