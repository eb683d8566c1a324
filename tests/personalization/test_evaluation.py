"""The offline evaluation: metrics on hand-computed cases, the time-based split, the runner on a small synthetic
log with a planted preference, the report's files, and the command."""

import json
import math
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from scipy import sparse

from personalization.algorithms.base import Algorithm
from personalization.algorithms.popularity import Popularity, Random
from personalization.catalogue import ATTRIBUTES, CatalogueArrays
from personalization.evaluation import algorithms as registry
from personalization.evaluation import metrics
from personalization.evaluation.goals import check_goals
from personalization.evaluation.report import write_report
from personalization.evaluation.runner import (
    EvaluationConfig,
    evaluate_algorithm,
    planted_recovery,
    rank,
    run_evaluation,
)
from personalization.evaluation.split import interacted, split_last_session
from personalization.interactions import EventLog
from shop.models import Product

DAY = 86400.0

# ---------------------------------------------------------------------------------------------------- metrics


def test_ranking_metrics_on_a_hand_computed_list() -> None:
    # Listed 3, 1, 7, 2, 5; relevant 1, 2, 9: hits at ranks 2 and 4.
    relevant = sparse.csr_matrix(([1.0, 1.0, 1.0], ([0, 0, 0], [1, 2, 9])), shape=(1, 10))
    hit = metrics.hits(np.array([[3, 1, 7, 2, 5]]), relevant)
    assert hit.tolist() == [[False, True, False, True, False]]
    values = metrics.ranking_metrics(hit, np.array([3]), ks=(5,))
    assert values["precision@5"][0] == pytest.approx(2 / 5)
    assert values["recall@5"][0] == pytest.approx(2 / 3)
    assert values["f1@5"][0] == pytest.approx(2 * 0.4 * (2 / 3) / (0.4 + 2 / 3))
    assert values["map@5"][0] == pytest.approx((1 / 2 + 2 / 4) / 3)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert values["ndcg@5"][0] == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)
    assert values["hit_rate@5"][0] == 1.0


def test_ranking_metrics_at_several_cut_offs_normalise_by_the_smaller_of_k_and_relevant() -> None:
    # Four relevant products; hits at ranks 1 and 3 of 4 places.
    hit = np.array([[True, False, True, False], [False, False, False, False]])
    values = metrics.ranking_metrics(hit, np.array([4, 1]), ks=(2, 4))
    assert values["map@2"].tolist() == pytest.approx([(1 / 1) / 2, 0.0])
    assert values["map@4"].tolist() == pytest.approx([(1 + 2 / 3) / 4, 0.0])
    assert values["precision@2"].tolist() == pytest.approx([0.5, 0.0])
    assert values["recall@4"].tolist() == pytest.approx([0.5, 0.0])
    assert values["f1@4"].tolist() == pytest.approx([0.5, 0.0])
    assert values["ndcg@2"].tolist() == pytest.approx([1 / (1 + 1 / math.log2(3)), 0.0])
    assert values["hit_rate@2"].tolist() == [1.0, 0.0]


def test_top_k_ranks_best_first_leaves_out_seen_products_and_pads_what_cannot_be_ranked() -> None:
    scores = np.array([[0.1, 0.9, np.nan, 0.5, -np.inf, 0.5], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    seen = sparse.csr_matrix(([1.0, 1.0], ([0, 1], [1, 5])), shape=(2, 6))
    ranked = metrics.top_k(metrics.exclude(scores, seen), 5)
    # Equal scores (products 3 and 5) rank the lower code first; NaN and -inf are never listed.
    assert ranked.tolist() == [[3, 5, 0, -1, -1], [4, 3, 2, 1, 0]]


def test_a_padded_place_is_never_a_hit() -> None:
    relevant = sparse.csr_matrix(([1.0], ([0], [0])), shape=(1, 3))
    assert metrics.hits(np.array([[-1, 0]]), relevant).tolist() == [[False, True]]


def test_coverage_and_novelty() -> None:
    ranked = np.array([[0, 1, -1], [0, 2, 3]])
    assert metrics.coverage(ranked, 2, products=8) == pytest.approx(3 / 8)
    assert metrics.coverage(ranked, 3, products=8) == pytest.approx(4 / 8)
    # Training events: product 0 four times, product 1 twice; add-one smoothing over 4 products.
    share = metrics.popularity_share(np.array([0, 0, 0, 0, 1, 1]), 4)
    assert share.tolist() == pytest.approx([5 / 10, 3 / 10, 1 / 10, 1 / 10])
    expected = -(math.log2(0.5) * 2 + math.log2(0.3) + math.log2(0.1)) / 4
    assert metrics.novelty(ranked, 2, share) == pytest.approx(expected)


def test_planted_recovery_compares_the_lists_with_the_catalogue_base_rate() -> None:
    ranked = np.array([[0, 1, 2, 3], [0, 5, -1, -1]])
    result = planted_recovery(ranked, np.array([0, 1, 9]), products=10)
    assert result["share@10"] == pytest.approx(3 / 8)
    assert result["base_rate"] == pytest.approx(0.3)
    assert result["lift"] == pytest.approx(1.25)


# ---------------------------------------------------------------------------------------------------- synthetic data


def make_catalogue(products: int = 120, planted_every: int = 6, embeddings: bool = True) -> CatalogueArrays:
    colours = np.array(["Red" if code % planted_every == 0 else "Blue" for code in range(products)], dtype=object)
    attributes = {name: np.array([""] * products, dtype=object) for name in ATTRIBUTES}
    attributes["base_colour"] = colours
    attributes["article_type"] = np.array(["Dresses", "Shirts", "Jeans"] * (products // 3 + 1), dtype=object)[:products]
    attributes["gender"] = np.array(["Women"] * products, dtype=object)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(products, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return CatalogueArrays(
        product_ids=np.arange(1000, 1000 + products, dtype=np.int64),
        attributes=attributes,
        price=np.full(products, 20.0),
        in_stock=np.ones(products, dtype=bool),
        added=np.zeros(products),
        embeddings=vectors if embeddings else None,
    )


@dataclass(frozen=True)
class SyntheticHistory:
    log: EventLog
    planted_shoppers: np.ndarray
    planted_products: np.ndarray


def make_history(catalogue: CatalogueArrays, seed: int, shoppers: int = 80, sessions: int = 4) -> SyntheticHistory:
    """Sessions a day apart of four events each; half the shoppers view planted (red) products only."""
    rng = np.random.default_rng(seed)
    planted_products = np.flatnonzero(catalogue["base_colour"] == "Red")
    planted_shoppers = np.arange(0, shoppers, 2)
    rows = []
    for shopper in range(shoppers):
        pool = planted_products if shopper % 2 == 0 else np.arange(len(catalogue))
        for session in range(sessions):
            start = session * DAY + rng.uniform(0, 3600)
            for event in range(4):
                rows.append((shopper, int(rng.choice(pool)), int(rng.integers(0, 5)), start + 60 * event))
    shopper, product, kind, timestamp = (np.array(column) for column in zip(*rows, strict=True))
    log = EventLog(
        shopper=shopper.astype(np.int32),
        product=product.astype(np.int32),
        kind=kind.astype(np.int8),
        timestamp=timestamp.astype(np.float64),
        shopper_ids=np.array([f"s{code}" for code in range(shoppers)], dtype=object),
        product_ids=catalogue.product_ids,
        order=np.full(len(rows), -1, dtype=np.int64),
    )
    return SyntheticHistory(log, planted_shoppers, planted_products)


class PlantedOracle(Algorithm):
    """Knows the plant: planted products first for the planted shoppers, in a fixed random order."""

    name = "oracle"

    def __init__(self, planted_products: np.ndarray, planted_shoppers: np.ndarray) -> None:
        self.planted_products = planted_products
        self.planted_shoppers = planted_shoppers

    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> "PlantedOracle":
        self.base = np.random.default_rng(1).random(log.products, dtype=np.float32)
        return self

    def score(self, history: EventLog, shoppers: np.ndarray) -> np.ndarray:
        scores = np.broadcast_to(self.base, (len(shoppers), len(self.base))).copy()
        planted = np.isin(shoppers, self.planted_shoppers)
        scores[np.ix_(planted, self.planted_products)] += 10
        return scores


class Broken(Algorithm):
    name = "broken"

    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> "Broken":
        raise RuntimeError("no model")

    def score(self, history: EventLog, shoppers: np.ndarray) -> np.ndarray:
        raise AssertionError("never reached")


# ---------------------------------------------------------------------------------------------------- split


def test_the_split_holds_out_each_test_shoppers_last_session_and_leaks_nothing() -> None:
    catalogue = make_catalogue()
    log = make_history(catalogue, seed=0).log
    split = split_last_session(log, min_train_events=3)
    assert len(split.test_shoppers) > 40
    assert len(split.train) + split.held_out_events == len(log)
    train_seen = interacted(split.train, split.test_shoppers)
    for row, shopper in enumerate(split.test_shoppers):
        mine = log.shopper == shopper
        kept = split.train.shopper == shopper
        held_times = np.setdiff1d(log.timestamp[mine], split.train.timestamp[kept])
        # Every held-out event comes after every training event, and the held-out part is the last session.
        assert held_times.min() > split.train.timestamp[kept].max()
        assert held_times.min() >= 3 * DAY
        relevant = split.relevant[row].indices
        assert len(relevant) > 0
        assert not np.intersect1d(relevant, train_seen[row].indices).size
        assert set(relevant) <= set(log.product[mine & (log.timestamp >= held_times.min())])
    # Shoppers who are not tested keep their whole history.
    others = np.setdiff1d(np.unique(log.shopper), split.test_shoppers)
    assert np.isin(log.shopper, others).sum() == np.isin(split.train.shopper, others).sum()
    assert split.train.products == log.products and split.train.shoppers == log.shoppers


def test_the_split_tests_only_shoppers_with_enough_history_and_samples_them() -> None:
    rows = [
        ("a", 1, "view", 0.0),
        ("a", 2, "view", 60.0),
        ("a", 3, "view", 5 * DAY),  # a's last session: one new product
        ("b", 1, "view", 0.0),
        ("b", 4, "view", 5 * DAY),  # b has one training event only
        ("c", 1, "view", 0.0),
        ("c", 2, "view", 60.0),
        ("c", 2, "cart_add", 5 * DAY),  # c's last session brings nothing new
    ]
    log = EventLog.from_rows(rows, product_ids=[1, 2, 3, 4])
    split = split_last_session(log, min_train_events=2)
    assert split.train.shopper_ids[split.test_shoppers].tolist() == ["a"]
    assert split.relevant.toarray().tolist() == [[0, 0, 1, 0]]
    assert split.held_out_events == 1 and len(split.train) == len(log) - 1

    catalogue = make_catalogue()
    many = make_history(catalogue, seed=0).log
    sampled = split_last_session(many, max_test_shoppers=10, seed=3)
    assert len(sampled.test_shoppers) == 10
    assert len(sampled.train) == len(many) - sampled.held_out_events
    assert (
        sampled.test_shoppers.tolist() == split_last_session(many, max_test_shoppers=10, seed=3).test_shoppers.tolist()
    )


# ---------------------------------------------------------------------------------------------------- runner


def test_rank_scores_in_chunks_and_leaves_training_products_out() -> None:
    catalogue = make_catalogue()
    log = make_history(catalogue, seed=0).log
    popularity = Popularity().fit(log, catalogue)
    shoppers = np.arange(10, dtype=np.int32)
    chunked, _ = rank(popularity, log, shoppers, depth=20, chunk_size=3)
    whole, _ = rank(popularity, log, shoppers, depth=20, chunk_size=100)
    assert chunked.tolist() == whole.tolist()
    seen = interacted(log, shoppers)
    for row in range(len(shoppers)):
        assert not np.isin(chunked[row], seen[row].indices).any()


def test_the_runner_ranks_a_planted_perfect_algorithm_above_random_in_every_seed() -> None:
    catalogue = make_catalogue()
    histories = {seed: make_history(catalogue, seed) for seed in (0, 1)}
    current: dict[str, SyntheticHistory] = {}

    def history(seed: int) -> SyntheticHistory:
        current["history"] = histories[seed]
        return histories[seed]

    factories = {
        "oracle": lambda seed: PlantedOracle(current["history"].planted_products, current["history"].planted_shoppers),
        "random": lambda seed: Random(seed),
        "popularity": lambda seed: Popularity(),
    }
    config = EvaluationConfig(seeds=(0, 1), algorithms=tuple(factories), chunk_size=16)
    results = run_evaluation(catalogue, config, factories=factories, histories=history)
    assert results["errors"] == []
    summary = results["summary"]
    assert summary["oracle"]["map@10"]["mean"] > 2 * summary["random"]["map@10"]["mean"]
    ranks = results["ranks"]
    assert all(o < r for o, r in zip(ranks["oracle"], ranks["random"], strict=True)), ranks
    assert summary["oracle"]["planted_share@10"]["mean"] > 0.9  # fewer than 10 unseen planted products: padded
    assert summary["oracle"]["planted_lift"]["mean"] > 3
    assert summary["random"]["planted_lift"]["mean"] < summary["oracle"]["planted_lift"]["mean"] / 2
    assert summary["oracle"]["seeds"] == 2 and summary["oracle"]["stderr_map@10"]["mean"] > 0
    assert set(results["seeds"]) == {"0", "1"}
    assert results["seeds"]["0"]["data"]["test_shoppers"] == len(split_last_session(histories[0].log).test_shoppers)


def test_a_failing_algorithm_is_reported_not_skipped() -> None:
    catalogue = make_catalogue()
    split = split_last_session(make_history(catalogue, seed=0).log)
    assert evaluate_algorithm("broken", Broken(), split, catalogue) == {"error": "RuntimeError: no model"}
    factories = {"popularity": lambda seed: Popularity(), "broken": lambda seed: Broken()}
    config = EvaluationConfig(seeds=(0,), algorithms=tuple(factories))
    results = run_evaluation(
        catalogue, config, factories=factories, histories=lambda seed: make_history(catalogue, seed)
    )
    assert results["errors"] == ["seed 0, broken: RuntimeError: no model"]
    assert results["summary"]["broken"]["errors"] == 1
    assert results["ranks"]["broken"] == [None]
    assert not results["goals"][0]["passed"]


def test_goals() -> None:
    def summary(**values: float) -> dict:
        return {
            name: {"seeds": 1, "errors": 0, "map@10": {"mean": value, "std": 0.0}} for name, value in values.items()
        }

    met = check_goals(
        summary(popularity=0.01, random=0.001, als=0.02, item_knn=0.025, hybrid=0.031),
        ["popularity", "random", "als", "item_knn", "hybrid"],
    )
    assert [goal["passed"] for goal in met] == [True, True, True]
    missed = check_goals(
        summary(popularity=0.01, als=0.009, item_knn=0.03, hybrid=0.032), ["popularity", "als", "item_knn", "hybrid"]
    )
    assert [goal["passed"] for goal in missed] == [False, True, False]
    assert "not ahead: als" in missed[0]["detail"]
    without_hybrid = check_goals(summary(popularity=0.01, als=0.02), ["popularity", "als"])
    assert [goal["passed"] for goal in without_hybrid] == [True, False, False]
    assert "hybrid was not evaluated" in without_hybrid[1]["detail"]


# ---------------------------------------------------------------------------------------------------- registry


@pytest.mark.parametrize("name", list(registry.ALGORITHMS))
def test_every_registered_algorithm_ranks_the_whole_catalogue(name: str) -> None:
    catalogue = make_catalogue()
    log = make_history(catalogue, seed=0).log
    algorithm = registry.build(name, seed=0).fit(log, catalogue)
    shoppers = np.array([0, 1, 2], dtype=np.int32)
    scores = algorithm.score(log, shoppers)
    assert scores.shape == (3, len(catalogue))


def test_algorithms_that_take_a_seed_get_the_simulators() -> None:
    assert registry.build("random", seed=7).seed == 7
    assert registry.build("als", seed=3).seed == 3  # through ALS's **options to its base class


def test_an_unknown_algorithm_is_an_error() -> None:
    with pytest.raises(registry.AlgorithmUnavailable, match="Unknown algorithm 'nope'"):
        registry.check(["popularity", "nope"])


# ---------------------------------------------------------------------------------------------------- report


def test_the_report_files_are_written(tmp_path: Path) -> None:
    catalogue = make_catalogue()
    factories = {"popularity": lambda seed: Popularity(), "random": lambda seed: Random(seed)}
    config = EvaluationConfig(seeds=(0, 1), algorithms=tuple(factories))
    results = run_evaluation(
        catalogue, config, factories=factories, histories=lambda seed: make_history(catalogue, seed)
    )
    markdown = write_report(results, tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "README.md",
        "map_at_10.png",
        "planted_preference.png",
        "precision_recall.png",
        "results.json",
    ]
    assert (tmp_path / "README.md").read_text() == markdown
    assert "**The data is simulated.**" in markdown
    assert "✗ every personal strategy beats popularity on MAP@10: no personal strategy was evaluated" in markdown
    for k in (5, 10, 20):
        assert f"### k = {k}" in markdown and f"MAP@{k}" in markdown
    ranks = results["ranks"]
    assert f"| popularity | {ranks['popularity'][0]} | {ranks['popularity'][1]} | " in markdown
    assert "| mean place | s.e. |" in markdown and "standard error of MAP@10" in markdown
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["summary"]["popularity"]["map@10"]["mean"] == pytest.approx(
        results["summary"]["popularity"]["map@10"]["mean"], abs=1e-6
    )
    assert saved["machine"]["cpu"]
    assert (tmp_path / "map_at_10.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------------- command


def test_the_command_evaluates_on_the_fixture_catalogue(tmp_path: Path) -> None:
    out = StringIO()
    call_command(
        "evaluate_personalization",
        "--seeds=2",
        "--shoppers=150",
        "--weeks=6",
        "--algorithms=popularity,random,item_knn",
        "--plant=article_type=Tshirts,base_colour=Red",
        "--plant-share=0.2",
        f"--output={tmp_path}",
        verbosity=0,
        stdout=out,
    )
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["config"]["algorithms"] == ["popularity", "random", "item_knn"]
    assert set(results["seeds"]) == {"0", "1"}
    assert results["catalogue_products"] == Product.objects.count()
    assert results["simulation"]["plant"]["attributes"] == {"article_type": "Tshirts", "base_colour": "Red"}
    assert all(len(places) == 2 for places in results["ranks"].values())
    assert "| item_knn |" in out.getvalue() and "Report written to" in out.getvalue()
    assert (tmp_path / "README.md").is_file() and (tmp_path / "map_at_10.png").is_file()


def test_the_command_refuses_an_unknown_algorithm(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Unknown algorithm 'nope'"):
        call_command("evaluate_personalization", "--algorithms=popularity,nope", f"--output={tmp_path}", verbosity=0)
    assert not any(tmp_path.iterdir())
