"""Search-by-photo queries for the held-out figures: perturbed photos of held-out products.

The full-size photos (``<product id>.jpg``) are the realistic queries; when none of them shows a held-out
product (a small or test catalogue), held-out catalogue images scaled up to photo size stand in, and the
figures say so.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from recommendations.perturbations import PERTURBATIONS, VIEW_SCALE_UP, perturb
from recommendations.photos import query_image
from recommendations.training.catalogue import Catalogue

# Full-size photos are decoded at a reduced JPEG scale of at least this side: the search keeps 80 px.
DECODE_SIDE = 320


@dataclass(frozen=True)
class PhotoQueries:
    source: str  # said with the figures
    positions: np.ndarray  # (Q,) position in the catalogue of each query's product
    perturbations: list[str]  # (Q,) what was done to each photo
    photos: list[Path | int]  # (Q,) a photo file, or the catalogue position of a stand-in image
    seed: int

    def __len__(self) -> int:
        return len(self.positions)

    def image(self, catalogue: Catalogue, index: int) -> Image.Image:
        """The query as the search embeds it: perturbed, then reduced like a shopper's photo."""
        photo = self.photos[index]
        if isinstance(photo, Path):
            image = Image.open(photo)
            image.draft("RGB", (DECODE_SIDE, DECODE_SIDE))
            image = image.convert("RGB")
        else:
            image = catalogue.image(photo)
            image = image.resize((image.width * VIEW_SCALE_UP, image.height * VIEW_SCALE_UP), Image.Resampling.BICUBIC)
        return query_image(perturb(image, self.perturbations[index], seed=self.seed, photo_id=index))


def photo_queries(
    catalogue: Catalogue, held_out: np.ndarray, photo_dir: Path | None, *, seed: int, stand_ins: int = 200
) -> PhotoQueries:
    """Every perturbation of each full-size photo of a held-out product, else of ``stand_ins`` held-out images."""
    position_of = {int(product_id): position for position, product_id in enumerate(catalogue.ids)}
    photos: list[Path | int] = []
    if photo_dir and photo_dir.is_dir():
        held = set(catalogue.ids[held_out].tolist())
        photos = [path for path in sorted(photo_dir.glob("*.jpg")) if path.stem.isdigit() and int(path.stem) in held]
    if photos:
        source = f"{len(photos)} full-size photos of held-out products"
        positions = [position_of[int(path.stem)] for path in photos]
    else:
        candidates = np.flatnonzero(held_out)
        chosen = np.random.default_rng(seed).choice(candidates, size=min(stand_ins, len(candidates)), replace=False)
        photos = sorted(int(position) for position in chosen)
        source = f"{len(photos)} held-out catalogue images scaled up (no full-size photo of a held-out product)"
        positions = list(photos)
    names = list(PERTURBATIONS)
    return PhotoQueries(
        source=source,
        positions=np.repeat(positions, len(names)),
        perturbations=names * len(photos),
        photos=[photo for photo in photos for _ in names],
        seed=seed,
    )
