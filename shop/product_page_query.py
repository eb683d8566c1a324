"""A product with its brand, sizes and other colours in one SQL statement: the product page's only query.

The ORM takes three queries for them (``select_related`` and two ``prefetch_related``) and spends several times
longer compiling them than PostgreSQL spends answering: most of a product page's time went there (docs/speed.md).
This statement is built once from the models' fields; it returns the brand, the sizes and the colours as JSON
beside the product's own columns, and they come back as the instances and the prefetched relations that
``select_related``/``prefetch_related`` would have given, so that ``product.skus.all()`` and
``product.colours.all()`` cost no query.
"""

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from django.db import connection as default_connection
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

from .models import Brand, Product, Sku

# Columns that a product page never shows: the search index.
UNREAD_FIELDS = ("search_vector",)
BRAND_FIELDS = ("id", "name")
SKU_FIELDS = ("id", "product_id", "kind", "label", "position", "stock")


def product_with_relations(pk: int, *, colour_fields: Sequence[str]) -> Product | None:
    """The product, or None; its brand, sizes (in order) and other colours (by id, with ``colour_fields``) are
    loaded with it."""
    colour_fields = tuple(colour_fields)
    db = router.db_for_read(Product)
    connection = connections[db]
    # A cursor rather than Manager.raw(), which spends as long as PostgreSQL does on mapping the columns anew.
    with connection.cursor() as cursor:
        cursor.execute(_statement(colour_fields), [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    *values, brand_row, sku_rows, colour_rows = row
    own = _own_fields()
    product = Product.from_db(db, [field.attname for field in own], list(map(_converted(connection), own, values)))
    brand = _instances(Brand, BRAND_FIELDS, [brand_row] if brand_row else [], db)
    product.brand = brand[0] if brand else None
    _prefetched(product, "skus", _instances(Sku, SKU_FIELDS, sku_rows, db))
    _prefetched(product, "colours", _instances(Product, colour_fields, colour_rows, db))
    return product


@cache
def _own_fields() -> list[models.Field]:
    return [field for field in Product._meta.concrete_fields if field.name not in UNREAD_FIELDS]


def _converted(connection: BaseDatabaseWrapper) -> Callable[[models.Field, Any], Any]:
    """What the ORM makes of a column's value (a JSON field's text parsed, for one)."""

    def convert(field: models.Field, value: Any) -> Any:
        for converter in field.get_db_converters(connection):
            value = converter(value, field, connection)
        return value

    return convert


@cache
def _statement(colour_fields: tuple[str, ...]) -> str:
    own = ", ".join(f"p.{_quote(field.column)}" for field in _own_fields())
    colours_table = Product.colours.through._meta.db_table
    return (
        f"SELECT {own}, "
        f"(SELECT {_json_row(Brand, BRAND_FIELDS, 'b')} FROM {_table(Brand)} b WHERE b.id = p.brand_id), "
        f"(SELECT coalesce(json_agg({_json_row(Sku, SKU_FIELDS, 's')} ORDER BY s.position, s.id), '[]') "
        f"FROM {_table(Sku)} s WHERE s.product_id = p.id), "
        f"(SELECT coalesce(json_agg({_json_row(Product, colour_fields, 'c')} ORDER BY c.id), '[]') "
        f"FROM {_quote(colours_table)} pc JOIN {_table(Product)} c ON c.id = pc.to_product_id "
        "WHERE pc.from_product_id = p.id) "
        f"FROM {_table(Product)} p WHERE p.id = %s"
    )


def _json_row(model: type[models.Model], names: tuple[str, ...], alias: str) -> str:
    """A JSON array of the fields' values; decimals as text, so that no float ever holds a price."""
    columns = []
    for field in _fields(model, names):
        cast = "::text" if isinstance(field, models.DecimalField) else ""
        columns.append(f"{alias}.{_quote(field.column)}{cast}")
    return f"json_build_array({', '.join(columns)})"


def _instances(model: type[models.Model], names: tuple[str, ...], rows: list[list[Any]], db: str) -> list[Any]:
    fields = _fields(model, names)
    attnames = [field.attname for field in fields]
    return [
        model.from_db(db, attnames, [field.to_python(value) for field, value in zip(fields, row, strict=True)])
        for row in rows
    ]


@cache
def _fields(model: type[models.Model], names: tuple[str, ...]) -> list[models.Field]:
    """The named fields in the model's order, the order that ``Model.from_db`` expects the values of a few in."""
    wanted = {model._meta.get_field(name) for name in names}
    return [field for field in model._meta.concrete_fields if field in wanted]


def _prefetched(instance: models.Model, relation: str, objects: list[Any]) -> None:
    # What prefetch_related leaves behind (django.db.models.query.prefetch_one_level): the relation's queryset with
    # its results in place; for both relations here the cache is named after the accessor.
    queryset = getattr(instance, relation).get_queryset()
    queryset._result_cache = objects
    queryset._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[relation] = queryset


def _table(model: type[models.Model]) -> str:
    return _quote(model._meta.db_table)


def _quote(name: str) -> str:
    return default_connection.ops.quote_name(name)
