"""Shoppers' photos: every kind of broken or hostile file gets a clear error, every real photo gets searched."""

import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.test import override_settings
from PIL import Image, ImageFilter

from recommendations.photo_search.photos import Crop, PhotoError, open_photo, query_image, query_images


def encode(image: Image.Image, format: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **params)
    return buffer.getvalue()


def upload(data: bytes) -> Image.Image:
    return open_photo(io.BytesIO(data), size=len(data))


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG header declaring a huge image with almost no data: a decompression bomb's opening."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def full_size_photo(fixture_photos_dir: Path) -> bytes:
    """A catalogue photo at its original size, 1800x2400 (the fixture keeps it downscaled), as a phone takes it."""
    with Image.open(fixture_photos_dir / "2217.jpg") as photo:
        return encode(photo.resize((1800, 2400), Image.Resampling.BICUBIC), "JPEG", quality=90)


def test_a_full_size_photo_is_decoded_reduced_and_upright(full_size_photo: bytes) -> None:
    original = Image.open(io.BytesIO(full_size_photo))

    image = upload(full_size_photo)

    assert image.mode == "RGB"
    # Decoded at a JPEG scale (1/2, 1/4 or 1/8), never below what the crop box and the search need.
    assert image.width < original.width and min(image.size) >= 4 * settings.SEARCH_PHOTO_DETAIL * 0.75
    assert image.width / image.height == pytest.approx(original.width / original.height, rel=0.01)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"", 400, "empty"),
        (b"just some text, named photo.jpg", 415, "not a photo we can read"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 200, 415, "not a photo we can read"),  # a JPEG signature, then nothing
        (b"%PDF-1.7\n" + b"x" * 500, 415, "not a photo we can read"),
    ],
    ids=["empty", "text", "jpeg-signature-only", "pdf"],
)
def test_files_that_are_not_photos_are_refused(data: bytes, status: int, message: str) -> None:
    with pytest.raises(PhotoError) as error:
        upload(data)
    assert error.value.status == status
    assert message in error.value.message


def test_an_image_format_browsers_do_not_send_is_refused() -> None:
    data = encode(Image.new("RGB", (40, 40), "red"), "PCX")
    assert Image.open(io.BytesIO(data)).format == "PCX"  # Pillow itself would read it

    with pytest.raises(PhotoError) as error:
        upload(data)

    assert error.value.status == 415
    assert "JPEG, PNG, WebP" in error.value.message


def test_a_truncated_photo_is_refused(full_size_photo: bytes) -> None:
    with pytest.raises(PhotoError) as error:
        upload(full_size_photo[: len(full_size_photo) // 2])
    assert error.value.status == 400
    assert "damaged or incomplete" in error.value.message


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise AssertionError("the file was read")

    with override_settings(SEARCH_PHOTO_MAX_BYTES=1_000_000), pytest.raises(PhotoError) as error:
        open_photo(Unreadable(), size=1_000_001)

    assert error.value.status == 413
    assert "1.0 MB" in error.value.message


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = png_header_only(60_000, 60_000)  # 3.6 gigapixels in 100 bytes
    assert len(bomb) < 200

    with pytest.raises(PhotoError) as error:
        upload(bomb)

    assert error.value.status == 413
    assert "too many pixels" in error.value.message


def test_an_image_over_the_pixel_limit_is_refused_with_its_size() -> None:
    with pytest.raises(PhotoError) as error:
        upload(png_header_only(9_000, 9_000))  # 81 MP: under Pillow's own limit, over ours (50 MP)
    assert error.value.status == 413
    assert "9000x9000" in error.value.message


def test_pillows_own_bomb_check_is_also_a_clear_error() -> None:
    bomb = png_header_only(12_000, 12_000)  # above Pillow's MAX_IMAGE_PIXELS (89 MP)
    with override_settings(SEARCH_PHOTO_MAX_PIXELS=10**12), pytest.raises(PhotoError) as error:
        upload(bomb)
    assert error.value.status == 413
    assert "too many pixels" in error.value.message


def test_cmyk_photos_are_searched_in_rgb(full_size_photo: bytes) -> None:
    cmyk = Image.open(io.BytesIO(full_size_photo)).convert("CMYK")
    image = upload(encode(cmyk, "JPEG", quality=90))

    query = query_image(image)

    assert image.mode == "CMYK"
    assert query.mode == "RGB"
    # The catalogue's photos are on white: the corner must stay (nearly) white, not turn black or inverted.
    assert min(query.getpixel((1, 1))) > 200


def test_16_bit_photos_keep_their_tones() -> None:
    ramp = np.tile(np.linspace(0, 65535, 256, dtype=np.uint16), (64, 1))
    image = upload(encode(Image.fromarray(ramp), "PNG"))

    query = np.asarray(query_image(image))

    assert image.mode.startswith("I")
    assert query[..., 0].min() < 10 and query[..., 0].max() > 245  # not clipped to white or black


def test_transparent_pngs_are_put_on_white() -> None:
    rgba = Image.new("RGBA", (120, 160), (0, 0, 0, 0))
    rgba.paste((200, 0, 0, 255), (30, 40, 90, 120))
    query = query_image(upload(encode(rgba, "PNG")))

    assert query.getpixel((0, 0)) == (255, 255, 255)
    red, green, blue = query.getpixel((query.width // 2, query.height // 2))
    assert red > 150 and green < 60 and blue < 60


def test_exif_orientation_is_applied() -> None:
    landscape = Image.new("RGB", (300, 200), "white")
    exif = landscape.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    image = upload(encode(landscape, "JPEG", exif=exif))
    assert image.size == (200, 300)


def test_the_first_frame_of_an_animation_is_searched() -> None:
    frames = [Image.new("RGB", (80, 80), colour) for colour in ("blue", "yellow")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])

    query = query_image(upload(buffer.getvalue()))

    red, green, blue = query.getpixel((40, 40))
    assert blue > 200 and red < 60 and green < 60


def test_photos_are_reduced_to_the_catalogues_level_of_detail(full_size_photo: bytes) -> None:
    image = upload(full_size_photo)

    assert max(query_image(image).size) == settings.SEARCH_PHOTO_DETAIL
    with override_settings(SEARCH_PHOTO_DETAIL=0):
        assert query_image(image).size == image.size


def test_the_crop_box_selects_part_of_the_upright_photo() -> None:
    image = Image.new("RGB", (400, 200), "white")
    image.paste((0, 0, 255), (200, 0, 400, 200))  # right half blue

    with override_settings(SEARCH_PHOTO_DETAIL=0):
        cropped = query_image(image, Crop(left=0.5, top=0.25, width=0.5, height=0.5))

    assert cropped.size == (200, 100)
    assert np.all(np.asarray(cropped) == (0, 0, 255))


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ((-0.1, 0, 0.5, 0.5), "between 0 and 1"),
        ((0, 0, 1.5, 0.5), "between 0 and 1"),
        ((0, 0, float("nan"), 0.5), "between 0 and 1"),
        ((0.6, 0, 0.5, 0.5), "beyond the photo"),
        ((0, 0, 0.001, 0.5), "too small"),
    ],
)
def test_impossible_crop_boxes_are_refused(box: tuple[float, ...], message: str) -> None:
    with pytest.raises(PhotoError) as error:
        Crop(*box)
    assert message in error.value.message
    assert error.value.status == 400


def test_a_photo_is_searched_whole_and_by_parts_each_at_the_catalogues_detail():
    image = Image.new("RGB", (1200, 1600), "white")
    image.paste((200, 30, 30), (0, 0, 300, 400))  # something red in the top left corner only

    with override_settings(SEARCH_PHOTO_PARTS=[0.8, 0.5], SEARCH_PHOTO_ZOOM_OUTS=[], SEARCH_PHOTO_SHARPEN=False):
        images = query_images(image, Crop(left=0.0, top=0.0, width=1.0, height=0.5))

    assert len(images) == 1 + 2 * 5  # per share: four corners and the middle
    # The whole (cropped) photo, reduced by way of a smaller working copy: the same picture within rounding.
    whole = np.asarray(query_image(image.crop((0, 0, 1200, 800))), dtype=int)
    assert images[0].size == (whole.shape[1], whole.shape[0])
    assert np.abs(np.asarray(images[0], dtype=int) - whole).mean() < 2
    assert all(max(part.size) == settings.SEARCH_PHOTO_DETAIL for part in images)
    # The half-size part at the top left holds the red square; the one at the bottom right does not.
    reddest = [np.asarray(part)[..., 1].min() for part in images]
    assert reddest[6] < 100 and reddest[9] > 200
    with override_settings(SEARCH_PHOTO_PARTS=[], SEARCH_PHOTO_ZOOM_OUTS=[], SEARCH_PHOTO_SHARPEN=False):
        assert len(query_images(image)) == 1


def test_a_close_up_is_also_searched_zoomed_out_to_the_catalogues_scale():
    close_up = Image.new("RGB", (900, 1200), (30, 60, 200))  # the product fills the whole frame

    with override_settings(SEARCH_PHOTO_PARTS=[], SEARCH_PHOTO_ZOOM_OUTS=[1.25, 2.0], SEARCH_PHOTO_SHARPEN=False):
        whole, zoomed_a_little, zoomed_twice = query_images(close_up)

    assert whole.size == (60, 80)
    assert zoomed_a_little.size == (60, 80) and zoomed_twice.size == (60, 80)
    for zoomed, factor in ((zoomed_a_little, 1.25), (zoomed_twice, 2.0)):
        product = np.argwhere(np.asarray(zoomed).min(axis=2) < 240)
        (top, left), (bottom, right) = product.min(axis=0), product.max(axis=0) + 1
        assert abs((bottom - top) - 80 / factor) <= 1 and abs((right - left) - 60 / factor) <= 1
        assert abs((top + bottom) / 2 - 40) <= 1 and abs((left + right) / 2 - 30) <= 1
    # Reduced before it is framed, the copy looks like the full-size photo framed and then reduced.
    framed = Image.new("RGB", (1800, 2400), "white")
    framed.paste(close_up, (450, 600))
    difference = np.abs(np.asarray(zoomed_twice, dtype=int) - np.asarray(query_image(framed), dtype=int))
    assert difference.mean() < 2


def test_a_soft_photo_is_also_searched_sharpened():
    photo = Image.new("RGB", (600, 800), "white")
    photo.paste((20, 20, 20), (150, 200, 450, 600))
    soft = photo.filter(ImageFilter.GaussianBlur(12))

    with override_settings(SEARCH_PHOTO_PARTS=[], SEARCH_PHOTO_ZOOM_OUTS=[], SEARCH_PHOTO_SHARPEN=True):
        whole, sharpened = query_images(soft)
    with override_settings(SEARCH_PHOTO_PARTS=[], SEARCH_PHOTO_ZOOM_OUTS=[], SEARCH_PHOTO_SHARPEN=False):
        assert len(query_images(soft)) == 1

    def edge_strength(image: Image.Image) -> float:
        return float(np.abs(np.diff(np.asarray(image.convert("L"), dtype=float), axis=1)).max())

    assert sharpened.size == whole.size
    assert edge_strength(sharpened) > 1.2 * edge_strength(whole)


def test_zoom_outs_smaller_than_the_photo_are_refused_at_start_up():
    environment = {**os.environ, "SEARCH_PHOTO_ZOOM_OUTS": "1.5,0.8"}
    started = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert started.returncode != 0
    assert "Each of SEARCH_PHOTO_ZOOM_OUTS (canvas size / photo size) must be 1 or more." in started.stderr
