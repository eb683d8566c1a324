"""Search by photo under hostile uploads (issue 19, part 6: "Bad input").

A seeded generator makes over a thousand hostile requests: random bytes, truncated and bit-flipped images,
decompression bombs, long animations, SVG and HTML, polyglots, empty and over-size files, hostile file names and
content types, odd but valid images, garbage EXIF, absurd crop boxes, `k` values and filters, and broken multipart
bodies. Each goes to the page (POST /search/photo/) and to the API (POST /api/search/photo/), through the whole
stack. Every answer must be a result, or a 4xx that says what is wrong: never a 5xx.

The multipart bodies are written here byte by byte, so that file names and content types can be as hostile as a
client can make them (Django's test client would clean them).
"""

import base64
import io
import random
import re
import struct
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image
from rest_framework.throttling import ScopedRateThrottle

from recommendations.embedding.encoder import Runtime
from recommendations.embedding.preprocessing import ImageDecodeError
from recommendations.vectors.encoders import get_encoder
from tests.catalogues import FIXTURE_CATALOG_DIR, FIXTURE_PHOTO_IDS, FIXTURE_PHOTOS_DIR

pytestmark = pytest.mark.django_db

PAGE_URL = reverse("recommendations:photo-search")
API_URL = reverse("api:photo-search")
SEED = 19_06
BOUNDARY = "lookalike-fuzz-boundary-7f3a"
KEPT_PHOTO = re.compile(r"photo-searches/\d{4}/\d{2}/\d{2}/[0-9a-f]{32}(\.(jpe?g|png|webp|gif|bmp|tiff?))?")
# One case in this many is embedded by the real model (see SwitchableRuntime).
REAL_MODEL_EVERY = 12
# Reflected anywhere in a page, these would run: the page must escape what it echoes.
SCRIPT_PAYLOAD = "<script>alert('lookalike-fuzz')</script>"
IMG_PAYLOAD = "<img src=x onerror=alert('lookalike-fuzz')>"
# What the API may name in an error: its fields, or `detail` for the photo itself.
API_ERROR_KEYS = {"image", "k", "crop", "crop_left", "crop_top", "crop_width", "crop_height", "detail"}
API_ERROR_KEYS |= {"gender", "master_category", "sub_category", "article_type", "base_colour", "season", "usage"}
API_ERROR_KEYS |= {"brand", "price_min", "price_max", "in_stock", "non_field_errors"}

HOSTILE_TEXTS = [
    "' OR 1=1 --",
    "1; DROP TABLE shop_product; --",
    "\x00",
    "%s%n{0}",
    "\u202egpj.exe",
    "e\u0301\u0301\u0301",
    SCRIPT_PAYLOAD,
    IMG_PAYLOAD,
    "x" * 10_000,
    "../../../../etc/passwd",
]


@dataclass(frozen=True)
class Hostile:
    """One hostile request: an upload (``content`` None: no file part) and the form fields sent with it."""

    kind: str
    label: str
    content: bytes | None
    filename: bytes = b"photo.jpg"
    content_type: bytes = b"image/jpeg"
    fields: tuple[tuple[str, bytes], ...] = ()
    # Not a photo that can be searched whatever the fields say: it must never get results.
    must_refuse: bool = False
    # Searched with SEARCH_PHOTO_KEEP_UPLOADS on: the photo is saved, under a name of the shop's.
    keep: bool = False
    # The multipart body as sent, when the case is the body itself (broken multipart).
    raw_body: bytes | None = None
    raw_content_type: str | None = None

    def body(self) -> tuple[bytes, str]:
        if self.raw_body is not None:
            return self.raw_body, self.raw_content_type or f"multipart/form-data; boundary={BOUNDARY}"
        parts = [field_part(name, value) for name, value in self.fields]
        if self.content is not None:
            parts.append(file_part(self.filename, self.content_type, self.content))
        body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
        return body, f"multipart/form-data; boundary={BOUNDARY}"

    @property
    def unparseable(self) -> bool:
        """Whether Django may refuse the body before any view reads it (a bare 400), as it refuses broken bodies
        and a part's headers over 1 KiB (``MAX_TOTAL_HEADER_SIZE``)."""
        return self.raw_body is not None or len(self.filename) + len(self.content_type) > 900

    @property
    def narrows(self) -> bool:
        """Whether the fields filter the results, which may then rightly be empty."""
        return any(name not in {"k", *CROP_NAMES} for name, _ in self.fields)


CROP_NAMES = ("crop_left", "crop_top", "crop_width", "crop_height")


def field_part(name: str, value: bytes) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"


def file_part(filename: bytes, content_type: bytes, content: bytes) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="'.encode()
    return head + filename + b'"\r\nContent-Type: ' + content_type + b"\r\n\r\n" + content + b"\r\n"


def as_fields(values: dict[str, object]) -> tuple[tuple[str, bytes], ...]:
    return tuple((name, value if isinstance(value, bytes) else str(value).encode()) for name, value in values.items())


# Images to start from


@cache
def source_images() -> tuple[Image.Image, ...]:
    """The catalogue's 60x80 images, then the fixture's 600x800 photos."""
    paths = sorted((FIXTURE_CATALOG_DIR / "images").glob("*.jpg")) + sorted(FIXTURE_PHOTOS_DIR.glob("*.jpg"))
    images = []
    for path in paths:
        with Image.open(path) as image:
            images.append(image.convert("RGB"))
    return tuple(images)


def source_index(rng: random.Random) -> int:
    """A catalogue image most of the time, a fixture photo sometimes."""
    photos = len(FIXTURE_PHOTO_IDS)
    count = len(source_images())
    return rng.randrange(count - photos, count) if rng.random() < 0.15 else rng.randrange(count - photos)


def small_source(rng: random.Random) -> Image.Image:
    return source_images()[source_index(rng)]


def encode(image: Image.Image, format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **params)
    return buffer.getvalue()


# (format label, file name, content type, encoder)
ENCODINGS: list[tuple[str, str, str, Callable[[Image.Image], bytes]]] = [
    ("jpeg", "photo.jpg", "image/jpeg", lambda image: encode(image, "JPEG", quality=85)),
    ("progressive jpeg", "photo.jpg", "image/jpeg", lambda image: encode(image, "JPEG", progressive=True)),
    ("png", "photo.png", "image/png", lambda image: encode(image, "PNG")),
    ("interlaced png", "photo.png", "image/png", lambda image: encode(image, "PNG", interlace=1)),
    ("webp", "photo.webp", "image/webp", lambda image: encode(image, "WEBP", quality=80)),
    ("lossless webp", "photo.webp", "image/webp", lambda image: encode(image, "WEBP", lossless=True)),
    ("gif", "photo.gif", "image/gif", lambda image: encode(image.convert("P"), "GIF")),
    ("bmp", "photo.bmp", "image/bmp", lambda image: encode(image, "BMP")),
    ("tiff", "photo.tiff", "image/tiff", lambda image: encode(image, "TIFF", compression="tiff_lzw")),
]


@cache
def encoded(source: int, encoding: int) -> bytes:
    return ENCODINGS[encoding][3](source_images()[source])


def random_encoded(rng: random.Random) -> tuple[str, str, str, bytes]:
    """(format label, file name, content type, bytes) of a source image in a random format."""
    source, encoding = source_index(rng), rng.randrange(len(ENCODINGS))
    label, name, content_type, _ = ENCODINGS[encoding]
    return label, name, content_type, encoded(source, encoding)


def valid_jpeg(rng: random.Random) -> bytes:
    """A catalogue image as a JPEG."""
    return encoded(rng.randrange(len(source_images()) - len(FIXTURE_PHOTO_IDS)), 0)


def photo_with_fields(kind: str, label: str, rng: random.Random, **fields: object) -> Hostile:
    return Hostile(kind, label, valid_jpeg(rng), fields=as_fields(fields))


# Hand-made containers: what Pillow would not write


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, *, bit_depth: int, colour_type: int, idat: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


@cache
def compressed_zeros(length: int) -> bytes:
    """A zlib stream of ``length`` zero bytes, built from one compressed megabyte repeated: a bomb in milliseconds.

    A full flush empties the compressor's window, so every megabyte compresses to the same bytes.
    """
    megabyte = 1 << 20
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(bytes(megabyte)) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.compress(bytes(length % megabyte)) + deflate.flush(zlib.Z_FINISH)
    adler32 = (length % 65521) << 16 | 1  # of zeros only
    return b"\x78\xda" + block * (length // megabyte) + tail + struct.pack(">I", adler32)


def png_bomb(width: int, height: int, *, complete: bool) -> bytes:
    """A 1-bit PNG declaring ``width`` x ``height``; ``complete``: with all its (zero) rows, else only a few."""
    rows = height if complete else 4
    return png(width, height, bit_depth=1, colour_type=0, idat=compressed_zeros(((width + 7) // 8 + 1) * rows))


def png_16_bit_rgb(width: int, height: int, rng: random.Random) -> bytes:
    rows = b"".join(b"\0" + rng.randbytes(width * 6) for _ in range(height))
    return png(width, height, bit_depth=16, colour_type=2, idat=zlib.compress(rows))


def jpeg_declaring(width: int, height: int, base: bytes) -> bytes:
    """A valid JPEG whose frame header (SOF) declares another size."""
    data = bytearray(base)
    at = 2
    while at < len(data) - 9:
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[at + 5 : at + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        at += 2 + length
    raise AssertionError("no SOF marker")


def gif_declaring(width: int, height: int, base: bytes) -> bytes:
    """A valid GIF whose logical screen declares another size."""
    return base[:6] + struct.pack("<HH", width, height) + base[10:]


def bmp_declaring(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    pixels = b"\0" * 64
    return b"BM" + struct.pack("<IHHI", 14 + len(info) + len(pixels), 0, 0, 14 + len(info)) + info + pixels


def tiff_declaring(width: int, height: int) -> bytes:
    """A little-endian baseline TIFF declaring ``width`` x ``height`` 8-bit grey, with a one-row strip."""
    data = b"\0" * 64
    entries = [
        (256, 4, 1, width),  # ImageWidth, LONG
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: black is zero
        (273, 4, 1, 0),  # StripOffsets, set below
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, len(data)),  # StripByteCounts
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    data_offset = 8 + ifd_size
    entries[5] = (273, 4, 1, data_offset)
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<H", value) + b"\0\0" if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    return b"II*\0" + struct.pack("<I", 8) + ifd + b"\0\0\0\0" + data


def webp_declaring(width: int, height: int, base: bytes) -> bytes:
    """A lossless WebP whose VP8L header declares another size (14 bits a side)."""
    at = base.index(b"VP8L") + 9  # chunk id, size, signature byte
    bits = struct.unpack("<I", base[at : at + 4])[0]
    bits = (bits & ~0xFFFFFFF) | ((width - 1) & 0x3FFF) | (((height - 1) & 0x3FFF) << 14)
    return base[:at] + struct.pack("<I", bits) + base[at + 4 :]


def exif_block(entries: list[tuple[int, int, int, bytes]], *, byte_order: bytes = b"II", ifd_at: int = 8) -> bytes:
    """TIFF-structured EXIF: a header and one IFD of (tag, type, count, 4 value bytes) entries."""
    endian = "<" if byte_order == b"II" else ">"
    ifd = struct.pack(f"{endian}H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack(f"{endian}HHI", tag, kind, count) + value.ljust(4, b"\0")[:4]
    return byte_order + struct.pack(f"{endian}H", 42) + struct.pack(f"{endian}I", ifd_at) + ifd + b"\0\0\0\0"


def jpeg_with_app1(base: bytes, payload: bytes) -> bytes:
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return base[:2] + segment + base[2:]


# The generator, one function per kind


def random_bytes(rng: random.Random, count: int) -> Iterator[Hostile]:
    sizes = [1, 2, 3, 8, 16, 64, 100, 512, 1024, 4096, 65_536, 300_000]
    names = [(b"photo.jpg", b"image/jpeg"), (b"photo.png", b"image/png"), (b"x.bin", b"application/octet-stream")]
    for index in range(count):
        size = sizes[index % len(sizes)]
        name, content_type = rng.choice(names)
        content = rng.randbytes(size)
        if index % 5 == 0:  # random bytes behind a real signature: what a sniffing reader would be fooled by
            content = (
                rng.choice([b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\0\0\0\0WEBPVP8 "]) + content
            )
        yield Hostile("random bytes", f"{size} random bytes as {name.decode()}", content, name, content_type)


def truncated(rng: random.Random, count: int) -> Iterator[Hostile]:
    for _ in range(count):
        label, name, content_type, content = random_encoded(rng)
        cut = rng.choice([rng.randrange(1, len(content)), len(content) - rng.randint(1, 16), rng.randint(1, 40)])
        cut = max(1, cut)
        yield Hostile(
            "truncated", f"{label} cut at {cut}/{len(content)}", content[:cut], name.encode(), content_type.encode()
        )


def bit_flipped(rng: random.Random, count: int) -> Iterator[Hostile]:
    for index in range(count):
        label, name, content_type, content = random_encoded(rng)
        flipped = bytearray(content)
        flips = rng.choice([1, 2, 8, 64])
        # A third in the header, where the sizes and tables are; the rest anywhere.
        span = min(len(flipped), 96) if index % 3 == 0 else len(flipped)
        for _ in range(flips):
            at = rng.randrange(span)
            flipped[at] ^= 1 << rng.randrange(8)
        yield Hostile(
            "bit-flipped", f"{label}, {flips} bits flipped", bytes(flipped), name.encode(), content_type.encode()
        )


def decompression_bombs(rng: random.Random, count: int) -> Iterator[Hostile]:
    gif = encoded(0, 6)
    webp = encoded(0, 5)
    builders: list[tuple[str, bool, Callable[[], bytes]]] = [
        # (label, refused whatever happens, bytes)
        ("png 50000x50000 complete", True, lambda: png_bomb(50_000, 50_000, complete=True)),
        ("png 50000x50000 header", True, lambda: png_bomb(50_000, 50_000, complete=False)),
        ("png 12000x12000 (Pillow's warning range)", True, lambda: png_bomb(12_000, 12_000, complete=False)),
        ("png 8000x8000 (over the shop's limit)", True, lambda: png_bomb(8000, 8000, complete=False)),
        ("png 1x60000000", True, lambda: png_bomb(1, 60_000_000, complete=False)),
        ("png 2^31-1 x 2^31-1", True, lambda: png_bomb(2**31 - 1, 2**31 - 1, complete=False)),
        ("png 7000x7000 complete (just under the limit)", False, lambda: png_bomb(7000, 7000, complete=True)),
        ("png 7000x7000 header only", False, lambda: png_bomb(7000, 7000, complete=False)),
        ("jpeg 65500x65500", True, lambda: jpeg_declaring(65_500, 65_500, valid_jpeg(rng))),
        ("jpeg 9000x9000", True, lambda: jpeg_declaring(9000, 9000, valid_jpeg(rng))),
        ("jpeg 7000x7000 (no data for it)", False, lambda: jpeg_declaring(7000, 7000, valid_jpeg(rng))),
        ("jpeg 0x0", True, lambda: jpeg_declaring(0, 0, valid_jpeg(rng))),
        ("gif 65535x65535", True, lambda: gif_declaring(65_535, 65_535, gif)),
        ("gif 7000x7000", False, lambda: gif_declaring(7000, 7000, gif)),
        ("bmp 100000x100000", True, lambda: bmp_declaring(100_000, 100_000)),
        ("bmp 100000x-100000 (top-down)", True, lambda: bmp_declaring(100_000, -100_000)),
        ("tiff 100000x100000", True, lambda: tiff_declaring(100_000, 100_000)),
        ("tiff 7000x7000 (no data for it)", False, lambda: tiff_declaring(7000, 7000)),
        ("webp 16384x16384", True, lambda: webp_declaring(16_384, 16_384, webp)),
    ]
    for index in range(count):
        label, refused, build = builders[index % len(builders)]
        yield Hostile("decompression bomb", label, build(), b"bomb.png", b"image/png", must_refuse=refused)


def animations(rng: random.Random, count: int) -> Iterator[Hostile]:
    formats = [
        ("GIF", b"anim.gif", b"image/gif"),
        ("PNG", b"anim.png", b"image/png"),
        ("WEBP", b"anim.webp", b"image/webp"),
    ]
    for index in range(count):
        frames_count = rng.choice([100, 200, 300])
        side = rng.choice([8, 16, 32])
        frames = [
            Image.new("RGB", (side, side), tuple(rng.randrange(256) for _ in range(3))) for _ in range(frames_count)
        ]
        format, name, content_type = formats[index % len(formats)]
        content = encode(frames[0], format, save_all=True, append_images=frames[1:], duration=10, loop=0)
        yield Hostile("animated", f"{format.lower()}, {frames_count} frames of {side}px", content, name, content_type)


def svg_and_html(rng: random.Random, count: int) -> Iterator[Hostile]:
    documents = [
        f'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">{SCRIPT_PAYLOAD}</svg>',
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>',
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        '<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><text>&lol2;</text></svg>',
        f"<!DOCTYPE html><html><body>{IMG_PAYLOAD}{SCRIPT_PAYLOAD}</body></html>",
        f"<html><head><meta http-equiv=refresh content='0;url=javascript:alert(1)'></head>{SCRIPT_PAYLOAD}</html>",
    ]
    names = [
        (b"photo.jpg", b"image/jpeg"),
        (b"photo.png", b"image/png"),
        (b"image.svg", b"image/svg+xml"),
        (b"page.html", b"text/html"),
        (b"photo.gif", b"text/html"),
        (b"photo.webp", b"image/svg+xml"),
    ]
    for index in range(count):
        document = documents[index % len(documents)]
        name, content_type = names[(index // len(documents)) % len(names)]
        content = (document * rng.choice([1, 1, 50])).encode()
        label = f"{'svg' if '<svg' in document else 'html'} as {name.decode()} ({content_type.decode()})"
        yield Hostile("svg and html", label, content, name, content_type, must_refuse=True)


def polyglots(rng: random.Random, count: int) -> Iterator[Hostile]:
    zip_file = b"PK\x03\x04" + rng.randbytes(200) + b"PK\x05\x06" + b"\0" * 18
    script = SCRIPT_PAYLOAD.encode()
    builders: list[tuple[str, bool, Callable[[], bytes]]] = [
        ("gif header + js", True, lambda: b"GIF89a/*\x00\x00\x00\x00*/=1;alert(1)//" + script),
        ("jpeg signature + html", True, lambda: b"\xff\xd8\xff\xe0" + script * 10),
        ("png signature + html", True, lambda: b"\x89PNG\r\n\x1a\n" + script * 10),
        ("html + jpeg", True, lambda: script + valid_jpeg(rng)),
        ("zip + jpeg", True, lambda: zip_file + valid_jpeg(rng)),
        ("pdf + jpeg", True, lambda: b"%PDF-1.4\n" + valid_jpeg(rng)),
        ("jpeg + appended zip", False, lambda: valid_jpeg(rng) + zip_file),
        ("jpeg + appended html", False, lambda: valid_jpeg(rng) + script),
        ("jpeg with html in a comment", False, lambda: jpeg_with_comment(valid_jpeg(rng), script)),
        ("png with html in tEXt", False, lambda: png_with_text(small_source(rng), script)),
        ("gif + appended js", False, lambda: encoded(rng.randrange(10), 6) + b";alert(1);" + script),
    ]
    names = [(b"photo.jpg", b"image/jpeg"), (b"photo.gif", b"image/gif"), (b"x.html", b"text/html")]
    for index in range(count):
        label, refused, build = builders[index % len(builders)]
        name, content_type = rng.choice(names)
        yield Hostile("polyglot", label, build(), name, content_type, must_refuse=refused)


def jpeg_with_comment(base: bytes, comment: bytes) -> bytes:
    return base[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + base[2:]


def png_with_text(image: Image.Image, text: bytes, *, key: bytes = b"Comment") -> bytes:
    content = encode(image, "PNG")
    chunk = png_chunk(b"tEXt", key + b"\0" + text)
    return content[:33] + chunk + content[33:]  # after the signature and IHDR


def empty_files(rng: random.Random, count: int) -> Iterator[Hostile]:
    names = [b"photo.jpg", b"", b"empty.png", b".jpg", b"x"]
    for index in range(count):
        name = names[index % len(names)]
        yield Hostile("empty", f"0 bytes named {name!r}", b"", name, rng.choice([b"image/jpeg", b""]), must_refuse=True)


def over_size(rng: random.Random, count: int) -> Iterator[Hostile]:
    limit = settings.SEARCH_PHOTO_MAX_BYTES
    for index in range(count - 1):
        head = [valid_jpeg(rng), b"\x89PNG\r\n\x1a\n", b""][index % 3]
        size = limit + rng.choice([1, 2, 1000])
        content = head + b"\0" * (size - len(head))
        yield Hostile("over-size", f"{size:,} bytes", content, must_refuse=True)
    # Exactly at the limit is allowed: a valid photo padded to it is searched.
    photo = encode(small_source(rng), "PNG")
    yield Hostile("over-size", f"{limit:,} bytes: a PNG padded to the limit", photo + b"\0" * (limit - len(photo)))


def hostile_names(rng: random.Random, count: int) -> Iterator[Hostile]:
    names = [
        b"photo\x00.jpg",
        b"photo.php\x00.jpg",
        b"photo.jpg%00.php",
        b"a" * 10_000 + b".jpg",
        b"../../../../etc/passwd",
        b"..\\..\\..\\windows\\win.ini.jpg",
        b"/etc/shadow",
        "\u202egpj.exe".encode(),
        "фото 写真 📷.jpg".encode(),
        b"\xff\xfe\xfd.jpg",  # not UTF-8
        b"\xed\xa0\x80.jpg",  # an encoded surrogate
        SCRIPT_PAYLOAD.encode() + b".jpg",
        b'quote".jpg',
        b"crlf.jpg\r\nContent-Type: text/html",
        b"%s%n%x{0}.jpg",
        b"con.jpg",
        b" ",
        b".",
    ]
    content_types = [
        b"image/jpeg",
        b"text/html",
        b"application/x-php",
        b"",
        b"image/svg+xml",
        b"\x00\x01\x02",
        b"image/jpeg; charset=" + b"x" * 5000,
        b"multipart/mixed; boundary=evil",
        SCRIPT_PAYLOAD.encode(),
    ]
    for index in range(count):
        name = names[index % len(names)]
        content_type = content_types[(index // len(names)) % len(content_types)]
        # Half of them a real photo, so that the name and the type are all that is hostile (and the photo is kept).
        content = valid_jpeg(rng) if index % 2 else rng.randbytes(300)
        label = f"name {name[:40]!r}, type {content_type[:40]!r}"
        yield Hostile("hostile name or type", label, content, name, content_type, keep=True)


def odd_images(rng: random.Random, count: int) -> Iterator[Hostile]:
    builders: list[tuple[str, str, Callable[[Image.Image], bytes]]] = [
        ("16-bit grey png", "png", lambda image: encode(sixteen_bit(image), "PNG")),
        ("16-bit rgb png", "png", lambda image: png_16_bit_rgb(24, 32, rng)),
        ("16-bit grey tiff", "tiff", lambda image: encode(sixteen_bit(image), "TIFF")),
        ("cmyk jpeg", "jpg", lambda image: encode(image.convert("CMYK"), "JPEG")),
        ("cmyk tiff", "tiff", lambda image: encode(image.convert("CMYK"), "TIFF")),
        ("palette + transparency png", "png", lambda image: encode(transparent_palette(image), "PNG")),
        ("palette + transparency gif", "gif", lambda image: encode(transparent_palette(image), "GIF")),
        ("fully transparent png", "png", lambda image: encode(Image.new("RGBA", image.size, (0, 0, 0, 0)), "PNG")),
        ("LA png", "png", lambda image: encode(image.convert("LA"), "PNG")),
        ("1-bit png", "png", lambda image: encode(image.convert("1"), "PNG")),
        ("1-bit tiff", "tiff", lambda image: encode(image.convert("1"), "TIFF")),
        ("32-bit int tiff", "tiff", lambda image: encode(image.convert("I"), "TIFF")),
        ("float tiff", "tiff", lambda image: encode(image.convert("F"), "TIFF")),
        ("float tiff of huge values", "tiff", lambda image: encode(Image.new("F", (20, 20), 3e38), "TIFF")),
        ("LAB tiff", "tiff", lambda image: encode(without_profile(image.convert("LAB")), "TIFF")),
        ("YCbCr jpeg tiff", "tiff", lambda image: encode(image, "TIFF", compression="jpeg")),
        ("multi-page tiff", "tiff", lambda image: encode(image, "TIFF", save_all=True, append_images=[image] * 3)),
        ("32-bit bmp", "bmp", lambda image: encode(image.convert("RGBA"), "BMP")),
        ("1x1 png", "png", lambda image: encode(image.resize((1, 1)), "PNG")),
        ("1x1 jpeg", "jpg", lambda image: encode(image.resize((1, 1)), "JPEG")),
        ("1x10000 png", "png", lambda image: encode(image.resize((1, 10_000)), "PNG")),
        ("10000x1 png", "png", lambda image: encode(image.resize((10_000, 1)), "PNG")),
        ("3x1 gif", "gif", lambda image: encode(image.resize((3, 1)).convert("P"), "GIF")),
        ("png with a garbage ICC profile", "png", lambda image: encode(image, "PNG", icc_profile=rng.randbytes(500))),
        ("jpeg with a garbage ICC profile", "jpg", lambda image: encode(image, "JPEG", icc_profile=rng.randbytes(500))),
        ("mpo (two frames)", "jpg", lambda image: encode(image, "MPO", save_all=True, append_images=[image])),
    ]
    for index in range(count):
        label, extension, build = builders[index % len(builders)]
        content = build(small_source(rng))
        yield Hostile(
            "odd but valid image", label, content, f"odd.{extension}".encode(), b"image/" + extension.encode()
        )


def sixteen_bit(image: Image.Image) -> Image.Image:
    return image.convert("L").point(lambda value: value * 257, "I").convert("I;16")


def without_profile(image: Image.Image) -> Image.Image:
    # Pillow's LAB profile carries the time it was made: the generator would differ from one second to the next.
    image.info.pop("icc_profile", None)
    return image


def transparent_palette(image: Image.Image) -> Image.Image:
    palette = image.convert("P")
    palette.info["transparency"] = 0
    return palette


def short(value: int) -> bytes:
    return struct.pack("<H", value)


def long(value: int) -> bytes:
    return struct.pack("<I", value)


def exif_garbage(rng: random.Random, count: int) -> Iterator[Hostile]:
    orientation = 0x0112
    blocks: list[tuple[str, bytes]] = [
        *(
            (f"orientation {value}", exif_block([(orientation, 3, 1, short(value))]))
            for value in (0, 5, 8, 9, 255, 65535)
        ),
        ("orientation as text", exif_block([(orientation, 2, 4, b"abc\0")])),
        ("orientation as a long", exif_block([(orientation, 4, 1, long(2**32 - 1))])),
        ("orientation of 1000 values beyond the end", exif_block([(orientation, 3, 1000, long(0xFFFF_FF00))])),
        ("orientation of unknown type", exif_block([(orientation, 99, 1, short(6))])),
        ("IFD beyond the block", exif_block([(orientation, 3, 1, short(6))], ifd_at=0xFFFF_FFF0)),
        ("IFD pointing to the header", exif_block([(orientation, 3, 1, short(6))], ifd_at=0)),
        ("exif IFD pointing to itself", exif_block([(0x8769, 4, 1, long(8)), (orientation, 3, 1, short(3))])),
        ("GPS IFD beyond the end", exif_block([(0x8825, 4, 1, long(0x7FFF_FFFF))])),
        ("65535 entries declared", b"II*\0" + long(8) + short(65535) + rng.randbytes(40)),
        ("bad byte order", b"XX*\0" + long(8) + rng.randbytes(30)),
        ("big-endian, orientation 6", exif_block([(orientation, 3, 1, struct.pack(">H", 6))], byte_order=b"MM")),
        ("truncated", exif_block([(orientation, 3, 1, short(6))])[:11]),
        ("random", rng.randbytes(200)),
    ]
    # PNG's other places for an orientation: EXIF in hex in a text chunk, and XMP.
    texts = [
        (b"Raw profile type exif", b"\nexif\n      10\nnot hex at all"),
        (b"Raw profile type exif", b"\nexif\n  9999\n" + b"49492a00" * 3),
        (b"XML:com.adobe.xmp", b"<tiff:Orientation>9</tiff:Orientation>"),
        (b"XML:com.adobe.xmp", b'tiff:Orientation="6"' + rng.randbytes(100)),
    ]
    for key, text in texts:
        content = png_with_text(small_source(rng), text, key=key)
        yield Hostile("garbage exif", f"png: {key.decode()} {text[:24]!r}", content, b"exif.png", b"image/png")
    for index in range(count - len(texts)):
        label, block = blocks[index % len(blocks)]
        container = index % 3
        image = small_source(rng)
        if container == 0:
            content, name = jpeg_with_app1(encode(image, "JPEG"), b"Exif\0\0" + block), b"exif.jpg"
        elif container == 1:
            content, name = encode(image, "PNG", exif=b"Exif\0\0" + block), b"exif.png"
        else:
            content, name = encode(image, "WEBP", exif=b"Exif\0\0" + block), b"exif.webp"
        yield Hostile("garbage exif", f"{name.decode()}: {label}", content, name, b"image/jpeg")


CROP_VALUES = [
    "nan", "NaN", "inf", "-inf", "Infinity", "-1", "2", "0", "1", "0.5", "0.25", "1e309", "-0", "1e-309",
    "5e-324", "", "abc", "0x1p-2", "1_0", " 0.5 ", "0,5", "½", "\u0661", "9" * 10_000, "0." + "1" * 10_000,
    "1e-400", "\x00", "0.5\x00", "%s", SCRIPT_PAYLOAD,
]  # fmt: skip


def absurd_crops(rng: random.Random, count: int) -> Iterator[Hostile]:
    for index in range(count):
        names = CROP_NAMES if index % 4 else rng.sample(CROP_NAMES, rng.randint(1, 3))  # some incomplete boxes
        crop = {name: rng.choice(CROP_VALUES) for name in names}
        if index % 10 == 0:  # a valid box now and then, so that the same path also answers results
            crop = {"crop_left": "0.1", "crop_top": "0", "crop_width": "0.5", "crop_height": rng.choice(["1", "0.9"])}
        label = ", ".join(f"{name}={value[:12]!r}" for name, value in crop.items())
        yield photo_with_fields("absurd crop", label, rng, **crop)


K_VALUES = [
    "0", "-1", str(10**9), "abc", "1e3", "", "1.0", "1.5", " 5 ", "NaN", "inf", str(10**30), "\u0663", "0x10",
    "5\x00", "9" * 10_000, "-0", "+5", "101", "100", "1", SCRIPT_PAYLOAD,
]  # fmt: skip


def absurd_k(rng: random.Random, count: int) -> Iterator[Hostile]:
    for index in range(count):
        k = K_VALUES[index % len(K_VALUES)]
        yield photo_with_fields("absurd k", f"k={k[:20]!r}", rng, k=k)


def hostile_filters(rng: random.Random, count: int) -> Iterator[Hostile]:
    names = ["gender", "master_category", "article_type", "brand", "in_stock", "price_min", "price_max", "unknown"]
    values: list[str | bytes] = [*HOSTILE_TEXTS, "1e309", "-1", "NaN", str(10**30), b"\xed\xa0\x80", b"\xff\xfe"]
    for _ in range(count):
        name = rng.choice(names)
        value = rng.choice(values)
        yield photo_with_fields("hostile filter", f"{name}={value[:20]!r}", rng, **{name: value})


def broken_multipart(rng: random.Random, count: int) -> Iterator[Hostile]:
    whole, content_type = Hostile("", "", valid_jpeg(rng), fields=as_fields({"k": 3})).body()
    bodies: list[tuple[str, bytes, str]] = [
        ("cut in the middle", whole[: len(whole) // 2], content_type),
        ("no closing boundary", whole[: -len(BOUNDARY) - 6], content_type),
        ("no boundary in the content type", whole, "multipart/form-data"),
        ("another boundary", whole, "multipart/form-data; boundary=nothing-like-it"),
        ("empty body", b"", content_type),
        ("random body", rng.randbytes(2000), content_type),
        ("a 100 kB header line", f"--{BOUNDARY}\r\nX-Junk: ".encode() + b"a" * 100_000 + b"\r\n\r\n", content_type),
        ("json", b'{"image": "' + b"A" * 100 + b'"}', "application/json"),
        ("url-encoded", b"image=photo.jpg&k=3", "application/x-www-form-urlencoded"),
        ("image as a plain field", field_part("image", b"not a file") + f"--{BOUNDARY}--\r\n".encode(), content_type),
        ("two photos", file_part(b"a.jpg", b"image/jpeg", valid_jpeg(rng)) + whole, content_type),
        ("1200 fields", b"".join(field_part(f"f{i}", b"1") for i in range(1200)) + whole, content_type),
        ("a 3 MB crop value", field_part("crop_left", b"1" * 3_000_000) + whole, content_type),
        ("a 200-character boundary", whole, "multipart/form-data; boundary=" + "b" * 200),
        ("the photo in base64", base64_part(base64.b64encode(valid_jpeg(rng))), content_type),
        ("the photo in broken base64", base64_part(b"!!not base64!!"), content_type),
    ]
    for index in range(count):
        label, body, declared = bodies[index % len(bodies)]
        refused = label not in {"two photos", "the photo in base64"}
        yield Hostile("broken multipart", label, None, must_refuse=refused, raw_body=body, raw_content_type=declared)


def base64_part(payload: bytes) -> bytes:
    """A multipart body of a file part declared in base64 (which Django's parser decodes), ``payload`` as sent."""
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\n'
    head += "Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    return head.encode() + payload + f"\r\n--{BOUNDARY}--\r\n".encode()


# Kinds and their numbers of cases: most cases that reach a search (and so take most of the time) are in the kinds
# that exist to reach one (odd images, EXIF, names, polyglots).
KINDS: list[tuple[Callable[[random.Random, int], Iterator[Hostile]], int]] = [
    (random_bytes, 200),
    (truncated, 200),
    (bit_flipped, 100),
    (decompression_bombs, 38),
    (animations, 12),
    (svg_and_html, 90),
    (polyglots, 44),
    (empty_files, 10),
    (over_size, 6),
    (hostile_names, 90),
    (odd_images, 52),
    (exif_garbage, 44),
    (absurd_crops, 200),
    (absurd_k, 44),
    (hostile_filters, 30),
    (broken_multipart, 32),
]


def hostile_uploads(seed: int = SEED) -> list[Hostile]:
    rng = random.Random(seed)
    return [case for generate, count in KINDS for case in generate(rng, count)]


# Judging the answers


@dataclass
class Tally:
    """The answers per endpoint and kind (2xx, 4xx, each 5xx status), the time they took, and what was wrong."""

    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    seconds: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def count(self, endpoint: str, case: Hostile, status: int, seconds: float) -> None:
        key = f"{endpoint} {case.kind}"
        self.statuses[key][str(status) if status >= 500 else f"{status // 100}xx"] += 1
        self.seconds[key] += seconds

    def table(self) -> str:
        return "\n".join(
            f"  {key}: {dict(sorted(counts.items()))} in {self.seconds[key]:.1f} s"
            for key, counts in sorted(self.statuses.items())
        )


def judge_api(case: Hostile, response: HttpResponse) -> str:
    """What is wrong with the API's answer; empty when nothing is."""
    status = response.status_code
    if status >= 500:
        return f"{status}: {exception_of(response)}"
    if status == 200:
        if case.must_refuse:
            return "200 for a file that is no photo"
        results = response.json().get("results")
        if not isinstance(results, list) or not (results or case.narrows):
            return f"200 without results: {response.content[:200]!r}"
        return ""
    if not 400 <= status < 500:
        return f"unexpected status {status}"
    if "json" not in response.get("Content-Type", ""):
        return "" if status == 400 and case.unparseable else f"{status} without a JSON body"
    body = response.json()
    if not isinstance(body, dict) or not body:
        return f"{status} without an error: {response.content[:200]!r}"
    unknown = set(body) - API_ERROR_KEYS
    if unknown:
        return f"{status} names no field: {sorted(unknown)}"
    if not all(readable(message) for message in body.values()):
        return f"{status} with an unreadable error: {body!r:.300}"
    return ""


def judge_page(case: Hostile, response: HttpResponse) -> str:
    """What is wrong with the page's answer; empty when nothing is."""
    status = response.status_code
    if status >= 500:
        return f"{status}: {exception_of(response)}"
    html = response.content.decode(errors="replace")
    if SCRIPT_PAYLOAD in html or IMG_PAYLOAD in html:
        return f"{status} reflects markup unescaped"
    if status == 200:
        if case.must_refuse:
            return "200 for a file that is no photo"
        context = response.context or {}
        results = context.get("results")
        if not isinstance(results, list) or not (results or case.narrows):
            return f"200 without results (unavailable: {context.get('unavailable')!r})"
        return ""
    if not 400 <= status < 500:
        return f"unexpected status {status}"
    if not response.context:
        # Django answered before the view ran: only for a body it cannot parse.
        return "" if status == 400 and case.unparseable else f"{status} without the page"
    errors = re.search(r'role="alert">(.*?)</div>', html, re.DOTALL)
    messages = re.findall(r"<li>(.*?)</li>", errors.group(1), re.DOTALL) if errors else []
    if not messages or not all(readable(message) for message in messages):
        return f"{status} without an error message on the form"
    return ""


def readable(message: object) -> bool:
    """A sentence for people: text, or a list of texts, of some words and no traceback."""
    if isinstance(message, list):
        return bool(message) and all(readable(item) for item in message)
    if isinstance(message, dict):
        return bool(message) and all(readable(item) for item in message.values())
    return isinstance(message, str) and len(message.split()) >= 2 and "Traceback" not in message


def exception_of(response: HttpResponse) -> str:
    info = getattr(response, "exc_info", None)
    return repr(info[1])[:300] if info else response.content[:200].decode(errors="replace")


class SwitchableRuntime:
    """The encoder's runtime: the real model, or a stand-in for it, as ``use_real`` says.

    The model sees only what the encoder's preprocessing makes of the query images, a fixed-size RGB array, however
    hostile the upload; and on a CPU it takes most of a search's time. So most cases are embedded by a stand-in,
    a fixed random projection of the same pixels: every other step (decoding, cropping, the variants, the
    preprocessing, the index search, the page) runs as in production.
    """

    def __init__(self, real: Runtime, dim: int) -> None:
        self.real = real
        self.name = getattr(real, "name", "real")
        self.dim = dim
        self.use_real = True
        self.real_batches = 0

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        if self.use_real:
            self.real_batches += 1
            return self.real(pixels)
        coarse = pixels[:, ::16, ::16, :].reshape(len(pixels), -1).astype(np.float32) + 1
        return coarse @ projection(coarse.shape[1], self.dim)


@cache
def projection(inputs: int, outputs: int) -> np.ndarray:
    return np.random.default_rng(SEED).standard_normal((inputs, outputs)).astype(np.float32)


@pytest.fixture
def model(embedded_catalogue, monkeypatch: pytest.MonkeyPatch) -> SwitchableRuntime:
    encoder = get_encoder(embedded_catalogue.backbone)
    runtime = SwitchableRuntime(encoder.runtime, encoder.dim)
    monkeypatch.setattr(encoder, "runtime", runtime)
    return runtime


@pytest.fixture
def unthrottled(monkeypatch: pytest.MonkeyPatch) -> None:
    """No photo-search throttling, for the page and the API alike: the fuzz sends a thousand searches a minute.

    DRF copies the rates from the settings when it is imported; a rate of None lets every request through.
    """
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "photo-search": None}
    )


def test_the_generator_is_deterministic_and_covers_every_kind() -> None:
    first, second = hostile_uploads(), hostile_uploads()

    assert [(case.kind, case.label, case.body()) for case in first] == [
        (case.kind, case.label, case.body()) for case in second
    ]
    assert len(first) >= 1000
    counts = Counter(case.kind for case in first)
    assert len(counts) == len(KINDS) and min(counts.values()) >= 5


def test_hostile_uploads_get_a_result_or_a_clear_4xx(model, unthrottled, tmp_path) -> None:
    cases = hostile_uploads()
    client = Client(raise_request_exception=False)
    tally = Tally()
    started = time.monotonic()

    with override_settings(MEDIA_ROOT=tmp_path):
        for index, case in enumerate(cases):
            body, content_type = case.body()
            model.use_real = index % REAL_MODEL_EVERY == 0
            for endpoint, url, judge in (("page", PAGE_URL, judge_page), ("api", API_URL, judge_api)):
                sent = time.monotonic()
                with override_settings(SEARCH_PHOTO_KEEP_UPLOADS=case.keep):
                    response = client.post(url, data=body, content_type=content_type)
                tally.count(endpoint, case, response.status_code, time.monotonic() - sent)
                problem = judge(case, response)
                if problem:
                    tally.problems.append(f"#{index} {endpoint} {case.kind} ({case.label}): {problem}")

    elapsed = time.monotonic() - started
    summary = f"{len(cases)} cases per endpoint in {elapsed:.0f} s, {model.real_batches} embedded by the real model\n"
    summary += tally.table()
    assert not tally.problems, f"{len(tally.problems)} bad answers:\n" + "\n".join(tally.problems[:40]) + f"\n{summary}"
    # The hostile names chose neither where the photos were kept nor their names.
    kept = [path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file()]
    assert kept and all(KEPT_PHOTO.fullmatch(name) for name in kept), kept
    print(summary)  # shown with -s: the counts of the last run


# What the fuzz found, on its own


@pytest.mark.parametrize("container", ["jpeg", "png", "webp"])
def test_a_photo_whose_exif_cannot_be_read_is_searched_as_stored(model, unthrottled, container) -> None:
    model.use_real = False
    exif = b"Exif\0\0XX*\0" + bytes(30)  # not a TIFF header: Pillow's EXIF reader raises SyntaxError
    image = source_images()[0]
    content = (
        jpeg_with_app1(encode(image, "JPEG"), exif) if container == "jpeg" else encode(image, container, exif=exif)
    )
    body, content_type = Hostile("exif", container, content).body()

    for url in (PAGE_URL, API_URL):
        response = Client().post(url, data=body, content_type=content_type)

        assert response.status_code == 200


class UnreadablePreprocessor:
    """The encoder's preprocessing, failing as it does on an image it cannot decode."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, source: object) -> np.ndarray:
        raise ImageDecodeError("cannot read image: broken")


def test_a_query_image_the_model_cannot_read_is_a_400_not_a_nan_vector(embedded_catalogue, monkeypatch) -> None:
    encoder = get_encoder(embedded_catalogue.backbone)
    monkeypatch.setattr(encoder, "preprocessor", UnreadablePreprocessor(encoder.preprocessor.size))
    body, content_type = Hostile("jpeg", "jpeg", encoded(0, 0)).body()

    response = Client().post(API_URL, data=body, content_type=content_type)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("The photo could not be read (cannot read image: broken)")
