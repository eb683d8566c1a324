"""The benchmark scripts run end to end on the fixture catalogue and print every row of their tables.

No speed figure is checked (speed is never asserted in tests): only that a change elsewhere, such as a renamed
setting or perturbation, has not broken them.
"""

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks import (
    embedding_throughput,
    experiment_assignment,
    photo_search,
    similar_items_cache,
    storefront_pages,
)
from experiments.models import Experiment

# Full-size photos (downscaled) of fixture products.
PHOTO_IDS = ("2477", "2618")


def run(
    main: Callable[[], None], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> str:
    monkeypatch.setattr(sys, "argv", ["benchmark", *args])
    main()
    return capsys.readouterr().out


@pytest.mark.django_db
def test_storefront_pages_benchmark_times_every_page(embedded_catalogue, monkeypatch, capsys):
    out = run(storefront_pages.main, monkeypatch, capsys, "--repeat", "2")
    assert "baseline ms" in out and "x baseline" in out
    for page in ("listing, 2 filters", "product page, 3 options", "product pages, random", "... metadata ranking"):
        assert page in out


@pytest.mark.django_db
def test_experiment_assignment_benchmark_times_the_home_page_with_and_without_an_experiment(monkeypatch, capsys):
    out = run(experiment_assignment.main, monkeypatch, capsys, "--repeat", "3")
    for row in ("no experiment", "experiment, new visitors", "experiment, again", "assignment alone"):
        assert row in out
    assert not Experiment.objects.exists()  # the run's experiment is deleted


@pytest.mark.django_db
def test_similar_items_cache_benchmark_times_the_ranking_computed_and_cached(embedded_catalogue, monkeypatch, capsys):
    out = run(similar_items_cache.main, monkeypatch, capsys, "--products", "5")
    assert "ranking computed" in out and "ranking cached, cards read afresh" in out


@pytest.mark.django_db
def test_photo_search_benchmark_scores_each_variant_and_times_uploads(
    embedded_catalogue, fixture_photos_dir: Path, tmp_path: Path, monkeypatch, capsys
):
    for product_id in PHOTO_IDS:
        shutil.copy(fixture_photos_dir / f"{product_id}.jpg", tmp_path)
    out = run(photo_search.main, monkeypatch, capsys, "--photos", str(tmp_path), "--details", "80")
    lines = out.splitlines()
    for variant in ("whole photo alone", "+ parts", "+ zoomed out, sharpened"):
        assert sum(line.startswith(variant) for line in lines) == 5, variant  # as taken, and four ways spoilt
    assert any(line.startswith("POST /api/search/photo/ (JSON)") for line in lines)


@pytest.mark.django_db
def test_photo_search_benchmark_refuses_photos_of_products_not_imported(tmp_path: Path, monkeypatch, capsys):
    (tmp_path / "999999.jpg").write_bytes(b"")
    with pytest.raises(SystemExit, match=r"999999\.jpg"):
        run(photo_search.main, monkeypatch, capsys, "--photos", str(tmp_path))


def test_embedding_throughput_benchmark_compares_runtimes_with_eager(
    fixture_catalog_dir: Path, fixture_photos_dir: Path, monkeypatch, capsys, tmp_path: Path
):
    out = run(
        embedding_throughput.main,
        monkeypatch,
        capsys,
        *("--models", "efficientnet_lite0", "--runtimes", "torch", "--catalogue", str(fixture_catalog_dir)),
        *("--photos", str(fixture_photos_dir)),
        *("--batch-sizes", "2", "--small-images", "40", "--seconds", "0.01", "--cache-dir", str(tmp_path)),
    )
    rows = [line.split() for line in out.splitlines() if line.startswith("efficientnet_lite0 ")]
    assert [row[2] for row in rows[:2]] == ["torch-eager", "torch"]
    # The same weights in another layout: the embeddings agree with eager's.
    assert float(rows[1][-3]) > 0.999
    assert rows[2][1:3] == ["decode", "only"]
