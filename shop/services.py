"""Writes to the catalogue."""

import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from PIL import Image, UnidentifiedImageError

from .catalog_csv import COLUMNS, CatalogRow, RowProblem, parse_styles_csv
from .models import Product
from .signals import product_images_changed

DATA_FIELDS = [name for name in COLUMNS.values() if name != "id"]
IMAGE_FIELDS = ["image", "image_width", "image_height", "image_sha256"]
WRITE_BATCH_SIZE = 2000


class CatalogImportError(Exception):
    """Nothing could be imported."""


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    images_written: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, kind: str) -> int:
        return sum(1 for problem in self.problems if problem.kind == kind)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class _StoredProduct:
    values: tuple
    image: str
    image_sha256: str


@dataclass(frozen=True)
class _SourceImage:
    data: bytes
    sha256: str


def _read_image(path: Path, row: CatalogRow) -> tuple[_SourceImage | None, RowProblem | None]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, RowProblem(row.line, row.id, "no image", f"{path.name} not found; imported without image")
    return _SourceImage(data, hashlib.sha256(data).hexdigest()), None


def _image_size(source: _SourceImage) -> tuple[int, int]:
    """Check that the bytes are an image Pillow can read; raise ``OSError`` if not."""
    try:
        with Image.open(io.BytesIO(source.data)) as image:
            image.verify()
            return image.size
    except (UnidentifiedImageError, SyntaxError) as error:
        raise OSError(str(error)) from error


def _stored_products(ids: list[int]) -> dict[int, _StoredProduct]:
    stored: dict[int, _StoredProduct] = {}
    for start in range(0, len(ids), 10_000):
        chunk = ids[start : start + 10_000]
        for pk, *values, image, sha in Product.objects.filter(pk__in=chunk).values_list(
            "pk", *DATA_FIELDS, "image", "image_sha256"
        ):
            stored[pk] = _StoredProduct(tuple(values), image, sha)
    return stored


def _image_name(product_id: int, sha256: str) -> str:
    # Content-addressed, so a changed image gets a new URL and browsers never show a stale one.
    return f"products/{product_id}-{sha256[:12]}.jpg"


def _store_image(product_id: int, source: _SourceImage) -> tuple[str, bool]:
    name = _image_name(product_id, source.sha256)
    if default_storage.exists(name):
        return name, False
    return default_storage.save(name, ContentFile(source.data)), True


def _reset_id_sequence() -> None:
    # Products were inserted with explicit ids; products created later in the admin continue after them.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) FROM shop_product",
            [Product._meta.db_table],
        )


def import_catalog(
    dataset_dir: Path,
    *,
    limit: int | None = None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Create or update products from Kaggle's layout (``styles.csv`` + ``images/<id>.jpg``).

    Re-running updates in place: unchanged rows are not written, a changed image
    is stored under a new name and the old file removed once the change commits.
    """
    started = time.perf_counter()
    parsed = parse_styles_csv(dataset_dir / "styles.csv")
    rows = parsed.rows[:limit] if limit is not None else parsed.rows
    summary = ImportSummary(problems=list(parsed.problems))
    if limit is not None:
        kept = {row.id for row in rows}
        summary.problems = [p for p in summary.problems if p.product_id is None or p.product_id in kept]
    if not rows:
        raise CatalogImportError(f"No product could be read from {dataset_dir / 'styles.csv'}.")

    stored = _stored_products([row.id for row in rows])
    images_dir = dataset_dir / "images"
    to_write: list[Product] = []
    replaced_images: list[str] = []
    if on_start:
        on_start(len(rows))

    for index, row in enumerate(rows, start=1):
        values = tuple(row.values[name] for name in DATA_FIELDS)
        previous = stored.get(row.id)
        source, problem = _read_image(images_dir / f"{row.id}.jpg", row)
        product = Product(pk=row.id, **row.values)
        image_changed = False
        if source is not None and (previous is None or previous.image_sha256 != source.sha256):
            try:
                product.image_width, product.image_height = _image_size(source)
            except OSError as error:
                problem = RowProblem(row.line, row.id, "unreadable image", f"{row.id}.jpg: {error}; image not used")
            else:
                product.image, written = _store_image(row.id, source)
                product.image_sha256 = source.sha256
                summary.images_written += written
                if previous is not None and previous.image and previous.image != product.image.name:
                    replaced_images.append(previous.image)
                image_changed = True
        if problem:
            summary.problems.append(problem)

        if previous is None:
            summary.created += 1
            to_write.append(product)
        elif image_changed or previous.values != values:
            summary.updated += 1
            to_write.append(product)
        else:
            summary.unchanged += 1
        if on_progress and (index % 500 == 0 or index == len(rows)):
            on_progress(index)

    _write_products(to_write)
    transaction.on_commit(lambda: _delete_files(replaced_images))
    new_images = [product.pk for product in to_write if product.image_sha256]
    if new_images:
        product_images_changed.send(sender=Product, product_ids=new_images)
    summary.problems.sort(key=lambda problem: problem.line)
    summary.seconds = time.perf_counter() - started
    return summary


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _write_products(products: list[Product]) -> None:
    # Only products given a new image this run carry a checksum; the others keep the image they have.
    new_image = [p for p in products if p.image_sha256]
    same_image = [p for p in products if not p.image_sha256]
    with transaction.atomic():
        for batch, update_fields in ((new_image, DATA_FIELDS + IMAGE_FIELDS), (same_image, DATA_FIELDS)):
            Product.objects.bulk_create(
                batch,
                batch_size=WRITE_BATCH_SIZE,
                update_conflicts=True,
                unique_fields=["id"],
                update_fields=[*update_fields, "updated_at"],
            )
        _reset_id_sequence()
