"""Search the catalogue with a shopper's photo."""

from PIL import Image

from .models import EmbeddingSpace
from .neighbours import Scope
from .photos import Crop, query_images
from .ranking import SimilarItem
from .selectors import photo_matches, serving_space
from .services import get_encoder


class PhotoSearchUnavailable(Exception):
    """No embedding space can answer photos yet; the message is written for the shopper."""


def search_by_photo(
    image: Image.Image, *, crop: Crop | None = None, k: int | None = None, scope: Scope | None = None
) -> list[SimilarItem]:
    """The products that look most like the (cropped) photo, best first, one card per duplicate group."""
    space = _photo_space()
    vectors = get_encoder(space.backbone).encode(query_images(image, crop)).vectors
    return photo_matches(vectors, space=space, k=k, scope=scope)


def _photo_space() -> EmbeddingSpace:
    space = serving_space()
    if space is None:
        raise PhotoSearchUnavailable("Search by photo opens as soon as the catalogue's photos have been analysed.")
    if get_encoder(space.backbone).version != space.version:
        # The similar items still come from an older model version, which this process cannot compute.
        raise PhotoSearchUnavailable("Search by photo is back in a few minutes: the catalogue is being re-analysed.")
    return space
