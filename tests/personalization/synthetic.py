"""A small made-up shop for the algorithms' tests: shoppers who each keep to one "style" (a cluster of products)."""

import numpy as np

from personalization.catalogue import ATTRIBUTES, CatalogueArrays
from personalization.interactions import EventLog

STYLES = 8


def catalogue(products: int = 400, seed: int = 0) -> tuple[CatalogueArrays, np.ndarray]:
    """Products, each of a style; style s's products share article type "type<s>" and lie near one embedding."""
    rng = np.random.default_rng(seed)
    style = np.arange(products) % STYLES
    centres = rng.normal(size=(STYLES, 16))
    vectors = (centres[style] + 0.3 * rng.normal(size=(products, 16))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    attributes = {name: np.array([""] * products, dtype=object) for name in ATTRIBUTES}
    attributes["article_type"] = np.array([f"type{s}" for s in style], dtype=object)
    attributes["gender"] = np.array(["Women" if s % 2 else "Men" for s in style], dtype=object)
    attributes["image_sha256"] = np.array([f"sha{i}" for i in range(products)], dtype=object)
    arrays = CatalogueArrays(
        product_ids=np.arange(1000, 1000 + products, dtype=np.int64),
        attributes=attributes,
        price=rng.uniform(300, 3000, products),
        in_stock=np.ones(products, dtype=bool),
        added=np.zeros(products),
        embeddings=vectors,
    )
    return arrays, style


def log(arrays: CatalogueArrays, style: np.ndarray, shoppers: int = 600, seed: int = 0) -> EventLog:
    """Each shopper has a style: 90% of their events are on its products, the rest anywhere."""
    rng = np.random.default_rng(seed)
    rows = []
    for shopper in range(shoppers):
        mine = np.flatnonzero(style == shopper % STYLES)
        for event in range(int(rng.integers(6, 20))):
            code = rng.choice(mine) if rng.random() < 0.9 else rng.integers(len(style))
            kind = rng.choice(["view", "view", "view", "click", "cart_add", "purchase"])
            at = (event // 5) * 86400.0 + event * 60 + shopper  # visits of five events, a day apart
            rows.append((f"s{shopper}", int(arrays.product_ids[code]), str(kind), at))
    return EventLog.from_rows(rows, product_ids=arrays.product_ids)
