"""Searched photos kept in the media storage (``SEARCH_PHOTO_KEEP_UPLOADS``)."""

import re
from pathlib import PurePath
from uuid import uuid4

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

UPLOADS_DIR = "photo-searches"
# Extensions of the formats search by photo accepts; any other name is stored without one.
EXTENSION_PATTERN = re.compile(r"\.(jpe?g|png|webp|gif|bmp|tiff?)", re.IGNORECASE)


def keep_search_photo(upload: UploadedFile) -> str:
    """Save a searched photo under ``photo-searches/<year>/<month>/<day>/``; returns its name in the storage.

    Call it once the photo has been accepted (``photos.open_photo``). The name is a random one: the
    shopper's file name is not kept, only its extension when it is one of an accepted format.
    """
    extension = PurePath(upload.name or "").suffix
    extension = extension.lower() if EXTENSION_PATTERN.fullmatch(extension) else ""
    name = f"{UPLOADS_DIR}/{timezone.now():%Y/%m/%d}/{uuid4().hex}{extension}"
    return default_storage.save(name, upload)
