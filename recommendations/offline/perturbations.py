"""What happens to a product photo between a shopper's camera and search by photo, reproducibly.

The evaluation spoils full-size photos one named way at a time (``PERTURBATIONS``, fixed strengths); training
makes photo-like views of catalogue images by drawing from the same perturbations over wider ranges
(``training_view``), so that the model learns what the evaluation measures. Sizes are fractions of the
photo's, so a perturbation means the same on a 60x80 catalogue image scaled up and on a 1800x2400 original.
"""

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from recommendations.embedding.preprocessing import WHITE, to_rgb_on_white
from recommendations.photo_search.photos import Crop

Perturbation = Callable[[Image.Image, np.random.Generator], Image.Image]

CROP_SIDE = 0.75  # of each side of the photo
MIN_ANGLE, MAX_ANGLE = 5.0, 10.0  # degrees, either way
BLUR_RADIUS = 0.015  # of the longer side: about one pixel at the catalogue's 80 px
JPEG_QUALITY = 10
PRODUCT_SCALE = (0.6, 0.8)  # of the background's sides, when pasted on a busy background
# Product shots are on white: a pixel this light in every channel, connected to the border, is background.
WHITE_LEVEL = 235
MASK_SIZE = 240  # the product's outline is found at this size, then scaled up

# Training views: each perturbation applied or not, at a strength drawn from a range that goes from untouched
# to beyond the evaluation's.
VIEW_SCALE_UP = 4  # catalogue images are scaled up first, so that blur and JPEG act at a photo's scale
VIEW_CROP_SIDE = (0.6, 1.0)
VIEW_MAX_ANGLE = 12.0
VIEW_BLUR_RADIUS = (0.0, 0.02)
VIEW_JPEG_QUALITY = (10, 90)
VIEW_PRODUCT_SCALE = (0.5, 1.0)


def rotate(image: Image.Image, angle: float) -> Image.Image:
    """Turned by ``angle`` degrees, expanded to keep the corners, which are filled with white."""
    return to_rgb_on_white(image).rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=WHITE)


def blur(image: Image.Image, radius: float) -> Image.Image:
    """A Gaussian blur of ``radius`` times the longer side."""
    return to_rgb_on_white(image).filter(ImageFilter.GaussianBlur(radius * max(image.size)))


def recompress(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    to_rgb_on_white(image).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    recompressed = Image.open(buffer)
    recompressed.load()
    return recompressed


def on_busy_scene(image: Image.Image, rng: np.random.Generator, scales: tuple[float, float]) -> Image.Image:
    """The product cut out of its white background and put, at a share of its size drawn from ``scales``,
    anywhere on a busy scene of the photo's size."""
    photo = to_rgb_on_white(image)
    scene = busy_scene(photo.size, rng)
    scale = rng.uniform(*scales)
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
    background = _reached_from_border(np.asarray(small).min(axis=2) >= WHITE_LEVEL)
    mask = Image.fromarray(np.where(background, 0, 255).astype(np.uint8))
    return mask.resize(photo.size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(max(photo.size) / 400))


def _reached_from_border(light: np.ndarray) -> np.ndarray:
    """The ``light`` pixels connected to the border (4-connectivity): a flood fill that grows whole rows'
    and columns' runs of light pixels at a time, so it takes as many rounds as the path has turns."""
    reached = np.zeros_like(light)
    reached[[0, -1], :] = light[[0, -1], :]
    reached[:, [0, -1]] |= light[:, [0, -1]]
    while True:
        grown = _runs_touching(_runs_touching(reached, light).T, light.T).T
        if np.array_equal(grown, reached):
            return reached
        reached = grown


def _runs_touching(reached: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Every run of ``light`` pixels along a row that holds a ``reached`` pixel."""
    starts = light & ~np.pad(light, ((0, 0), (1, 0)))[:, :-1]
    runs = np.cumsum(starts.ravel()).reshape(light.shape) * light  # 0 off the runs, else the run's number
    touched = np.zeros(runs.max() + 1, dtype=bool)
    touched[runs[reached]] = True
    touched[0] = False
    return touched[runs]


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


# --- the evaluation's perturbations ----------------------------------------------------------------------------------


def original(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image.copy()


def centre_crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The middle three quarters of each side, as a shopper framing the product would keep."""
    margin = (1 - CROP_SIDE) / 2
    return Crop(margin, margin, CROP_SIDE, CROP_SIDE).apply(image)


def offset_crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Three quarters of each side, placed anywhere: parts of the product may be cut off."""
    left, top = rng.uniform(0, 1 - CROP_SIDE, size=2)
    return Crop(left, top, CROP_SIDE, CROP_SIDE).apply(image)


def rotation(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Turned by 5 to 10 degrees either way, the corners filled with white."""
    return rotate(image, rng.uniform(MIN_ANGLE, MAX_ANGLE) * rng.choice([-1, 1]))


def out_of_focus(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Out of focus or shaken: a Gaussian blur of 1.5% of the longer side."""
    return blur(image, BLUR_RADIUS)


def jpeg_q10(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Saved again as a JPEG at quality 10, as forwarded through a messaging app."""
    return recompress(image, JPEG_QUALITY)


def cluttered_background(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The product cut out of its white background and put, at 60-80% of the size, anywhere on a busy scene."""
    return on_busy_scene(image, rng, PRODUCT_SCALE)


PERTURBATIONS: dict[str, Perturbation] = {
    "original": original,
    "centre_crop": centre_crop,
    "offset_crop": offset_crop,
    "rotation": rotation,
    "blur": out_of_focus,
    "jpeg_q10": jpeg_q10,
    "cluttered_background": cluttered_background,
}


def perturb(image: Image.Image, name: str, *, seed: int, photo_id: int) -> Image.Image:
    """``PERTURBATIONS[name]`` with a generator seeded by the run's seed, the photo and the perturbation."""
    rng = np.random.default_rng([seed, photo_id, list(PERTURBATIONS).index(name)])
    return PERTURBATIONS[name](image, rng)


# --- training views --------------------------------------------------------------------------------------------------


def training_view(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A random photo-like view of a catalogue image: each perturbation applied or not, at a random strength.

    Reduce the result to the catalogue's level of detail as the search does
    (``recommendations.photo_search.photos.query_image``).
    """
    image = to_rgb_on_white(image)
    image = image.resize((image.width * VIEW_SCALE_UP, image.height * VIEW_SCALE_UP), Image.Resampling.BICUBIC)
    if rng.random() < 0.6:  # the hardest perturbation for the trunk's features: the most often
        image = on_busy_scene(image, rng, VIEW_PRODUCT_SCALE)
    if rng.random() < 0.6:
        image = rotate(image, rng.uniform(0.0, VIEW_MAX_ANGLE) * rng.choice([-1, 1]))
    if rng.random() < 0.7:
        width, height = rng.uniform(*VIEW_CROP_SIDE, size=2)
        image = Crop(rng.uniform(0, 1 - width), rng.uniform(0, 1 - height), width, height).apply(image)
    if rng.random() < 0.5:
        image = blur(image, rng.uniform(*VIEW_BLUR_RADIUS))
    if rng.random() < 0.5:
        image = recompress(image, int(rng.integers(VIEW_JPEG_QUALITY[0], VIEW_JPEG_QUALITY[1] + 1)))
    return image
