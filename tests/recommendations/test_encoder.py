from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from recommendations.embedding.encoder import ImageEncoder
from recommendations.embedding.manifest import ModelFilesError, ModelManifest
from recommendations.offline.backbones import Backbone, load_backbone
from recommendations.offline.export import export_model
from recommendations.offline.runtimes import torch_encoder
from recommendations.vectors.encoders import get_encoder
from tests.catalogues import FIXTURE_PHOTO_IDS

# Full-size photos (downscaled) of fixture products of five article types: socks, T-shirt, sports shoe, top, flats.
HIRES_IDS = [str(product_id) for product_id in FIXTURE_PHOTO_IDS]


@pytest.fixture(scope="module")
def backbone() -> Backbone:
    return load_backbone("efficientnet_lite0", input_size=192)


@pytest.fixture(scope="module")
def manifest(backbone: Backbone, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model(backbone, tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def encoder(manifest: Path) -> ImageEncoder:
    return ImageEncoder.from_manifest(manifest)


@pytest.fixture(scope="module")
def images(fixture_catalog_dir: Path) -> Path:
    return fixture_catalog_dir / "images"


@pytest.fixture(scope="module")
def hires(fixture_photos_dir: Path) -> Path:
    return fixture_photos_dir


def test_catalogue_images_give_unit_vectors_of_the_model_dimension(encoder: ImageEncoder, images: Path):
    paths = sorted(images.glob("*.jpg"))[:40]

    result = encoder.encode(paths, batch_size=16)

    assert encoder.runtime.name == "onnx"
    assert result.vectors.shape == (40, 1280) and result.vectors.dtype == np.float32
    assert result.errors == {}
    assert np.linalg.norm(result.vectors, axis=1) == pytest.approx(np.ones(40), abs=1e-5)
    assert len(np.unique(result.vectors.round(4), axis=0)) == 40


def test_byte_identical_images_give_identical_vectors(encoder: ImageEncoder, images: Path):
    assert (images / "9667.jpg").read_bytes() == (images / "8783.jpg").read_bytes()

    vectors = encoder.encode([images / "9667.jpg", images / "15970.jpg", images / "8783.jpg"]).vectors

    assert np.array_equal(vectors[0], vectors[2])
    assert not np.array_equal(vectors[0], vectors[1])


def test_a_full_size_photo_is_closest_to_the_same_products_catalogue_image(
    encoder: ImageEncoder, images: Path, hires: Path
):
    # Among every catalogue image of the fixture (60 products, 13 of them T-shirts, shoes of four types).
    paths = sorted(images.glob("*.jpg"))
    photos = encoder.encode([hires / f"{id_}.jpg" for id_ in HIRES_IDS]).vectors
    catalogue = encoder.encode(paths).vectors

    similarity = photos @ catalogue.T

    assert [paths[i].stem for i in similarity.argmax(axis=1)] == HIRES_IDS


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


def test_fast_runtimes_agree_with_fp32_pytorch_eager(
    encoder: ImageEncoder, backbone: Backbone, images: Path, hires: Path
):
    paths = sorted(images.glob("*.jpg"))[40:56] + [hires / f"{id_}.jpg" for id_ in HIRES_IDS[:4]]
    reference = torch_encoder(backbone, channels_last=False)
    channels_last = torch_encoder(backbone)

    assert encoder.version == reference.version == backbone.version
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


def test_the_manifest_describes_the_export(encoder: ImageEncoder, backbone: Backbone, manifest: Path):
    described = ModelManifest.read(manifest)

    assert described.model == "efficientnet_lite0"
    assert described.version == backbone.version == encoder.version
    assert (described.dimensions, described.input_size, described.preprocessing) == (1280, 192, "p1-192px")
    assert described.normalisation.name == "tflite"
    assert described.onnx_path(manifest) == manifest.parent / "efficientnet_lite0.onnx"


def test_a_changed_model_file_is_refused_with_advice(manifest: Path, tmp_path: Path):
    copy = tmp_path / manifest.name
    copy.write_bytes(manifest.read_bytes())
    onnx = tmp_path / "efficientnet_lite0.onnx"
    onnx.write_bytes((manifest.parent / "efficientnet_lite0.onnx").read_bytes()[:-10])

    with pytest.raises(ModelFilesError, match=r"is not the file .* was exported with.*export_embedding_model"):
        ImageEncoder.from_manifest(copy)
    onnx.unlink()
    with pytest.raises(ModelFilesError, match="is missing"):
        ImageEncoder.from_manifest(copy)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda text: "not json", "not a readable model manifest"),
        (lambda text: text.replace('"format": 1', '"format": 9'), "format 9, not 1"),
        (lambda text: text.replace('"p1-192px"', '"p0-192px"'), "exported for preprocessing p0-192px"),
    ],
)
def test_an_unreadable_or_stale_manifest_is_refused_with_advice(manifest: Path, tmp_path: Path, edit, message):
    copy = tmp_path / manifest.name
    copy.write_text(edit(manifest.read_text()))

    with pytest.raises(ModelFilesError, match=message):
        ModelManifest.read(copy)


def test_the_shipped_export_is_the_shipped_model(images: Path):
    """The default model is served from the ONNX file in recommendations/weights/: it must be the export of the
    trained weights beside it (re-export with `export_embedding_model ... --out recommendations/weights`)."""
    served = get_encoder("efficientnet_lite0_catalogue")
    trained = torch_encoder(load_backbone("efficientnet_lite0_catalogue"))
    paths = sorted(images.glob("*.jpg"))[:24]

    assert served.version == trained.version
    assert np.sum(served.encode(paths).vectors * trained.encode(paths).vectors, axis=1).min() >= 0.9999
