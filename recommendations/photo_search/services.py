"""Search the catalogue with a shopper's photo: the one path the page and the API share."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image

from config.replicas import stale_reads_ok
from recommendations.models import EmbeddingSpace
from recommendations.vectors.encoders import get_encoder
from recommendations.vectors.neighbours import Scope
from recommendations.vectors.ranking import SimilarItem
from recommendations.vectors.selectors import catalogue_analysis, ranked_items, serving_space

from .photos import Crop, PhotoError, handicaps, open_photo, query_images
from .uploads import keep_search_photo

# Neighbours fetched per result, to leave room for duplicates.
POOL_FACTOR = 3
CROP_FIELDS = ("crop_left", "crop_top", "crop_width", "crop_height")
INCOMPLETE_CROP = "The crop box was incomplete: send all four of crop_left, crop_top, crop_width, crop_height or none."


class PhotoSearchUnavailable(Exception):
    """No embedding space can answer photos yet; the message is written for the shopper."""


@dataclass(frozen=True)
class PhotoSearch:
    """What a shopper asked: the uploaded file, the crop box's four sides (fractions, all or none) and filters."""

    upload: UploadedFile
    crop_sides: Sequence[float | None] = (None, None, None, None)
    scope: Scope = field(default_factory=Scope)
    k: int | None = None


def crop_from_sides(sides: Sequence[float | None]) -> Crop | None:
    """The crop box, or ``None`` for the whole photo; raises ``PhotoError`` (field ``crop``) when it is invalid."""
    if all(side is None for side in sides):
        return None
    if any(side is None for side in sides):
        raise PhotoError(INCOMPLETE_CROP, field="crop")
    return Crop(*sides)


def search_photo(search: PhotoSearch) -> list[SimilarItem]:
    """Check the photo and its crop, keep the photo when ``SEARCH_PHOTO_KEEP_UPLOADS`` says so, and search.

    Raises ``PhotoError`` (with the status and the message for the shopper) for a photo or a crop that cannot
    be searched, and ``PhotoSearchUnavailable`` while the catalogue is being analysed.
    """
    crop = crop_from_sides(search.crop_sides)
    photo = open_photo(search.upload, size=search.upload.size)
    space = photo_space()
    if settings.SEARCH_PHOTO_KEEP_UPLOADS:
        keep_search_photo(search.upload)
    return search_by_photo(photo, crop=crop, k=search.k, scope=search.scope, space=space)


def search_by_photo(
    image: Image.Image,
    *,
    crop: Crop | None = None,
    k: int | None = None,
    scope: Scope | None = None,
    space: EmbeddingSpace | None = None,
) -> list[SimilarItem]:
    """The products that look most like the (cropped) photo, best first, one card per duplicate group.

    Raises ``PhotoError`` when the model cannot read one of the query images cut from the photo.
    """
    space = space or photo_space()
    encoded = get_encoder(space.backbone).encode(query_images(image, crop))
    if encoded.errors:  # rows of NaN, which the index search would fail on
        reason = next(iter(encoded.errors.values()))
        raise PhotoError(f"The photo could not be read ({reason}). Try another file.")
    return photo_matches(encoded.vectors, space=space, k=k, scope=scope)


@stale_reads_ok()
def photo_matches(
    vectors: Sequence[Sequence[float]], *, space: EmbeddingSpace, k: int | None = None, scope: Scope | None = None
) -> list[SimilarItem]:
    """The ``k`` products that look most like a photo embedded in ``space``, best first.

    ``vectors`` are the whole photo's, then its variants' (``photos.query_images``).
    """
    k = k or settings.SIMILAR_ITEMS_COUNT
    queries = list(zip(vectors, handicaps(len(vectors)), strict=True))
    return ranked_items(
        space, queries, k=k, pool=k * POOL_FACTOR, scope=scope or Scope(), ef_search=settings.SEARCH_PHOTO_EF_SEARCH
    )


def photo_space() -> EmbeddingSpace:
    """The space that answers photos; raises ``PhotoSearchUnavailable`` until there is one this process computes."""
    space = serving_space()
    if space is None:
        analysis = catalogue_analysis()
        raise PhotoSearchUnavailable(
            f"Search by photo opens as soon as the catalogue's photos have been analysed ({analysis.percent}% done)."
        )
    if get_encoder(space.backbone).version != space.version:
        # The similar items still come from an older model version, which this process cannot compute.
        raise PhotoSearchUnavailable("Search by photo is back in a few minutes: the catalogue is being re-analysed.")
    return space
