"""Search-by-photo queries for the evaluation and for training's held-out check: each photo of a product under
each perturbation, decoded, cropped and reduced as search by photo does it.

The full-size photos (``<product id>.jpg``) are the realistic queries. Where none shows a product that may be
asked for (training's held-out products in a small or test catalogue), catalogue images scaled up to photo size
stand in, and the figures say so.
"""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from recommendations.photo_search.photos import open_photo, query_image, query_images

from .catalogue import Catalogue
from .perturbations import PERTURBATIONS, VIEW_SCALE_UP, perturb

PHOTO_NAME = re.compile(r"^(\d+)\.jpe?g$", re.IGNORECASE)


@dataclass(frozen=True)
class PhotoQuery:
    product_id: int
    perturbation: str
    load: Callable[[], Image.Image]
    """The photo as taken, upright."""
    seed: int

    def perturbed(self) -> Image.Image:
        return perturb(self.load(), self.perturbation, seed=self.seed, photo_id=self.product_id)

    def whole(self) -> Image.Image:
        """The whole photo as the search embeds it: reduced to the catalogue's level of detail."""
        return query_image(self.perturbed())

    def images(self) -> list[Image.Image]:
        """Every image the search embeds for this photo (``query_images``): whole, parts, zoomed out, sharpened."""
        return query_images(self.perturbed())


def find_photos(folders: list[Path]) -> dict[int, Path]:
    """The photos named ``<product id>.jpg`` in these folders (a later folder's photo of an id wins)."""
    photos = {}
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if match := PHOTO_NAME.match(path.name):
                photos[int(match.group(1))] = path
    return photos


def photo_queries(photos: dict[int, Path], *, seed: int) -> list[PhotoQuery]:
    """Every photo (product id -> file) under every perturbation; each photo is decoded once, as uploaded."""
    return [
        PhotoQuery(product_id, name, functools.cache(functools.partial(_open, path)), seed)
        for product_id, path in sorted(photos.items())
        for name in PERTURBATIONS
    ]


def stand_in_queries(catalogue: Catalogue, positions: np.ndarray, *, seed: int) -> list[PhotoQuery]:
    """Every perturbation of the catalogue images at ``positions``, scaled up to a photo's size first."""
    return [
        PhotoQuery(int(catalogue.ids[position]), name, functools.partial(_scaled_up, catalogue, int(position)), seed)
        for position in sorted(positions)
        for name in PERTURBATIONS
    ]


def _open(path: Path) -> Image.Image:
    with path.open("rb") as upload:
        return open_photo(upload)


def _scaled_up(catalogue: Catalogue, position: int) -> Image.Image:
    image = catalogue.image(position)
    return image.resize((image.width * VIEW_SCALE_UP, image.height * VIEW_SCALE_UP), Image.Resampling.BICUBIC)
