from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from recommendations.encoder import ImageEncoder
from recommendations.runtimes import OnnxRuntime, TorchRuntime, create_runtime

# Hires photos of products of ten different article types (dress, T-shirt, sports shoe, football...).
HIRES_IDS = ["10016", "1534", "1831", "1550", "1554", "1648", "2670", "2870", "2217", "1997"]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def encoder(onnx_cache: Path) -> ImageEncoder:
    return ImageEncoder.load("efficientnet_lite0", "auto", cache_dir=onnx_cache)


@pytest.fixture(scope="module")
def images(catalog_dir: Path) -> Path:
    return catalog_dir / "images"


@pytest.fixture(scope="module")
def hires(catalog_dir: Path) -> Path:
    return catalog_dir.parent / "fashion-product-images-hires"


def test_catalogue_images_give_unit_vectors_of_the_model_dimension(encoder: ImageEncoder, images: Path):
    paths = sorted(images.glob("*.jpg"))[:40]

    result = encoder.encode(paths, batch_size=16)

    assert encoder.runtime.name == "onnx"
    assert result.vectors.shape == (40, 1280) and result.vectors.dtype == np.float32
    assert result.errors == {}
    assert np.linalg.norm(result.vectors, axis=1) == pytest.approx(np.ones(40), abs=1e-5)
    assert len(np.unique(result.vectors.round(4), axis=0)) == 40


def test_byte_identical_images_give_identical_vectors(encoder: ImageEncoder, images: Path):
    assert (images / "10184.jpg").read_bytes() == (images / "10185.jpg").read_bytes()

    vectors = encoder.encode([images / "10184.jpg", images / "15970.jpg", images / "10185.jpg"]).vectors

    assert np.array_equal(vectors[0], vectors[2])
    assert not np.array_equal(vectors[0], vectors[1])


def test_a_full_size_photo_is_closest_to_the_same_products_catalogue_image(
    encoder: ImageEncoder, images: Path, hires: Path
):
    photos = encoder.encode([hires / f"{id_}.jpg" for id_ in HIRES_IDS]).vectors
    catalogue = encoder.encode([images / f"{id_}.jpg" for id_ in HIRES_IDS]).vectors

    similarity = photos @ catalogue.T

    assert similarity.argmax(axis=1).tolist() == list(range(len(HIRES_IDS)))


def test_a_broken_image_gives_an_error_item_and_the_others_succeed(encoder: ImageEncoder, images: Path, tmp_path: Path):
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"\xff\xd8 this is not a JPEG")
    truncated = (images / "15970.jpg").read_bytes()[:500]
    good = [images / "15970.jpg", images / "39386.jpg"]

    result = encoder.encode([good[0], garbage, tmp_path / "missing.jpg", truncated, good[1]], batch_size=2)

    assert set(result.errors) == {1, 2, 3}
    assert all(reason.startswith("cannot read image: ") for reason in result.errors.values())
    assert "No such file" in result.errors[2]
    assert result.ok.tolist() == [True, False, False, False, True]
    assert np.isnan(result.vectors[~result.ok]).all()
    np.testing.assert_allclose(result.vectors[result.ok], encoder.encode(good).vectors, atol=1e-6)


def test_fast_runtimes_agree_with_fp32_pytorch_eager(encoder: ImageEncoder, images: Path, hires: Path):
    paths = sorted(images.glob("*.jpg"))[100:116] + [hires / f"{id_}.jpg" for id_ in HIRES_IDS[:4]]
    reference = ImageEncoder(encoder.backbone, TorchRuntime(encoder.backbone, channels_last=False))
    channels_last = ImageEncoder(encoder.backbone, TorchRuntime(encoder.backbone))

    expected = reference.encode(paths).vectors

    assert np.sum(encoder.encode(paths).vectors * expected, axis=1).min() >= 0.999
    assert np.sum(channels_last.encode(paths).vectors * expected, axis=1).min() >= 0.999


def test_encode_one_accepts_an_upload_and_matches_encode(encoder: ImageEncoder, images: Path):
    path = images / "15970.jpg"

    with path.open("rb") as upload:
        vector = encoder.encode_one(upload)

    assert vector.shape == (1280,)
    np.testing.assert_allclose(vector, encoder.encode([path]).vectors[0], atol=1e-6)
    np.testing.assert_allclose(vector, encoder.encode_one(Image.open(path)), atol=1e-6)


def test_onnx_export_is_cached_under_the_model_version(encoder: ImageEncoder, onnx_cache: Path):
    exported = onnx_cache / f"{encoder.version}.onnx"
    modified = exported.stat().st_mtime_ns

    OnnxRuntime(encoder.backbone, cache_dir=onnx_cache)

    assert [path.name for path in onnx_cache.iterdir()] == [exported.name]
    assert exported.stat().st_mtime_ns == modified


def test_runtime_choice(encoder: ImageEncoder):
    assert create_runtime("auto", encoder.backbone).name == "torch"
    assert create_runtime("torch-bf16", encoder.backbone).name == "torch-bf16"
    with pytest.raises(ValueError, match="choose one of auto, onnx"):
        create_runtime("tensorrt", encoder.backbone)
