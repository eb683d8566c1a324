"""Where the tests' catalogues are (see conftest for the two tiers of tests)."""

from pathlib import Path

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
# 60 real products in Kaggle's layout (styles.csv, images/, styles/): the catalogue of every test not marked dataset.
FIXTURE_CATALOG_DIR = FIXTURES_DIR / "catalogue"
# Full-size catalogue photos of fixture products, downscaled to 600x800: <product id>.jpg.
FIXTURE_PHOTOS_DIR = FIXTURES_DIR / "photos"
FIXTURE_PHOTO_IDS = (2217, 2274, 2477, 2483, 2618)
# The first rows of the real styles.csv: the catalogue the dataset tests see (every fixture product is among them).
SAMPLE_SIZE = 3000
# CATALOG_DATASET_DIR while a test not marked dataset runs: what reads the real catalogue through it finds nothing.
NO_DATASET_DIR = Path("/nonexistent/tier-1-tests-do-not-read-the-real-catalogue-mark-them-dataset")


def set_stock(product_ids: list[int], stock: int | None) -> None:
    """Give every size of these products this stock (None: untracked), as the admin does, and update in_stock."""
    from shop.models import Sku
    from shop.services import refresh_in_stock

    Sku.objects.filter(product_id__in=product_ids).update(stock=stock)
    refresh_in_stock(list(product_ids))


def embed_missing(space) -> None:
    """Embed (and commit) every product the space has no vector of; the space ends complete."""
    from recommendations.models import EmbeddingSpace
    from recommendations.vectors import services
    from recommendations.vectors.index import drop_index, ensure_index
    from recommendations.vectors.selectors import products_to_embed

    missing = list(products_to_embed(space, "missing").order_by("pk").values_list("pk", flat=True))
    grown = space.state == EmbeddingSpace.State.COMPLETE and missing
    if grown:
        drop_index(space)  # rebuilt in one go below: much faster than growing it row by row
    for batch in services.chunked(missing, 512):
        services.embed_products(space, batch)
    if grown:
        ensure_index(space)
    services.complete_space_if_done(space)
