import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from recommendations.embedding.preprocessing import (
    ImageDecodeError,
    Preprocessor,
    fit_on_white_square,
    open_image,
    to_rgb_on_white,
)

WHITE = [255, 255, 255]


def encoded(image: Image.Image, format: str = "PNG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **params)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def images(fixture_catalog_dir: Path) -> Path:
    return fixture_catalog_dir / "images"


def test_transparent_rgba_pixels_become_white_and_half_transparent_ones_blend_with_white():
    image = Image.new("RGBA", (2, 1))
    image.putpixel((0, 0), (255, 0, 0, 0))
    image.putpixel((1, 0), (255, 0, 0, 128))

    pixels = np.asarray(to_rgb_on_white(image))

    assert pixels[0, 0].tolist() == WHITE
    assert pixels[0, 1].tolist() == pytest.approx([255, 127, 127], abs=1)


def test_transparent_la_pixels_become_white():
    image = Image.new("LA", (2, 1), (0, 255))
    image.putpixel((0, 0), (0, 0))

    pixels = np.asarray(to_rgb_on_white(image))

    assert pixels[0].tolist() == [WHITE, [0, 0, 0]]


def test_palette_image_with_a_transparent_index_gets_white_there():
    image = Image.new("P", (2, 1))
    image.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)  # index 0 black, index 1 blue
    image.putpixel((1, 0), 1)
    reopened = Image.open(io.BytesIO(encoded(image, transparency=0)))

    pixels = np.asarray(to_rgb_on_white(reopened))

    assert pixels[0].tolist() == [WHITE, [0, 0, 255]]


def test_cmyk_and_greyscale_become_rgb():
    cyan = Image.new("CMYK", (1, 1), (255, 0, 0, 0))
    grey = Image.new("L", (1, 1), 77)

    assert np.asarray(to_rgb_on_white(cyan))[0, 0].tolist() == [0, 255, 255]
    assert np.asarray(to_rgb_on_white(grey))[0, 0].tolist() == [77, 77, 77]


def test_16_bit_greyscale_is_scaled_not_clipped():
    levels = np.array([[0, 0x0100, 0x8000, 0xFFFF]], dtype=np.uint16)
    image = Image.open(io.BytesIO(encoded(Image.fromarray(levels))))
    assert image.mode == "I;16"

    pixels = np.asarray(to_rgb_on_white(image))

    assert pixels[0, :, 0].tolist() == [0, 1, 128, 255]


def test_portrait_image_is_padded_with_white_to_a_centred_square():
    square = np.asarray(fit_on_white_square(Image.new("RGB", (60, 80), (200, 0, 0)), 224))

    assert square.shape == (224, 224, 3)
    # 60x80 scales to 168x224: 28 white columns on each side, the photo fills every row.
    assert (square[:, :28] == 255).all() and (square[:, -28:] == 255).all()
    assert (square[:, 28:-28] == [200, 0, 0]).all()


def test_exif_orientation_is_applied():
    # Stored sideways: red on the left of a landscape image; orientation 6 means "rotate 90 degrees clockwise".
    stored = Image.new("RGB", (80, 40), "white")
    stored.paste((255, 0, 0), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6

    upright = open_image(encoded(stored, "JPEG", exif=exif.tobytes(), quality=95))

    assert upright.size == (40, 80)
    assert np.asarray(upright)[5, 20].tolist() == pytest.approx([255, 0, 0], abs=8)  # red now on top
    assert np.asarray(upright)[75, 20].tolist() == pytest.approx(WHITE, abs=8)


def test_full_size_jpeg_is_decoded_at_reduced_size(fixture_photos_dir: Path):
    path = fixture_photos_dir / "2217.jpg"
    full = open_image(path)

    reduced = open_image(path, min_size=224)

    assert full.size == (600, 800)
    assert reduced.size == (300, 400)  # 1/2 scale: both sides still >= 224 (at 1/4 they would not be)
    assert np.asarray(Preprocessor(224)(path)).shape == (224, 224, 3)


def test_catalogue_image_comes_out_square_uint8_with_white_margins(images: Path):
    pixels = Preprocessor(224)(images / "15970.jpg")

    assert pixels.shape == (224, 224, 3) and pixels.dtype == np.uint8
    assert (pixels[:, :28] == 255).all() and (pixels[:, -28:] == 255).all()
    assert pixels[:, 28:-28].mean() < 250  # the shirt itself


def test_path_bytes_file_and_pillow_sources_give_the_same_pixels(images: Path):
    path = images / "15970.jpg"
    preprocess = Preprocessor(224)

    from_path = preprocess(path)

    assert np.array_equal(from_path, preprocess(path.read_bytes()))
    with path.open("rb") as file:
        assert np.array_equal(from_path, preprocess(file))
    assert np.array_equal(from_path, preprocess(Image.open(path)))


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"not an image at all", "cannot identify image file"), (None, "No such file")],
)
def test_unreadable_sources_raise_image_decode_error_with_the_reason(tmp_path: Path, content, reason):
    path = tmp_path / "broken.jpg"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(ImageDecodeError, match=reason):
        Preprocessor(224)(path)


def test_truncated_jpeg_raises_image_decode_error(images: Path):
    data = (images / "15970.jpg").read_bytes()

    with pytest.raises(ImageDecodeError, match="truncated"):
        Preprocessor(224)(data[: len(data) // 2])
