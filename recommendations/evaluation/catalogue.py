"""What the evaluation knows about each catalogue product: its labels and which images are byte-identical."""

from dataclasses import dataclass

import numpy as np

from shop.models import Product

# The attributes whose sharing makes a neighbour relevant: field -> the name styles.csv gives it.
ATTRIBUTES = {
    "article_type": "articleType",
    "sub_category": "subCategory",
    "base_colour": "baseColour",
    "gender": "gender",
    "usage": "usage",
}
MISSING = -1


@dataclass(frozen=True)
class CatalogueLabels:
    """Arrays aligned with ``ids``: attribute values and image groups as integer codes (``MISSING`` for NULL)."""

    ids: np.ndarray
    groups: np.ndarray
    """Products with the same code have byte-identical images."""
    attributes: dict[str, np.ndarray]
    values: dict[str, tuple[str, ...]]
    """Each attribute's value of each code: ``values[attribute][code]``."""

    def rows(self, ids: np.ndarray | list[int]) -> np.ndarray:
        """The positions of these product ids (each must be in ``ids``)."""
        positions = np.searchsorted(self.ids, ids)
        if positions.size and (positions.max() >= len(self.ids) or not np.array_equal(self.ids[positions], ids)):
            raise KeyError("Some of these products are not in the evaluated catalogue.")
        return positions


def load_labels(ids: np.ndarray) -> CatalogueLabels:
    """The labels of these products, in the order of ``ids`` (which must be sorted)."""
    fields = ["pk", "image_sha256", *ATTRIBUTES]
    rows = {row[0]: row for row in Product.objects.filter(pk__in=ids.tolist()).values_list(*fields)}
    if len(rows) != len(ids):
        raise ValueError(f"{len(ids) - len(rows)} of the products to evaluate are no longer in the catalogue.")
    ordered = [rows[product_id] for product_id in ids.tolist()]
    columns = list(zip(*ordered, strict=True)) if ordered else [()] * len(fields)
    # An image without a checksum is a group of its own.
    groups, _ = _codes(tuple(sha or f"product {pk}" for pk, sha in zip(columns[0], columns[1], strict=True)))
    attributes = {name: _codes(columns[2 + index]) for index, name in enumerate(ATTRIBUTES)}
    return CatalogueLabels(
        ids=ids,
        groups=groups,
        attributes={name: codes for name, (codes, _) in attributes.items()},
        values={name: values for name, (_, values) in attributes.items()},
    )


def _codes(values: tuple) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes of ``values`` (``MISSING`` for none), and the value of each code."""
    codes: dict[object, int] = {}
    array = np.array(
        [MISSING if value in (None, "") else codes.setdefault(value, len(codes)) for value in values], dtype=np.int64
    )
    return array, tuple(map(str, codes))
