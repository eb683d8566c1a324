"""Shoppers' photos for search by photo: checked before anything trusts them, cropped, and brought to
the level of detail of the catalogue's own images."""

import math
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from recommendations.embedding.preprocessing import WHITE, to_rgb_on_white

# What browsers and phones send (Pillow's JPEG reader also opens phones' multi-picture MPO files);
# anything else is refused by its content, never by its file name.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
# Where Pillow keeps what it reads an orientation from: EXIF (in hex in a PNG text chunk) and XMP.
ORIENTATION_INFO_KEYS = ("exif", "Raw profile type exif", "xmp", "XML:com.adobe.xmp")
# A crop smaller than this share of a side is a slip of the finger, not a selection.
MIN_CROP_SIDE = 0.02
# Where the parts of a photo searched lie, as (left, top) of the room they leave: the four corners and the middle.
PART_POSITIONS = ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 0.5))
# An unsharp mask of about one pixel at the catalogue's detail, where a soft photo has lost its edges.
SHARPEN = ImageFilter.UnsharpMask(radius=1, percent=150, threshold=0)


class PhotoError(ValueError):
    """A photo or a crop that cannot be searched with; the message is written for the shopper.

    ``field`` is the request field at fault: ``image`` for the photo, ``crop`` for the crop box.
    """

    def __init__(self, message: str, *, status: int = 400, field: str = "image") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Crop:
    """A box on the upright photo, in fractions of its width and height."""

    left: float
    top: float
    width: float
    height: float

    def __post_init__(self) -> None:
        for name in ("left", "top", "width", "height"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:  # also refuses NaN
                raise PhotoError(f"The crop's {name} must be between 0 and 1, not {value}.", field="crop")
        if self.width < MIN_CROP_SIDE or self.height < MIN_CROP_SIDE:
            raise PhotoError("The crop box is too small: select a larger part of the photo.", field="crop")
        if self.left + self.width > 1.0 + 1e-6 or self.top + self.height > 1.0 + 1e-6:
            raise PhotoError("The crop box goes beyond the photo.", field="crop")

    def apply(self, image: Image.Image) -> Image.Image:
        width, height = image.size
        box = (
            round(self.left * width),
            round(self.top * height),
            max(round((self.left + self.width) * width), round(self.left * width) + 1),
            max(round((self.top + self.height) * height), round(self.top * height) + 1),
        )
        return image.crop(box)


def open_photo(upload: BinaryIO, *, size: int | None = None) -> Image.Image:
    """Decode an uploaded photo upright, or raise ``PhotoError`` saying what is wrong with it.

    ``size`` is the upload's size in bytes when known (Django's ``UploadedFile.size``).
    """
    max_bytes = settings.SEARCH_PHOTO_MAX_BYTES
    if size is not None and size > max_bytes:
        raise PhotoError(
            f"The photo is {_megabytes(size)}; photos up to {_megabytes(max_bytes)} can be searched.", status=413
        )
    if size == 0:
        raise PhotoError("The file is empty.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse the whole range.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload, formats=ACCEPTED_FORMATS)
            _check_pixels(image)
            if image.format in {"JPEG", "MPO"}:
                # Decode at a reduced scale: a phone photo shrinks 8x for free, and the search needs little detail.
                image.draft("RGB" if image.mode == "RGB" else None, (_decode_size(), _decode_size()))
            image.load()
    except PhotoError:
        raise
    except UnidentifiedImageError as error:
        raise PhotoError(
            "This file is not a photo we can read. Upload a JPEG, PNG, WebP, GIF, BMP or TIFF image.", status=415
        ) from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PhotoError("The image has too many pixels to be a photo; upload a smaller one.", status=413) from error
    except Exception as error:  # Pillow's decoders raise OSError, SyntaxError, ValueError, struct.error...
        raise PhotoError(
            f"The photo could not be read: it is damaged or incomplete ({_reason(error)}). Try another file."
        ) from error
    return _upright(image)


def _upright(image: Image.Image) -> Image.Image:
    """The photo turned by its EXIF orientation (as it is stored when its EXIF cannot be read), without its
    orientation metadata: the query images cut from it would carry that to the encoder, which reads it again.

    Damaged EXIF is common (editors and messaging apps rewrite it) and says nothing about the pixels.
    """
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # Pillow's EXIF reader raises SyntaxError, ValueError, struct.error, OSError...
        image = image.copy()
    for key in ORIENTATION_INFO_KEYS:
        image.info.pop(key, None)
    return image


def query_images(image: Image.Image, crop: Crop | None = None) -> list[Image.Image]:
    """``query_image`` of the (cropped) photo, then of the variants of it that are searched too.

    A shopper's photo is seldom framed and focused like the catalogue's pictures. The product may fill only
    part of a busy picture: parts of the photo (``SEARCH_PHOTO_PARTS``) frame it. A close-up cuts it off and
    shows it larger than the catalogue does: the photo zoomed out on white (``SEARCH_PHOTO_ZOOM_OUTS``) puts it
    back at the catalogue's scale. A shaken or out-of-focus photo is soft: it is also searched sharpened
    (``SEARCH_PHOTO_SHARPEN``). The search takes, for each product, the best match of any of them
    (``SEARCH_PHOTO_PART_HANDICAP`` added to the variants' distances).
    """
    if crop is not None:
        image = crop.apply(image)
    image = _working_copy(to_rgb_on_white(image))
    whole = query_image(image)
    parts = [
        Crop(left=(1 - share) * x, top=(1 - share) * y, width=share, height=share)
        for share in settings.SEARCH_PHOTO_PARTS
        for x, y in PART_POSITIONS
    ]
    images = [whole, *(query_image(part.apply(image)) for part in parts)]
    images += [zoomed_out(image, factor) for factor in settings.SEARCH_PHOTO_ZOOM_OUTS]
    if settings.SEARCH_PHOTO_SHARPEN:
        images.append(whole.filter(SHARPEN))
    return images


def _working_copy(image: Image.Image) -> Image.Image:
    """The photo reduced once to twice the pixels that its smallest part needs: each variant is then reduced from
    that, not from the full decoded photo."""
    detail = settings.SEARCH_PHOTO_DETAIL
    if not detail:
        return image
    return _reduced(image, math.ceil(2 * detail / min([1.0, *settings.SEARCH_PHOTO_PARTS])))


def handicaps(count: int) -> list[float]:
    """What is added to the distances found by each of ``count`` query images, the whole photo's first."""
    return [0.0] + [settings.SEARCH_PHOTO_PART_HANDICAP] * (count - 1)


def query_image(image: Image.Image, crop: Crop | None = None) -> Image.Image:
    """The crop of an upright photo, as RGB on white, reduced to the detail of the catalogue's images.

    The catalogue's photos are about 60x80: a sharp full-size photo looks different to the model from
    the same product at that size, so queries are reduced the same way first (``SEARCH_PHOTO_DETAIL``).
    """
    if crop is not None:
        image = crop.apply(image)
    return _reduced(to_rgb_on_white(image), settings.SEARCH_PHOTO_DETAIL)


def zoomed_out(image: Image.Image, factor: float) -> Image.Image:
    """``query_image`` of the photo in the middle of a white canvas ``factor`` times its size."""
    detail = settings.SEARCH_PHOTO_DETAIL
    # Reduced before it is framed: the same pixels as framing the full-size photo, without resizing a canvas
    # several times its size.
    photo = _reduced(to_rgb_on_white(image), round(detail / factor) if detail else 0)
    canvas = Image.new("RGB", (round(photo.width * factor), round(photo.height * factor)), WHITE)
    canvas.paste(photo, ((canvas.width - photo.width) // 2, (canvas.height - photo.height) // 2))
    return canvas


def _reduced(image: Image.Image, longest: int) -> Image.Image:
    """Resized so that its longer side is at most ``longest`` pixels (0: as it is)."""
    if longest and max(image.size) > longest:
        scale = longest / max(image.size)
        image = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS
        )
    return image


def _check_pixels(image: Image.Image) -> None:
    width, height = image.size
    if width * height > settings.SEARCH_PHOTO_MAX_PIXELS:
        raise PhotoError(
            f"The image is {width}x{height} pixels; photos up to "
            f"{settings.SEARCH_PHOTO_MAX_PIXELS / 1e6:g} megapixels can be searched.",
            status=413,
        )


def _decode_size() -> int:
    # Enough pixels for the crop box to still leave the detail the search uses.
    return max(settings.SEARCH_PHOTO_DETAIL, 1) * 4 if settings.SEARCH_PHOTO_DETAIL else 1024


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _reason(error: Exception) -> str:
    return str(error).rstrip(".") or type(error).__name__
