"""Import the catalogue from Kaggle's layout: ``styles.csv``, ``images/<id>.jpg`` and, in the full dataset's layout,
``styles/<id>.json`` (prices, brand, description, sizes, other colours: ``catalog_json``)."""

import hashlib
import io
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Model
from PIL import Image, UnidentifiedImageError

from . import generations
from .catalog_csv import COLUMNS, CatalogRow, RowProblem, parse_styles_csv
from .catalog_json import DetailsError, StyleDetails, read_style
from .models import Brand, Product, Sku
from .services import refresh_in_stock
from .signals import product_images_changed

DATA_FIELDS = [name for name in COLUMNS.values() if name != "id"]
# Written only for products whose details file was read: without one, what the shop set stays as it is.
DETAIL_FIELDS = [
    "brand_id",
    "price",
    "list_price",
    "description",
    "attributes",
    "age_group",
    "added_at",
    "cash_on_delivery",
]
IMAGE_FIELDS = ["image", "image_width", "image_height", "image_sha256"]
IMAGE_WRITERS = 1  # creating files is serialised in the kernel: more threads only spin
WRITE_BATCH_SIZE = 2000


class CatalogImportError(Exception):
    """Nothing could be imported."""


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    images_written: int = 0
    details: int = 0  # products whose styles/<id>.json was read
    brands_created: int = 0
    sizes_created: int = 0
    sizes_updated: int = 0
    colour_links: int = 0  # links to other colours, between products of the catalogue
    colour_links_dropped: int = 0  # links to products the catalogue does not have
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
    details: tuple
    image: str
    image_sha256: str


class _NewSize(NamedTuple):
    """A size to create: a row of the size table, copied in as it is (no model instance for 158,000 of them)."""

    id: int
    product_id: int
    kind: str
    label: str
    position: int
    stock: int | None

    @property
    def available(self) -> bool:
        return self.stock is None or self.stock > 0  # as Sku.available


@dataclass(frozen=True)
class _SourceImage:
    data: bytes
    sha256: str


def import_catalog(
    dataset_dir: Path,
    *,
    limit: int | None = None,
    import_stock: bool = False,
    on_start: Callable[[str, int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Create or update products from Kaggle's layout, in one transaction.

    Re-running updates in place: unchanged rows are not written, a changed image is stored under a new name and
    the old file removed once the change commits. Sizes keep the stock the shop set, unless ``import_stock``
    takes the files' inventory counts (a historical snapshot) instead; a new size's stock is otherwise untracked.
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
    styles_dir = dataset_dir / "styles"
    images_dir = dataset_dir / "images"
    details: dict[int, StyleDetails] = {}
    images: dict[int, dict[str, object]] = {}
    replaced_images: list[str] = []

    def report(step: str, items: list) -> Iterator[Any]:
        """The items, telling on_start and on_progress how far the step is."""
        if on_start:
            on_start(step, len(items))
        for index, item in enumerate(items, start=1):
            yield item
            if on_progress and (index % 500 == 0 or index == len(items)):
                on_progress(index)

    if styles_dir.is_dir():
        for row in report("product files", rows):
            if (detail := _read_details(row, styles_dir, summary)) is not None:
                details[row.id] = detail
    # Creating files is what an import from empty spends most of its time on, in the kernel: a thread writes the
    # images (their names, being content-addressed, are known at once) while this loop reads the others and the
    # database is written.
    writer = ThreadPoolExecutor(max_workers=IMAGE_WRITERS, thread_name_prefix="image-writer")
    writes: list[Future[bool]] = []
    try:
        for row in report("images", rows):
            previous = stored.get(row.id)
            source, problem = _read_image(images_dir / f"{row.id}.jpg", row)
            if source is not None and (previous is None or previous.image_sha256 != source.sha256):
                try:
                    width, height = _image_size(source)
                except OSError as error:
                    reason = f"{row.id}.jpg: {error}; image not used"
                    problem = RowProblem(row.line, row.id, "unreadable image", reason)
                else:
                    name = _image_name(row.id, source.sha256)
                    writes.append(writer.submit(_store_image, name, source))
                    images[row.id] = {
                        "image": name,
                        "image_width": width,
                        "image_height": height,
                        "image_sha256": source.sha256,
                    }
                    if previous is not None and previous.image and previous.image != name:
                        replaced_images.append(previous.image)
            if problem:
                summary.problems.append(problem)
        summary.details = len(details)
        with transaction.atomic():
            brands = _brand_ids({detail.brand for detail in details.values() if detail.brand}, summary)
            to_write = _changed_products(rows, stored, images, details, brands, summary)
            new_products = {row.id for row in rows if row.id not in stored}
            _write_products(to_write, new=new_products, with_details=set(details))
            lines = {row.id: row.line for row in rows}
            _write_sizes(details, import_stock=import_stock, new_products=new_products, lines=lines, summary=summary)
            _reset_id_sequences()
            _write_colours(details, summary=summary)
            # The bulk writes send no model signals: what was cached from the catalogue is computed again on commit.
            generations.bump(generations.CATALOGUE)
            # The products commit only once their image files are all there.
            for write in report("image files written", writes):
                summary.images_written += write.result()  # raises what the write raised
    finally:
        writer.shutdown()
    transaction.on_commit(lambda: _delete_files(replaced_images))
    new_images = [product.pk for product in to_write if product.image_sha256]
    if new_images:
        product_images_changed.send(sender=Product, product_ids=new_images)
    summary.problems.sort(key=lambda problem: problem.line)
    summary.seconds = time.perf_counter() - started
    return summary


def _read_details(row: CatalogRow, styles_dir: Path, summary: ImportSummary) -> StyleDetails | None:
    """The row's details, if its file can be read; if not, it is reported and imports from the CSV alone."""
    path = styles_dir / f"{row.id}.json"
    try:
        return read_style(path, row.id)
    except DetailsError as error:
        kind = "no details" if str(error) == "no such file" else "bad details"
        summary.problems.append(RowProblem(row.line, row.id, kind, f"{path}: {error}; imported from styles.csv"))
        return None


def _changed_products(
    rows: list[CatalogRow],
    stored: dict[int, _StoredProduct],
    images: dict[int, dict[str, object]],
    details: dict[int, StyleDetails],
    brands: dict[str, int],
    summary: ImportSummary,
) -> list[Product]:
    """The products to write: new ones and those whose image, row or details changed."""
    to_write = []
    for row in rows:
        previous = stored.get(row.id)
        image = images.get(row.id, {})
        # The image is given to the constructor with its size: assigned afterwards, the ImageField would open the
        # stored file again to read the size it already has.
        product = Product(pk=row.id, **row.values, **image)
        detail = details.get(row.id)
        if detail is not None:
            _apply_details(product, detail, brands)
        if previous is None:
            summary.created += 1
            to_write.append(product)
        elif (
            image
            or previous.values != _values(product, DATA_FIELDS)
            or (detail is not None and previous.details != _values(product, DETAIL_FIELDS))
        ):
            summary.updated += 1
            to_write.append(product)
        else:
            summary.unchanged += 1
    return to_write


def _brand_ids(names: set[str], summary: ImportSummary) -> dict[str, int]:
    existing = dict(Brand.objects.filter(name__in=names).values_list("name", "pk"))
    missing = sorted(names - set(existing))
    if missing:
        Brand.objects.bulk_create([Brand(name=name) for name in missing], ignore_conflicts=True)
        existing = dict(Brand.objects.filter(name__in=names).values_list("name", "pk"))
        summary.brands_created = len(missing)
    return existing


def _apply_details(product: Product, detail: StyleDetails, brands: dict[str, int]) -> None:
    # The file has the whole name of the rows whose unquoted commas styles.csv cuts up.
    product.name = detail.name or product.name
    product.brand_id = brands.get(detail.brand) if detail.brand else None
    product.price = detail.price
    product.list_price = detail.list_price if detail.list_price != detail.price else None
    product.description = detail.description
    product.attributes = detail.attributes
    product.age_group = detail.age_group
    product.added_at = detail.added_at
    product.cash_on_delivery = detail.cash_on_delivery


def _values(product: Product, names: list[str]) -> tuple:
    return tuple(getattr(product, name) for name in names)


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
        fields = [*DATA_FIELDS, *DETAIL_FIELDS]
        for pk, *values, image, sha in Product.objects.filter(pk__in=chunk).values_list(
            "pk", *fields, "image", "image_sha256"
        ):
            split = len(DATA_FIELDS)
            stored[pk] = _StoredProduct(tuple(values[:split]), tuple(values[split:]), image, sha)
    return stored


def _image_name(product_id: int, sha256: str) -> str:
    # Content-addressed, so a changed image gets a new URL and browsers never show a stale one.
    return f"products/{product_id}-{sha256[:12]}.jpg"


def _store_image(name: str, source: _SourceImage) -> bool:
    """Whether the file was written (False: the storage has it already)."""
    if default_storage.exists(name):
        return False
    stored = default_storage.save(name, ContentFile(source.data))
    if stored != name:  # another writer got there between the two calls: the same bytes under the same name
        default_storage.delete(stored)
        return False
    return True


def _reset_id_sequences() -> None:
    # Products and sizes were inserted with the data's ids; those created later in the admin continue after them.
    with connection.cursor() as cursor:
        for model in (Product, Sku):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}",
                [table],
            )


def _copy_rows(model: type[Model], columns: list[str], rows: list[tuple]) -> None:
    """Insert rows with PostgreSQL's COPY: for the catalogue's 158,000 sizes, several times faster than INSERTs
    (bulk_create). The values go as they are, already prepared for the database."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _write_products(products: list[Product], *, new: set[int], with_details: set[int]) -> None:
    _copy_products([product for product in products if product.pk in new])
    # Only products given a new image this run carry a checksum; the others keep the image they have. Only
    # products whose details file was read get their details written.
    groups: dict[tuple[bool, bool], list[Product]] = {}
    for product in products:
        if product.pk in new:
            continue
        groups.setdefault((bool(product.image_sha256), product.pk in with_details), []).append(product)
    for (new_image, details), batch in groups.items():
        update_fields = [*DATA_FIELDS, *(DETAIL_FIELDS if details else ()), *(IMAGE_FIELDS if new_image else ())]
        Product.objects.bulk_create(
            batch,
            batch_size=WRITE_BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=[*update_fields, "updated_at"],
        )


def _copy_products(products: list[Product]) -> None:
    """Insert new products with COPY: on an empty catalogue, about five times faster than bulk_create."""
    fields = [field for field in Product._meta.concrete_fields if not field.generated]
    rows = [
        tuple(field.get_db_prep_save(field.pre_save(product, add=True), connection) for field in fields)
        for product in products
    ]
    _copy_rows(Product, [field.column for field in fields], rows)


def _write_sizes(
    details: dict[int, StyleDetails],
    *,
    import_stock: bool,
    new_products: set[int],
    lines: dict[int, int],
    summary: ImportSummary,
) -> None:
    """Each file's sizes, by their skuId. A size the shop added itself, or that a file no longer lists, stays. A
    skuId another product has (in the catalogue, or in an earlier file of this import) is reported and left out."""
    # One pass over the table, cheaper than two queries each with a list of 44,000 products or 158,000 sizes.
    stored: dict[int, tuple] = {}  # the sizes of the products being imported: (product_id, kind, label, ...)
    owners: dict[int, int] = {}  # everybody else's sizes, by skuId
    columns = ("pk", "product_id", "kind", "label", "position", "stock")
    for pk, product_id, *values in Sku.objects.values_list(*columns).iterator(chunk_size=20_000):
        if product_id in details:
            stored[pk] = (product_id, *values)
        else:
            owners[pk] = product_id
    created: list[_NewSize] = []
    updated: list[Sku] = []
    moved_from: set[int] = set()  # products whose size now belongs to another one (or to themselves, unchanged)
    for product_id, detail in details.items():
        for position, option in enumerate(detail.skus):
            owner = owners.setdefault(option.sku_id, product_id)
            if owner != product_id:
                summary.problems.append(
                    RowProblem(
                        lines[product_id],
                        product_id,
                        "size refused",
                        f"skuId {option.sku_id} is a size of product {owner}; size {option.label} not imported",
                    )
                )
                continue
            stock = option.inventory if import_stock else None
            sku = stored.get(option.sku_id)
            if sku is None:
                created.append(_NewSize(option.sku_id, product_id, option.kind, option.label, position, stock))
                continue
            wanted = (product_id, option.kind, option.label, position, stock if import_stock else sku[-1])
            if sku != wanted:
                kind, label, position, stock = wanted[1:]
                updated.append(
                    Sku(pk=option.sku_id, product_id=product_id, kind=kind, label=label, position=position, stock=stock)
                )
                moved_from.add(sku[0])
    _copy_rows(Sku, list(_NewSize._fields), created)
    Sku.objects.bulk_update(updated, ["product", "kind", "label", "position", "stock"], batch_size=WRITE_BATCH_SIZE)
    summary.sizes_created, summary.sizes_updated = len(created), len(updated)
    changed = {sku.product_id for sku in (*created, *updated)} | moved_from
    # A product created by this import is in stock (the default) when one of its sizes, all new, can be bought:
    # only the others need their in_stock recomputed.
    changed -= {sku.product_id for sku in created if sku.product_id in new_products and sku.available}
    if changed:
        refresh_in_stock(sorted(changed))


def _write_colours(details: dict[int, StyleDetails], *, summary: ImportSummary) -> None:
    """Each file's other colours, as links between products of the catalogue (a link elsewhere is dropped)."""
    links = Product.colours.through
    linked = {colour for detail in details.values() for colour in detail.colour_ids}
    known = set(Product.objects.filter(pk__in=list(linked)).values_list("pk", flat=True))
    wanted = {(product_id, colour) for product_id, detail in details.items() for colour in detail.colour_ids}
    summary.colour_links_dropped = sum(1 for _, colour in wanted if colour not in known)
    wanted = {(product_id, colour) for product_id, colour in wanted if colour in known}
    existing = set(
        links.objects.filter(from_product_id__in=list(details)).values_list("from_product_id", "to_product_id")
    )
    _copy_rows(links, ["from_product_id", "to_product_id"], sorted(wanted - existing))
    stale = existing - wanted
    if stale:
        for product_id in {a for a, _ in stale}:
            links.objects.filter(
                from_product_id=product_id, to_product_id__in=[b for a, b in stale if a == product_id]
            ).delete()
    summary.colour_links = len(wanted)
