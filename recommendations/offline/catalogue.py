"""What training and evaluation know of the catalogue: its products with an image, their labels as integer codes,
which images are byte-identical, and the image files."""

from dataclasses import dataclass

import numpy as np
from django.core.files.storage import default_storage
from PIL import Image

from recommendations.embedding.preprocessing import open_image, to_rgb_on_white
from recommendations.vectors.selectors import products_with_image

# The labels whose sharing makes a neighbour relevant, which the tuned model learns and the evaluation measures:
# field -> the name styles.csv gives it.
ATTRIBUTES = {
    "article_type": "articleType",
    "sub_category": "subCategory",
    "base_colour": "baseColour",
    "gender": "gender",
    "usage": "usage",
}
MISSING = -1


@dataclass(frozen=True)
class Catalogue:
    """Arrays aligned with ``ids`` (ascending)."""

    ids: np.ndarray
    image_names: list[str]
    """In the media storage."""
    shas: list[str]
    groups: np.ndarray
    """Products with the same code have byte-identical images (an image without a checksum is a group of its own)."""
    labels: dict[str, np.ndarray]
    """Attribute -> each product's value as a code, ``MISSING`` when it has none."""
    classes: dict[str, list[str]]
    """Attribute -> the value of each code, sorted."""

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, ids: np.ndarray | list[int]) -> np.ndarray:
        """The positions of these product ids (each must be in ``ids``)."""
        positions = np.searchsorted(self.ids, ids)
        if positions.size and (positions.max() >= len(self.ids) or not np.array_equal(self.ids[positions], ids)):
            raise KeyError("Some of these products are not in the catalogue loaded.")
        return positions

    def subset(self, positions: np.ndarray) -> "Catalogue":
        return Catalogue(
            ids=self.ids[positions],
            image_names=[self.image_names[p] for p in positions],
            shas=[self.shas[p] for p in positions],
            groups=self.groups[positions],
            labels={name: codes[positions] for name, codes in self.labels.items()},
            classes=self.classes,
        )

    def image(self, position: int) -> Image.Image:
        with default_storage.open(self.image_names[position]) as handle:
            return to_rgb_on_white(open_image(handle))


def load_catalogue(ids: np.ndarray | None = None) -> Catalogue:
    """Every product with an image, or those of ``ids`` (sorted), in that order."""
    products = products_with_image()
    if ids is not None:
        products = products.filter(pk__in=ids.tolist())
    rows = list(products.order_by("pk").values_list("pk", "image", "image_sha256", *ATTRIBUTES))
    if ids is not None and len(rows) != len(ids):
        raise ValueError(f"{len(ids) - len(rows)} of the products asked for are no longer in the catalogue.")
    columns = list(zip(*rows, strict=True)) if rows else [()] * (3 + len(ATTRIBUTES))
    labels, classes = {}, {}
    for column, name in enumerate(ATTRIBUTES, start=3):
        classes[name] = sorted({value for value in columns[column] if value})
        code = {value: index for index, value in enumerate(classes[name])}
        labels[name] = np.array([code[value] if value else MISSING for value in columns[column]], dtype=np.int64)
    group_of: dict[str, int] = {}
    groups = [
        group_of.setdefault(sha or f"product {pk}", len(group_of))
        for pk, sha in zip(columns[0], columns[2], strict=True)
    ]
    return Catalogue(
        ids=np.array(columns[0], dtype=np.int64),
        image_names=list(columns[1]),
        shas=list(columns[2]),
        groups=np.array(groups, dtype=np.int64),
        labels=labels,
        classes=classes,
    )
