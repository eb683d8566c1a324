"""The evaluation of the image models: metrics on hand-computed cases, and the command end to end."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from recommendations.models import EmbeddingSpace
from recommendations.offline import metrics
from recommendations.offline.catalogue import ATTRIBUTES, MISSING, Catalogue, load_catalogue
from recommendations.offline.evaluation.embedders import RawPixelEncoder
from recommendations.offline.evaluation.held_out import QueryPool, query_pool
from recommendations.offline.evaluation.leave_one_out import confused_pairs, evaluate_leave_one_out, relevant_counts
from recommendations.offline.evaluation.pipeline import EvaluationOptions, sample_queries
from recommendations.offline.evaluation.vectors import ModelVectors, catalogue_vectors
from recommendations.offline.exact_search import top_k
from recommendations.offline.perturbations import PERTURBATIONS
from recommendations.offline.training.splits import Split, split_path
from shop.models import Product

# The full-size photos of products among the first 3,000 rows of styles.csv (the dataset tests' catalogue).
SAMPLE_PHOTO_IDS = [2217, 2274, 2477, 2483, 2618]


# --- metrics -------------------------------------------------------------------------------------------------------


def test_precision_and_recall_count_the_hits_in_the_first_k():
    relevance = np.array([[True, False, True, False], [False, False, False, True]])
    relevant = np.array([3, 1])

    assert metrics.precision_at_k(relevance, 4).tolist() == [0.5, 0.25]
    assert metrics.precision_at_k(relevance, 2).tolist() == [0.5, 0.0]
    np.testing.assert_allclose(metrics.recall_at_k(relevance, relevant, 4), [2 / 3, 1.0])
    np.testing.assert_allclose(metrics.recall_at_k(relevance, relevant, 3), [2 / 3, 0.0])


def test_average_precision_divides_by_the_hits_possible_within_k():
    relevance = np.array([[True, False, True, False], [False, True, False, False]])
    relevant = np.array([3, 5])

    # (1/1 + 2/3) / min(4, 3); and (1/2) / min(2, 5) at k=2.
    np.testing.assert_allclose(metrics.average_precision_at_k(relevance, relevant, 4), [(1 + 2 / 3) / 3, 0.5 / 4])
    np.testing.assert_allclose(metrics.average_precision_at_k(relevance, relevant, 2), [1 / 2, 0.5 / 2])


def test_ndcg_is_one_for_an_ideal_ranking_and_discounts_late_hits():
    relevance = np.array([[True, False, True, False], [True, True, False, False], [False, True, False, False]])
    relevant = np.array([3, 2, 5])

    ndcg = metrics.ndcg_at_k(relevance, relevant, 4)

    ideal_3 = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    ideal_4 = ideal_3 + 1 / math.log2(5)
    np.testing.assert_allclose(ndcg, [(1 + 1 / math.log2(4)) / ideal_3, 1.0, (1 / math.log2(3)) / ideal_4])


def test_queries_with_nothing_to_find_have_no_recall_ap_or_ndcg():
    relevance = np.array([[False, False]])
    relevant = np.array([0])

    assert metrics.precision_at_k(relevance, 2).tolist() == [0.0]
    assert np.isnan(metrics.recall_at_k(relevance, relevant, 2)).all()
    assert np.isnan(metrics.average_precision_at_k(relevance, relevant, 2)).all()
    assert np.isnan(metrics.ndcg_at_k(relevance, relevant, 2)).all()


def test_hit_at_k_is_whether_the_answer_is_in_the_first_k():
    hits = np.array([[False, True, False], [False, False, False], [True, False, False]])

    assert metrics.hit_at_k(hits, 1).tolist() == [False, False, True]
    assert metrics.hit_at_k(hits, 2).tolist() == [True, False, True]


# --- exact search and leave-one-out ---------------------------------------------------------------------------------


def unit(rows: list[list[float]]) -> np.ndarray:
    vectors = np.array(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_exact_search_ranks_by_cosine_and_skips_the_query_group():
    vectors = unit([[1, 0], [1, 0], [0.9, 0.1], [0, 1], [0.5, 0.5]])
    groups = np.array([0, 0, 1, 2, 3])  # rows 0 and 1: the same image

    assert top_k(vectors, vectors[[0]], 3).tolist()[0][:1] in ([0], [1])
    assert top_k(vectors, vectors[[0]], 3, groups=groups, query_groups=groups[[0]]).tolist() == [[2, 4, 3]]
    assert top_k(vectors, vectors[[3]], 2, groups=groups, query_groups=groups[[3]]).tolist() == [[4, 2]]


def test_relevant_counts_leave_out_the_query_and_its_image_copies():
    codes = np.array([0, 0, 1, 0, MISSING])
    groups = np.array([0, 0, 1, 2, 3])

    # Product 0 shares value 0 with 1 and 3, but 1 has its image: only 3 can be found.
    assert relevant_counts(codes, groups).tolist() == [1, 1, 0, 2, 0]


def test_leave_one_out_scores_each_attribute_over_the_queries_that_have_it():
    vectors = unit([[1, 0], [0.95, 0.05], [0, 1], [0.05, 0.95]])
    ids = np.array([10, 11, 12, 13])
    shirts, shoes = 0, 1
    catalogue = Catalogue(
        ids=ids,
        image_names=[f"{product_id}.jpg" for product_id in ids],
        shas=["a", "b", "c", "d"],
        groups=np.arange(4),
        labels={name: np.array([shirts, shirts, shoes, shoes]) for name in ATTRIBUTES}
        | {"usage": np.array([0, 1, MISSING, 1])},
        classes={name: ["Shirts", "Shoes"] for name in ATTRIBUTES} | {"usage": ["Casual", "Sports"]},
    )
    model = ModelVectors(model="toy", version="toy", ids=ids, vectors=vectors, space=None)

    results = evaluate_leave_one_out(model, catalogue, np.array([10, 12, 13]), [1, 2])

    assert results["article_type"]["queries"] == 3
    assert results["article_type"]["precision@1"] == 1.0
    assert results["article_type"]["precision@2"] == 0.5
    assert results["article_type"]["recall@1"] == 1.0
    # Usage: 12 has none. 10 (usage 0) has nothing to find: a miss for precision, left out of recall.
    # 13 finds 12 (no usage), then 11 (usage 1, its only match).
    assert results["usage"]["queries"] == 2
    assert results["usage"]["precision@2"] == 0.25
    assert results["usage"]["recall@2"] == 1.0
    # Confusions within the first k=1: none for the article type; for usage, 10 (Casual) finds 11 (Sports).
    assert results["article_type"]["confused"] == []
    assert results["usage"]["confused"] == [{"values": ["Casual", "Sports"], "share": 0.5}]


def test_confused_pairs_count_either_order_and_rank_by_share():
    queries = np.array([0, 1, 2, 0])
    found = np.array([[1, 0, MISSING], [0, 2, 1], [2, 1, 1], [0, 0, 0]])

    pairs = confused_pairs(queries, found, ("Tshirts", "Tops", "Shirts"))

    # Tops/Shirts three times (1 found 2, 2 found 1 twice), Tshirts/Tops twice (0 found 1, 1 found 0); neither the
    # right answers nor the product without a value count.
    assert pairs == [
        {"values": ["Tops", "Shirts"], "share": 3 / 12},
        {"values": ["Tshirts", "Tops"], "share": 2 / 12},
    ]


def test_queries_can_be_restricted_to_given_products():
    catalogue = np.arange(100, 200)
    options = EvaluationOptions(models=[], queries=5)

    sampled = sample_queries(catalogue, [150, 151, 152, 999], options)

    assert sorted(sampled.tolist()) == [150, 151, 152]
    assert sample_queries(catalogue, [150, 151, 152, 999], options).tolist() == sampled.tolist()
    assert len(sample_queries(catalogue, None, options)) == 5


def test_the_queries_come_from_the_products_a_tuned_model_held_out(tmp_path: Path, settings):
    settings.EMBEDDING_WEIGHTS_DIR = tmp_path
    head = tmp_path / "efficientnet_lite0_catalogue.pt"
    head.write_bytes(b"a head")
    Split(seed=0, held_out_fraction=0.5, duplicate_distance=0.01, train_ids=[1, 4], held_out_ids=[3, 2]).save(
        split_path(head)
    )

    assert query_pool(["raw_pixels", "efficientnet_lite0"]) == QueryPool(None, "the whole catalogue")
    pool = query_pool(["raw_pixels", "efficientnet_lite0_catalogue"])
    assert pool.ids == [2, 3]
    assert pool.description == "the 2 products held out of the training of efficientnet_lite0_catalogue"


# --- vectors ---------------------------------------------------------------------------------------------------------


class CountingEncoder(RawPixelEncoder):
    def __init__(self) -> None:
        self.encoded = 0

    def encode(self, sources, batch_size=32):
        self.encoded += len(sources)
        return super().encode(sources, batch_size)


@pytest.mark.django_db
def test_computed_vectors_are_cached_by_image(tmp_path: Path):
    first, second = CountingEncoder(), CountingEncoder()

    computed = catalogue_vectors("raw_pixels", first, cache_dir=tmp_path, progress=False)
    cached = catalogue_vectors("raw_pixels", second, cache_dir=tmp_path, progress=False)

    images = set(Product.objects.exclude(image="").values_list("image_sha256", flat=True))
    assert first.encoded == len(images) and second.encoded == 0  # once per distinct image, then from the cache
    assert len(computed.ids) == Product.objects.exclude(image="").count() > len(images)
    assert computed.space is None and computed.vectors.shape == (len(computed.ids), 3600)
    np.testing.assert_array_equal(cached.vectors, computed.vectors)
    np.testing.assert_allclose(np.linalg.norm(computed.vectors, axis=1), 1.0, rtol=1e-5)
    catalogue = load_catalogue(computed.ids)
    assert catalogue.labels["article_type"].shape == computed.ids.shape


# --- the command ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_split_from_another_catalogue_is_refused_with_advice(tmp_path: Path, settings, fixture_photos_dir: Path):
    settings.EMBEDDING_WEIGHTS_DIR = tmp_path
    head = tmp_path / "efficientnet_lite0_catalogue.pt"
    head.write_bytes(b"a head")
    Split(seed=0, held_out_fraction=0.5, duplicate_distance=0.01, train_ids=[1], held_out_ids=[999999]).save(
        split_path(head)
    )

    with pytest.raises(CommandError, match=r"none of the 1 products held out .* --queries-from catalogue"):
        call_command(
            "evaluate_recommendations",
            models="raw_pixels,efficientnet_lite0_catalogue",
            photos=[fixture_photos_dir],
            out=tmp_path,
        )


@pytest.mark.dataset
@pytest.mark.django_db
def test_the_command_writes_the_report(embedded_catalogue: EmbeddingSpace, catalog_dir: Path, tmp_path: Path):
    """Raw pixels, the served model (its embedding space is complete) and a model whose weights may be missing,
    on the 3,000 products of the sample: enough for its figures to mean something."""
    out = tmp_path / "reports"
    served = embedded_catalogue.backbone

    call_command(
        "evaluate_recommendations",
        models=f"raw_pixels,{served},resnet18",
        queries="200",
        k="10,5",
        serving_queries=40,
        photos=[catalog_dir.parent / "fashion-product-images-hires"],
        out=out,
        cache_dir=tmp_path / "cache",
        verbosity=0,
    )

    results = json.loads((out / "evaluation.json").read_text())
    assert results["options"]["photos"] == len(SAMPLE_PHOTO_IDS)
    assert results["options"]["queries_from"] == query_pool(["raw_pixels", served, "resnet18"]).description
    models = results["models"]
    raw, tested = models["raw_pixels"], models[served]
    assert raw["status"] == tested["status"] == "ok"
    assert models["resnet18"]["status"] in {"ok", "unavailable"}
    assert models["resnet18"].get("reason", "x")
    for result in (raw, tested):
        for attribute in ATTRIBUTES:
            scores = result["leave_one_out"][attribute]
            assert {"precision@10", "recall@10", "map@10", "ndcg@10", "precision@5"} <= set(scores)
            assert 0 <= scores["recall@10"] <= scores["precision@10"] <= 1
        assert set(result["photo_search"]) == set(PERTURBATIONS)
    assert (
        raw["leave_one_out"]["article_type"]["precision@10"] < tested["leave_one_out"]["article_type"]["precision@10"]
    )

    assert tested["vectors"] == f"embedding space {embedded_catalogue.pk}"
    assert raw["index"] is None and raw["metadata_ranking"] is None
    assert tested["index"]["queries"] == 40 and tested["index"]["recall@10"] > 0.9
    assert tested["index"]["median_ms"] > 0
    assert set(tested["metadata_ranking"]["on"]["precision@10"]) == set(ATTRIBUTES)
    assert tested["photo_search"]["original"]["recall@1"] >= 0.8

    confused = tested["leave_one_out"]["article_type"]["confused"]
    assert confused and all(pair["share"] > 0 for pair in confused)
    assert 1 - tested["leave_one_out"]["article_type"]["precision@10"] >= sum(pair["share"] for pair in confused)

    markdown = (out / "evaluation.md").read_text()
    assert f"| {served} |" in markdown and "| raw_pixels |" in markdown
    assert f"- articleType: {' / '.join(confused[0]['values'])}" in markdown
    for chart in ("precision_by_attribute.png", "photo_recall.png", "metadata_ranking.png", "perturbations.png"):
        assert f"({chart})" in markdown
        assert Image.open(out / chart).format == "PNG"
