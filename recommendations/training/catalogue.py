"""What training learns from: the catalogue's products with an image, their labels and their image files."""

from dataclasses import dataclass

import numpy as np
from django.core.files.storage import default_storage
from PIL import Image

from recommendations.evaluation.catalogue import ATTRIBUTES as EVALUATED_ATTRIBUTES
from recommendations.evaluation.catalogue import MISSING
from recommendations.preprocessing import open_image, to_rgb_on_white
from recommendations.selectors import products_with_image

# The labels the tuned embedding learns to share between neighbours: those the evaluation measures.
ATTRIBUTES = tuple(EVALUATED_ATTRIBUTES)


@dataclass(frozen=True)
class Catalogue:
    ids: np.ndarray  # (N,) int64, ascending
    image_names: list[str]  # in the media storage
    shas: list[str]
    labels: dict[str, np.ndarray]  # attribute -> (N,) int64 class index, MISSING when unknown
    classes: dict[str, list[str]]  # attribute -> class names, by index

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, positions: np.ndarray) -> "Catalogue":
        return Catalogue(
            ids=self.ids[positions],
            image_names=[self.image_names[p] for p in positions],
            shas=[self.shas[p] for p in positions],
            labels={name: codes[positions] for name, codes in self.labels.items()},
            classes=self.classes,
        )

    def image(self, position: int) -> Image.Image:
        with default_storage.open(self.image_names[position]) as handle:
            return to_rgb_on_white(open_image(handle))


def load_catalogue() -> Catalogue:
    rows = list(products_with_image().order_by("pk").values_list("pk", "image", "image_sha256", *ATTRIBUTES))
    labels, classes = {}, {}
    for column, name in enumerate(ATTRIBUTES, start=3):
        values = [row[column] for row in rows]
        classes[name] = sorted({value for value in values if value})
        index = {value: code for code, value in enumerate(classes[name])}
        labels[name] = np.array([index.get(value, MISSING) if value else MISSING for value in values], dtype=np.int64)
    return Catalogue(
        ids=np.array([row[0] for row in rows], dtype=np.int64),
        image_names=[row[1] for row in rows],
        shas=[row[2] for row in rows],
        labels=labels,
        classes=classes,
    )
