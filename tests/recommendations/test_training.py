import io
from pathlib import Path

import numpy as np
import pytest
import torch
from django.core.management import CommandError, call_command

from recommendations.offline import backbones
from recommendations.offline.backbones import WeightsError, load_backbone
from recommendations.offline.catalogue import Catalogue, load_catalogue
from recommendations.offline.exact_search import nearest
from recommendations.offline.export import onnx_model
from recommendations.offline.metrics import label_precision
from recommendations.offline.perturbations import PERTURBATIONS
from recommendations.offline.runtimes import TorchRuntime
from recommendations.offline.training import features
from recommendations.offline.training.head import CatalogueHead, HeadConfig, SavedHead
from recommendations.offline.training.pipeline import TrainingSetup, train_embedding_model
from recommendations.offline.training.splits import Split, duplicate_groups, split_by_group, split_path
from recommendations.offline.training.train import TrainingOptions, train_head
from recommendations.offline.training.trunk import CutTrunk, TrunkCutError, cut_trunk, pooled
from shop.models import Product

TUNED = "efficientnet_lite0_catalogue"


@pytest.fixture(autouse=True)
def no_shipped_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the heads a test writes are found, never the one shipped in the repository."""
    monkeypatch.setattr(backbones, "SHIPPED_MODELS_DIR", tmp_path / "shipped")


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def test_split_keeps_duplicate_pictures_together_and_is_deterministic():
    rng = np.random.default_rng(0)
    vectors = unit(rng.normal(size=(400, 32)))
    vectors[1] = unit(vectors[0] + 0.01 * rng.normal(size=32))  # saved again: nearly the same picture
    vectors[2] = unit(vectors[1] + 0.01 * rng.normal(size=32))  # ...and again, near the copy only
    shas = [f"sha{i}" for i in range(400)]
    shas[10] = shas[11] = shas[12] = "same bytes"
    ids = np.arange(1000, 1400)

    groups = duplicate_groups(shas, vectors, max_distance=0.01)
    first = split_by_group(ids, groups, held_out_fraction=0.2, seed=3, duplicate_distance=0.01)
    again = split_by_group(ids, groups, held_out_fraction=0.2, seed=3, duplicate_distance=0.01)
    other_seed = split_by_group(ids, groups, held_out_fraction=0.2, seed=4, duplicate_distance=0.01)

    assert groups[0] == groups[1] == groups[2] and groups[10] == groups[11] == groups[12]
    assert len(set(groups.tolist())) == 400 - 4
    assert first == again and first != other_seed
    assert sorted(first.train_ids + first.held_out_ids) == ids.tolist()
    held_out = set(first.held_out_ids)
    for group in ([1000, 1001, 1002], [1010, 1011, 1012]):
        assert len({product_id in held_out for product_id in group}) == 1
    assert 0.1 < len(held_out) / 400 < 0.3


def test_reserved_products_and_their_copies_are_held_out(tmp_path: Path):
    ids = np.arange(100)
    groups = np.arange(100)
    groups[51] = 50  # a copy of the reserved product's picture

    split = split_by_group(
        ids, groups, held_out_fraction=0.0, seed=0, duplicate_distance=0.01, reserved_ids=frozenset({50})
    )
    split.save(tmp_path / "split.json")

    assert split.held_out_ids == [50, 51]
    assert Split.load(tmp_path / "split.json") == split


def save_head(
    folder: Path, trunk_version: str, *, seed: int = 0, trunk_state_dict: dict[str, torch.Tensor] | None = None
) -> Path:
    torch.manual_seed(seed)
    head = CatalogueHead(HeadConfig(hidden=64, dim=32, instance_dim=16)).eval()
    with torch.no_grad():  # running statistics other than the defaults, as after training
        head.project[0].running_mean.uniform_(0, 0.05)
    path = folder / backbones.get_spec(TUNED).file_name
    SavedHead(head.config, head.state_dict(), trunk_version, 192, trunk_state_dict or {}).save(path)
    return path


def catalogue_pixels(catalog_dir: Path, backbone: backbones.Backbone, count: int = 6) -> np.ndarray:
    return np.stack([backbone.preprocessor(path) for path in sorted((catalog_dir / "images").glob("*.jpg"))[:count]])


def test_trunk_cut_in_two_computes_what_the_whole_trunk_does(fixture_catalog_dir: Path):
    trunk = load_backbone("efficientnet_lite0", input_size=192)
    pixels = torch.from_numpy(catalogue_pixels(fixture_catalog_dir, trunk))
    with torch.inference_mode():
        whole = trunk.module(pixels).numpy()
    for tail_blocks in (1, 5):
        cut = cut_trunk(trunk, tail_blocks)
        with torch.inference_mode():
            maps = cut.front.module(pixels).numpy()

        assert maps.shape == ((6, 192, 6, 6) if tail_blocks == 1 else (6, 112, 12, 12))
        np.testing.assert_allclose(pooled(cut.tail, maps), whole, atol=1e-5)
        assert cut.front.version == f"{trunk.version}-front{16 - tail_blocks}"

    network_weights = trunk.module.network.state_dict()
    tail_weights = cut.tail.network_state_dict()
    blocks = {name.split(".")[1] for name in tail_weights if name.startswith("_blocks.")}
    assert blocks == {"11", "12", "13", "14", "15"}
    assert {"_conv_head.weight", "_bn1.running_var"} <= set(tail_weights)
    assert all(torch.equal(tensor, network_weights[name]) for name, tensor in tail_weights.items())
    with torch.no_grad():
        cut.tail.conv_head.weight.mul_(2)
    assert torch.equal(trunk.module.network._conv_head.weight, network_weights["_conv_head.weight"])


def test_only_an_efficientnet_trunk_is_cut_and_only_within_its_blocks():
    with pytest.raises(TrunkCutError, match="only EfficientNet trunks"):
        cut_trunk(backbones.untrained_backbone("resnet18"), 1)
    trunk = backbones.untrained_backbone("efficientnet_lite0")
    for tail_blocks in (0, 17):
        with pytest.raises(TrunkCutError, match="1 to 16 of efficientnet_lite0's blocks"):
            cut_trunk(trunk, tail_blocks)


def test_tuned_model_serves_the_trunk_weights_trained_with_its_head(tmp_path: Path, fixture_catalog_dir: Path):
    trunk = load_backbone("efficientnet_lite0", input_size=192)
    cut = cut_trunk(trunk, 1)
    with torch.no_grad():  # trained, and far from the ImageNet weights
        weight = cut.tail.conv_head.weight
        weight.copy_(torch.randn(weight.shape, generator=torch.Generator().manual_seed(0)) * weight.std())
    save_head(tmp_path / "tuned", trunk.version, trunk_state_dict=cut.tail.network_state_dict())
    save_head(tmp_path / "frozen", trunk.version)

    tuned = load_backbone(TUNED, weights_dir=tmp_path / "tuned")
    frozen = load_backbone(TUNED, weights_dir=tmp_path / "frozen")
    pixels = torch.from_numpy(catalogue_pixels(fixture_catalog_dir, trunk))
    head = SavedHead.load(tmp_path / "tuned" / backbones.get_spec(TUNED).file_name).head()
    with torch.inference_mode():
        expected = head(cut.tail(cut.front.module(pixels)), features.thumbnails(pixels)).numpy()
        served, untuned = tuned.module(pixels).numpy(), frozen.module(pixels).numpy()

    np.testing.assert_allclose(served, expected, atol=2e-3)  # the file holds the trunk's kernels in half precision
    assert np.abs(served - untuned).max() > 0.05
    assert tuned.version != frozen.version


def test_head_file_of_the_format_before_trunk_weights_still_loads(tmp_path: Path):
    trunk_version = load_backbone("efficientnet_lite0", input_size=192).version
    path = save_head(tmp_path, trunk_version)
    saved = torch.load(path, weights_only=True)
    del saved["trunk_state_dict"]
    torch.save({**saved, "format": 2}, path)

    assert load_backbone(TUNED, weights_dir=tmp_path).dim == 48


def test_trunk_weights_that_do_not_fit_the_trunk_are_refused(tmp_path: Path):
    trunk_version = load_backbone("efficientnet_lite0", input_size=192).version
    save_head(tmp_path / "a", trunk_version, trunk_state_dict={"_blocks.99._bn1.weight": torch.ones(8)})
    save_head(tmp_path / "b", trunk_version, trunk_state_dict={"_conv_head.weight": torch.ones(8, 3, 1, 1)})

    with pytest.raises(WeightsError, match=r"trunk weights that do not fit efficientnet_lite0.*_blocks\.99"):
        load_backbone(TUNED, weights_dir=tmp_path / "a")
    shapes = r"the trunk's _conv_head.weight is \(1280, 320, 1, 1\), the file's \(8, 3, 1, 1\)"
    with pytest.raises(WeightsError, match=f"do not fit efficientnet_lite0: {shapes}"):
        load_backbone(TUNED, weights_dir=tmp_path / "b")


def test_tuned_model_exports_to_onnx_and_agrees_with_torch(tmp_path: Path, fixture_catalog_dir: Path):
    trunk = load_backbone("efficientnet_lite0", input_size=192)
    save_head(tmp_path / "weights", trunk.version)

    tuned = load_backbone(TUNED, weights_dir=tmp_path / "weights")
    pixels = catalogue_pixels(fixture_catalog_dir, tuned)
    expected = TorchRuntime(tuned, channels_last=False)(pixels)
    exported = onnx_model(tuned, tmp_path / "onnx")(pixels)

    assert tuned.dim == 32 + 16 and expected.shape == (6, tuned.dim)
    cosine = (expected * exported).sum(1) / np.linalg.norm(expected, axis=1) / np.linalg.norm(exported, axis=1)
    assert cosine.min() > 0.999
    assert tuned.version.startswith(f"{TUNED}-") and tuned.version.endswith("-p1-192px-tflite")


def test_tuned_version_changes_with_the_head(tmp_path: Path):
    trunk_version = load_backbone("efficientnet_lite0", input_size=192).version
    save_head(tmp_path / "a", trunk_version, seed=0)
    save_head(tmp_path / "b", trunk_version, seed=1)

    assert (
        load_backbone(TUNED, weights_dir=tmp_path / "a").version
        != load_backbone(TUNED, weights_dir=tmp_path / "b").version
    )


def test_missing_head_file_gives_a_clear_error(tmp_path: Path):
    with pytest.raises(WeightsError) as raised:
        load_backbone(TUNED, weights_dir=tmp_path / "weights")

    message = str(raised.value)
    assert "train_embedding_model" in message
    assert str(tmp_path / "weights") in message and str(tmp_path / "shipped") in message


def test_head_trained_on_other_trunk_features_is_refused(tmp_path: Path):
    save_head(tmp_path, "efficientnet_lite0-000000000000-p1-192px-tflite")

    with pytest.raises(WeightsError, match="trained on the features of efficientnet_lite0-000000000000"):
        load_backbone(TUNED, weights_dir=tmp_path)


def test_a_file_that_is_not_a_head_gives_a_clear_error(tmp_path: Path):
    torch.save({"weight": torch.zeros(3)}, tmp_path / backbones.get_spec(TUNED).file_name)

    with pytest.raises(WeightsError, match="does not hold a efficientnet_lite0_catalogue head"):
        load_backbone(TUNED, weights_dir=tmp_path)


def small_catalogue(size: int) -> Catalogue:
    """Products of the catalogue's commonest article types, so that a few hundred are enough to learn from (45 of
    the fixture's 60 products, up to ``size`` of the sample's 3,000)."""
    catalogue = load_catalogue()
    types = catalogue.labels["article_type"]
    common = np.argsort(np.bincount(types[types >= 0]))[::-1][:8]
    positions = np.flatnonzero(np.isin(types, common))[:size]
    return catalogue.subset(positions)


def front_features(catalogue: Catalogue, onnx_dir: Path) -> tuple[CutTrunk, features.Features]:
    """The trunk cut before its last block, and its front's features of the catalogue's images."""
    cut = cut_trunk(load_backbone("efficientnet_lite0", input_size=192), 1)
    run = features.trunk_runner(cut.front, device="cpu", onnx_dir=onnx_dir)
    return cut, features.extract(catalogue.image, len(catalogue), backbone=cut.front, run=run, progress=False)


@pytest.mark.dataset
@pytest.mark.django_db
def test_short_training_improves_held_out_article_type_precision(tmp_path: Path):
    """Learning needs hundreds of products: 480 of the sample's commonest types, 30% of them held out."""
    catalogue = small_catalogue(480)
    cut, clean = front_features(catalogue, tmp_path)
    unit_trunk = unit(pooled(cut.tail, clean.maps))
    groups = duplicate_groups(catalogue.shas, unit_trunk, max_distance=0.01)
    split = split_by_group(catalogue.ids, groups, held_out_fraction=0.3, seed=0, duplicate_distance=0.01)
    held_out = np.flatnonzero(np.isin(catalogue.ids, split.held_out_ids))
    train = np.flatnonzero(~np.isin(catalogue.ids, split.held_out_ids))

    head = train_head(
        HeadConfig(hidden=256, dim=64, instance_dim=16),
        clean.take(train),
        [],
        {name: codes[train] for name, codes in catalogue.labels.items()},
        TrainingOptions(epochs=30, batch_size=64),
        tail=cut.tail,
        progress=False,
    ).head
    with torch.inference_mode():
        tuned = head(torch.from_numpy(unit_trunk), torch.from_numpy(clean.thumbnails)).numpy()

    def precision(vectors: np.ndarray) -> float:
        found = nearest(
            vectors[held_out], vectors[held_out], 10, groups=groups[held_out], query_groups=groups[held_out]
        )
        labels = catalogue.labels["article_type"][held_out]
        return label_precision(found, labels, labels, 10)

    assert precision(tuned) > precision(unit_trunk) + 0.03


@pytest.mark.django_db
def test_pipeline_writes_a_head_that_serves_and_reports_held_out_figures(tmp_path: Path):
    catalogue = small_catalogue(240)
    setup = TrainingSetup(
        model=TUNED,
        out_dir=tmp_path / "weights",
        feature_dir=tmp_path / "features",
        onnx_dir=tmp_path / "onnx",
        weights_dir=None,
        input_size=192,
        photo_dir=None,
        views=1,
        held_out_fraction=0.3,
        head=HeadConfig(hidden=64, dim=32, instance_dim=16),
        options=TrainingOptions(epochs=2, batch_size=64),
    )

    report = train_embedding_model(setup, catalogue, progress=False)
    said: list[str] = []
    again = train_embedding_model(setup, catalogue, progress=False, say=said.append)

    assert report.weights_file == tmp_path / "weights" / "efficientnet_lite0_catalogue.pt"
    assert backbones.find_head(backbones.get_spec(TUNED), weights_dir=tmp_path / "weights") == report.weights_file
    assert Split.load(split_path(report.weights_file)) == report.split == again.split
    assert again.version == load_backbone(TUNED, weights_dir=tmp_path / "weights").version
    assert sum(message.startswith("Reusing the") for message in said) == 3  # clean images, views, photo queries
    assert "held-out catalogue images" in report.photo_source
    assert set(report.tuned.precision) == {"article_type", "base_colour", "gender", "usage"}
    assert set(report.tuned.recall_by_perturbation) == set(PERTURBATIONS)
    assert all(0 <= value <= 1 for value in [*report.tuned.precision.values(), *report.trunk.recall.values()])


@pytest.mark.django_db
def test_training_the_tail_trains_a_copy_and_keeps_batch_norm_statistics(tmp_path: Path):
    catalogue = small_catalogue(128)
    cut, clean = front_features(catalogue, tmp_path)
    before = {name: tensor.clone() for name, tensor in cut.tail.state_dict().items()}
    # Several steps (the fixture's commonest types have 45 products): one step at OneCycle's starting rate may leave
    # a parameter unchanged.
    config, options = HeadConfig(hidden=64, dim=32, instance_dim=16), TrainingOptions(epochs=1, batch_size=16)

    tuned = train_head(config, clean, [], catalogue.labels, options, tail=cut.tail, tune_tail=True, progress=False)
    frozen = train_head(config, clean, [], catalogue.labels, options, tail=cut.tail, progress=False)

    changed = {name for name, tensor in tuned.tail.state_dict().items() if not torch.equal(tensor, before[name])}
    assert {"conv_head.weight", "blocks.0._project_conv.weight", "bn.bias"} <= changed
    assert not any("running_" in name for name in changed)
    for tail in (cut.tail, frozen.tail):
        assert all(torch.equal(tensor, before[name]) for name, tensor in tail.state_dict().items())


@pytest.mark.django_db
def test_command_refuses_a_tail_the_trunk_does_not_have(tmp_path: Path):
    # The command wants 100 products to train on before it looks at the trunk: the fixture's 60 and copies of them.
    copies = list(Product.objects.exclude(image="").order_by("pk")[: 100 - Product.objects.count()])
    for copy in copies:
        copy.pk, copy.name = None, f"Copy of {copy.name}"
    Product.objects.bulk_create(copies)
    options = ["--out", str(tmp_path / "weights"), "--cache", str(tmp_path / "cache")]
    with pytest.raises(CommandError, match="--tune-blocks must be 0"):
        call_command("train_embedding_model", "--tune-blocks", "-1", *options)
    with pytest.raises(CommandError, match="1 to 16 of efficientnet_lite0's blocks, not 17"):
        call_command("train_embedding_model", "--tune-blocks", "17", *options, stdout=io.StringIO())
    assert not (tmp_path / "weights").exists()
