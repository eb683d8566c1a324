"""The fixture catalogue is what tests/fixtures/README.md says: small, complete, and real rows of the dataset."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.catalogues import FIXTURE_PHOTO_IDS, FIXTURES_DIR, SAMPLE_SIZE


def fixture_ids(catalog: Path) -> list[int]:
    lines = (catalog / "styles.csv").read_bytes().split(b"\n")
    return [int(line.split(b",", 1)[0]) for line in lines[1:] if line]


def test_the_fixture_is_small_and_every_product_has_its_image_and_details(
    fixture_catalog_dir: Path, fixture_photos_dir: Path
) -> None:
    ids = fixture_ids(fixture_catalog_dir)

    assert 40 <= len(ids) == len(set(ids)) <= 60
    assert sorted(path.name for path in (fixture_catalog_dir / "images").iterdir()) == sorted(f"{i}.jpg" for i in ids)
    assert sorted(path.name for path in (fixture_catalog_dir / "styles").iterdir()) == sorted(f"{i}.json" for i in ids)
    assert sorted(int(path.stem) for path in fixture_photos_dir.glob("*.jpg")) == sorted(FIXTURE_PHOTO_IDS)
    assert set(FIXTURE_PHOTO_IDS) <= set(ids)
    for photo in fixture_photos_dir.iterdir():
        assert photo.stat().st_size < 100_000, photo.name
        with Image.open(photo) as image:
            assert max(image.size) == 800, photo.name
    assert sum(path.stat().st_size for path in FIXTURES_DIR.rglob("*") if path.is_file()) < 2_000_000


@pytest.mark.dataset
def test_the_fixture_is_rows_and_files_of_the_sample_byte_for_byte(
    catalog_dir: Path, fixture_catalog_dir: Path
) -> None:
    header, *rows = (catalog_dir / "styles.csv").read_bytes().split(b"\n")
    sample = rows[:SAMPLE_SIZE]
    fixture_header, *fixture_rows = (fixture_catalog_dir / "styles.csv").read_bytes().split(b"\n")

    assert fixture_header == header
    assert fixture_rows[-1] == b""  # ends with a newline, like styles.csv
    wanted = set(fixture_rows[:-1])
    assert fixture_rows[:-1] == [row for row in sample if row in wanted]  # every one in the sample, in its order
    for product_id in fixture_ids(fixture_catalog_dir):
        for name in (f"images/{product_id}.jpg", f"styles/{product_id}.json"):
            assert (fixture_catalog_dir / name).read_bytes() == (catalog_dir / name).read_bytes(), name


@pytest.mark.dataset
def test_the_fixture_photos_are_the_full_size_photos_downscaled(catalog_dir: Path, fixture_photos_dir: Path) -> None:
    hires = catalog_dir.parent / "fashion-product-images-hires"
    for product_id in FIXTURE_PHOTO_IDS:
        with (
            Image.open(hires / f"{product_id}.jpg") as original,
            Image.open(fixture_photos_dir / f"{product_id}.jpg") as photo,
        ):
            assert photo.width / photo.height == pytest.approx(original.width / original.height, rel=0.01)
            reduced = np.asarray(original.convert("RGB").resize(photo.size, Image.Resampling.LANCZOS), dtype=int)
            assert np.abs(reduced - np.asarray(photo.convert("RGB"), dtype=int)).mean() < 3, product_id
