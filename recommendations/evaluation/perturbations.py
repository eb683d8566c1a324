"""What happens to a product photo between a shopper's camera and search by photo, reproducibly.

Each perturbation takes an upright photo and a seeded random generator and returns a new photo; the sizes
involved are fractions of the photo's, so the result is the same whatever resolution it was decoded at.
"""

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from recommendations.preprocessing import WHITE, to_rgb_on_white

Perturbation = Callable[[Image.Image, np.random.Generator], Image.Image]

CROP_SIDE = 0.75  # of each side of the photo
MIN_ANGLE, MAX_ANGLE = 5.0, 10.0  # degrees, either way
BLUR_RADIUS = 0.015  # of the longer side: about one pixel at the catalogue's 80 px
JPEG_QUALITY = 10
PRODUCT_SCALE = (0.6, 0.8)  # of the background's sides, when pasted on a busy background
# Product shots are on white: a pixel this light in every channel, connected to the border, is background.
WHITE_LEVEL = 235
MASK_SIZE = 240  # the product's outline is found at this size, then scaled up


def original(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image.copy()


def centre_crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The middle three quarters of each side, as a shopper framing the product would keep."""
    return _crop(image, (1 - CROP_SIDE) / 2, (1 - CROP_SIDE) / 2)


def offset_crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Three quarters of each side, placed anywhere: parts of the product may be cut off."""
    left, top = rng.uniform(0, 1 - CROP_SIDE, size=2)
    return _crop(image, left, top)


def rotation(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Turned by 5 to 10 degrees either way, the corners filled with white."""
    angle = rng.uniform(MIN_ANGLE, MAX_ANGLE) * rng.choice([-1, 1])
    return to_rgb_on_white(image).rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=WHITE)


def blur(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Out of focus or shaken: a Gaussian blur of 1.5% of the longer side."""
    return to_rgb_on_white(image).filter(ImageFilter.GaussianBlur(BLUR_RADIUS * max(image.size)))


def jpeg_recompression(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Saved again as a JPEG at quality 10, as forwarded through a messaging app."""
    buffer = io.BytesIO()
    to_rgb_on_white(image).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    buffer.seek(0)
    recompressed = Image.open(buffer)
    recompressed.load()
    return recompressed


def cluttered_background(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The product cut out of its white background and put, at 60-80% of the size, anywhere on a busy scene."""
    photo = to_rgb_on_white(image)
    scene = busy_scene(photo.size, rng)
    scale = rng.uniform(*PRODUCT_SCALE)
    size = (max(1, round(photo.width * scale)), max(1, round(photo.height * scale)))
    product = photo.resize(size, Image.Resampling.LANCZOS)
    mask = product_mask(photo).resize(size, Image.Resampling.BILINEAR)
    position = (int(rng.integers(0, scene.width - size[0] + 1)), int(rng.integers(0, scene.height - size[1] + 1)))
    scene.paste(product, position, mask)
    return scene


def product_mask(photo: Image.Image) -> Image.Image:
    """255 on the product, 0 on the white around it (white inside the product, e.g. a white shirt, stays)."""
    scale = MASK_SIZE / max(photo.size)
    small = photo.resize((max(1, round(photo.width * scale)), max(1, round(photo.height * scale))))
    light = np.asarray(small).min(axis=2) >= WHITE_LEVEL
    # A white frame joins all the white along the border, so one flood fill from a corner finds it.
    marks = ImageOps.expand(Image.fromarray(np.where(light, 255, 0).astype(np.uint8)), border=1, fill=255)
    ImageDraw.floodfill(marks, (0, 0), 128, thresh=0)
    background = np.asarray(marks)[1:-1, 1:-1] == 128
    mask = Image.fromarray(np.where(background, 0, 255).astype(np.uint8))
    return mask.resize(photo.size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(max(photo.size) / 400))


def busy_scene(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A room-like clutter: soft colour gradients, many overlapping coloured shapes and lines, a little
    out of focus, with sensor noise."""
    width, height = size
    gradient = rng.integers(0, 256, size=(4, 3, 3), dtype=np.uint8)
    scene = Image.fromarray(gradient).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(scene)
    for _ in range(int(rng.integers(40, 70))):
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        x0, x1 = sorted(rng.uniform(-0.1, 1.1, size=2) * width)
        y0, y1 = sorted(rng.uniform(-0.1, 1.1, size=2) * height)
        shape = rng.choice(["rectangle", "ellipse", "polygon", "line"])
        if shape == "rectangle":
            draw.rectangle((x0, y0, x0 + (x1 - x0) / 2, y0 + (y1 - y0) / 2), fill=colour)
        elif shape == "ellipse":
            draw.ellipse((x0, y0, x0 + (x1 - x0) / 2, y0 + (y1 - y0) / 2), fill=colour)
        elif shape == "polygon":
            corners = rng.uniform(0, 1, size=(int(rng.integers(3, 6)), 2)) * (width, height)
            draw.polygon([tuple(corner) for corner in corners.tolist()], fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=max(1, round(max(size) * rng.uniform(0.005, 0.03))))
    scene = scene.filter(ImageFilter.GaussianBlur(max(size) / 300))
    noise = rng.normal(0, 8, size=(height, width, 3))
    return Image.fromarray(np.clip(np.asarray(scene, dtype=np.float64) + noise, 0, 255).astype(np.uint8))


def _crop(image: Image.Image, left: float, top: float) -> Image.Image:
    width, height = image.size
    box = (
        round(left * width),
        round(top * height),
        round((left + CROP_SIDE) * width),
        round((top + CROP_SIDE) * height),
    )
    return image.crop(box)


PERTURBATIONS: dict[str, Perturbation] = {
    "original": original,
    "centre_crop": centre_crop,
    "offset_crop": offset_crop,
    "rotation": rotation,
    "blur": blur,
    "jpeg_q10": jpeg_recompression,
    "cluttered_background": cluttered_background,
}


def perturb(image: Image.Image, name: str, *, seed: int, photo_id: int) -> Image.Image:
    """``PERTURBATIONS[name]`` with a generator seeded by the run's seed, the photo and the perturbation."""
    rng = np.random.default_rng([seed, photo_id, list(PERTURBATIONS).index(name)])
    return PERTURBATIONS[name](image, rng)
