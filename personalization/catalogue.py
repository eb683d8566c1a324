"""The catalogue as arrays, in the product order that an ``EventLog``'s product codes index: the metadata the
simulator's personas, the content profile and the hybrid's features read, and optionally the image embeddings.
``personalization.selectors.load_catalogue`` reads it from the database."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The gender of products for anyone: a page for one gender shows them too.
UNISEX = "Unisex"

# Metadata columns, each an object array of strings ("" when unknown).
ATTRIBUTES: tuple[str, ...] = (
    "gender",
    "master_category",
    "sub_category",
    "article_type",
    "base_colour",
    "season",
    "usage",
    "brand",
    "image_sha256",
)


@dataclass(frozen=True)
class CatalogueArrays:
    product_ids: np.ndarray  # int64, the product codes' order
    attributes: dict[str, np.ndarray]  # name -> object array of strings
    price: np.ndarray  # float64 (NaN when unknown)
    in_stock: np.ndarray  # bool
    added: np.ndarray  # float64 seconds since the epoch (NaN when unknown)
    embeddings: np.ndarray | None = None  # float32 rows of unit length (zeros where a product has none)
    _index: dict[int, int] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.product_ids)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.attributes[name]

    def code(self, product_id: int) -> int | None:
        if not self._index:
            self._index.update({int(pid): code for code, pid in enumerate(self.product_ids)})
        return self._index.get(int(product_id))
