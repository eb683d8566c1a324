"""Spoilt photos: the evaluation's named perturbations and the training's random views."""

import numpy as np
import pytest
from PIL import Image

from recommendations.offline.perturbations import PERTURBATIONS, perturb, product_mask, training_view
from recommendations.photo_search.photos import open_photo
from tests.catalogues import FIXTURE_CATALOG_DIR, FIXTURE_PHOTOS_DIR

HIRES_DIR = FIXTURE_PHOTOS_DIR
CATALOGUE_IMAGES = FIXTURE_CATALOG_DIR / "images"
PRODUCT_ID = 2217  # a product with a full-size photo: pink socks on white


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    with (HIRES_DIR / f"{PRODUCT_ID}.jpg").open("rb") as upload:
        return open_photo(upload)


def test_perturbations_are_deterministic(photo: Image.Image):
    for name in PERTURBATIONS:
        first = perturb(photo, name, seed=3, photo_id=1)
        again = perturb(photo, name, seed=3, photo_id=1)
        assert np.array_equal(np.asarray(first), np.asarray(again)), name

    moved = [perturb(photo, "offset_crop", seed=seed, photo_id=1) for seed in range(3)]
    assert len({np.asarray(image).tobytes() for image in moved}) == 3


def test_perturbations_change_the_photo_with_the_right_sizes(photo: Image.Image):
    width, height = photo.size
    pixels = np.asarray(photo.convert("RGB"), dtype=np.int16)
    images = {name: perturb(photo, name, seed=0, photo_id=1) for name in PERTURBATIONS}

    assert np.array_equal(np.asarray(images["original"]), np.asarray(photo))
    assert images["centre_crop"].size == images["offset_crop"].size == (round(0.75 * width), round(0.75 * height))
    rotated = images["rotation"]
    assert rotated.width > width and rotated.height > height  # expanded to keep the corners
    for name in ("blur", "jpeg_q10", "cluttered_background"):
        assert images[name].size == photo.size, name
        changed = np.abs(np.asarray(images[name].convert("RGB"), dtype=np.int16) - pixels).mean()
        assert changed > 2, name


def test_the_cluttered_background_replaces_the_white_around_the_product(photo: Image.Image):
    mask = np.asarray(product_mask(photo)) > 128
    cluttered = np.asarray(perturb(photo, "cluttered_background", seed=0, photo_id=1))

    assert 0.05 < mask.mean() < 0.9  # the product is found, and is not the whole photo
    # The corners were white; now at most a small share of the scene is.
    assert (cluttered.min(axis=2) > 235).mean() < 0.1


@pytest.fixture(scope="module")
def catalogue_image() -> Image.Image:
    return Image.open(CATALOGUE_IMAGES / f"{PRODUCT_ID}.jpg").convert("RGB")


def test_training_views_are_seeded_photo_sized_and_varied(catalogue_image: Image.Image):
    views = [training_view(catalogue_image, np.random.default_rng([0, view])) for view in range(12)]
    again = training_view(catalogue_image, np.random.default_rng([0, 0]))

    assert np.array_equal(np.asarray(views[0]), np.asarray(again))
    assert len({np.asarray(view).tobytes() for view in views}) == len(views)
    # Scaled up to a photo's size before anything else, then cropped to at most the whole.
    for view in views:
        assert max(view.size) >= 0.6 * 4 * max(catalogue_image.size)


def test_training_views_put_products_on_busy_scenes(catalogue_image: Image.Image):
    white_corners = []
    for view in range(40):
        pixels = np.asarray(training_view(catalogue_image, np.random.default_rng([1, view])).convert("RGB"))
        corners = pixels[[0, 0, -1, -1], [0, -1, 0, -1]]
        white_corners.append(bool((corners.min(axis=1) > 235).all()))

    # About 60% of the views are on a scene; the rest keep the studio's white (rotation fills with white too).
    assert 0.2 < 1 - np.mean(white_corners) < 0.9
