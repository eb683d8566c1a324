"""The scale database's catalogue: the real one copied in once, then grown with copies by bulk SQL and COPY.

Copy ``k`` of real product ``p`` has the id ``p + k * COPY_ID_OFFSET`` and the same attributes, photo file, sizes
and colour links (among copies of the same round); its picture counts as its own (a new ``image_sha256``) and its
vector is ``NoiseRecipe.copies`` of the original's. A fifth of all products, real ones included, are out of stock
(by a hash of the id), so that the in-stock filter has something to filter.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import psycopg
from psycopg import sql

from .progress import Progress
from .vectors import NoiseRecipe

COPY_ID_OFFSET = 100_000
SHOP_TABLES = ("shop_brand", "shop_product", "shop_sku", "shop_product_colours")
EMBEDDINGS = "recommendations_productembedding"
# Tables whose secondary indexes are dropped while they grow, and built again after.
GROWING_TABLES = ("shop_product", "shop_product_colours", EMBEDDINGS)
OUT_OF_STOCK = "hashint8(id) % 5 = 0"
POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Originals:
    """The real products that have a vector in the space, by id."""

    ids: np.ndarray
    vectors: np.ndarray


def writable_columns(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_generated = 'NEVER' "
        "ORDER BY ordinal_position",
        [table],
    )
    return [name for (name,) in rows]


def _copy_table(source: psycopg.Connection, target: psycopg.Connection, table: str, where: str = "") -> None:
    columns = sql.SQL(", ").join(map(sql.Identifier, writable_columns(target, table)))
    query = sql.SQL("SELECT {} FROM {} {}").format(columns, sql.Identifier(table), sql.SQL(where))
    with (
        source.cursor().copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(query)) as out,
        target.cursor().copy(
            sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(sql.Identifier(table), columns)
        ) as into,
    ):
        for block in out:
            into.write(block)


def copy_real_catalogue(source: psycopg.Connection, target: psycopg.Connection, model: str) -> int:
    """The source's products, sizes, brands, colour links and the model's newest complete space; returns the
    space's id."""
    space = source.execute(
        "SELECT id FROM recommendations_embeddingspace WHERE backbone = %s AND state = 'complete' "
        "ORDER BY completed_at DESC LIMIT 1",
        [model],
    ).fetchone()
    if space is None:
        raise SystemExit(f"The source database has no complete space of {model}: embed its catalogue first.")
    with target.transaction():
        for table in SHOP_TABLES:
            _copy_table(source, target, table)
            print(f"  copied {table}", flush=True)
        _copy_table(source, target, "recommendations_embeddingspace", f"WHERE id = {int(space[0])}")
        _copy_table(source, target, EMBEDDINGS, f"WHERE space_id = {int(space[0])}")
        target.execute(f"UPDATE shop_product SET in_stock = NOT ({OUT_OF_STOCK})")
        for table in (*SHOP_TABLES, EMBEDDINGS, "recommendations_embeddingspace"):
            target.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({0}, 'id'), (SELECT max(id) FROM {1}))").format(
                    sql.Literal(table), sql.Identifier(table)
                )
            )
        target.execute(
            "CREATE TABLE scale_copies (new_id bigint PRIMARY KEY, orig_id bigint NOT NULL, round int NOT NULL)"
        )
    return int(space[0])


def originals(conn: psycopg.Connection, space_id: int) -> Originals:
    rows = conn.execute(
        f"SELECT product_id, vector_send(vector) FROM {EMBEDDINGS} "
        "WHERE space_id = %s AND status = 'ok' AND product_id < %s ORDER BY product_id",
        [space_id, COPY_ID_OFFSET],
    ).fetchall()
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    vectors = np.stack([np.frombuffer(row[1], dtype=">f4", offset=4) for row in rows]).astype(np.float32)
    return Originals(ids, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))


def copy_sha256(product_id: int) -> str:
    """The stand-in picture hash of a copy, as ``_insert_products`` computes it in SQL."""
    text = str(product_id).encode()
    return hashlib.md5(text).hexdigest() + hashlib.md5(b"copy" + text).hexdigest()


def drop_secondary_indexes(conn: psycopg.Connection) -> None:
    """Drop the indexes that back no constraint on the growing tables. Their definitions, HNSW left out
    (``indexes.build`` builds those), wait in a table until they are built again, so that a run stopped half-way
    still builds them."""
    rows = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), am.amname FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
        "WHERE i.indrelid::regclass::text = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        [list(GROWING_TABLES)],
    ).fetchall()
    with conn.transaction():
        conn.execute("CREATE TABLE IF NOT EXISTS scale_dropped_indexes (definition text PRIMARY KEY)")
        for name, definition, method in rows:
            if method != "hnsw":
                conn.execute("INSERT INTO scale_dropped_indexes VALUES (%s) ON CONFLICT DO NOTHING", [definition])
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))


def build_indexes(conn: psycopg.Connection, definitions: list[str]) -> None:
    conn.execute("SET maintenance_work_mem = '1GB'")
    progress = Progress("secondary indexes", len(definitions), unit="indexes", every=0)
    for done, definition in enumerate(definitions, 1):
        with conn.transaction():
            conn.execute(definition)
            conn.execute("DELETE FROM scale_dropped_indexes WHERE definition = %s", [definition])
        progress.update(done)
    conn.execute("RESET maintenance_work_mem")


def _plan(first: int, last: int, originals: Originals, seed: int) -> Iterator[tuple[int, slice, np.ndarray]]:
    """Copies ``first`` to ``last - 1`` as (round, slice of the round's order, positions in ``originals``), round
    by round: each round copies every original once, in an order of its own."""
    count = len(originals.ids)
    for round_ in range(first // count + 1, (last - 1) // count + 2):
        start, stop = max(first, (round_ - 1) * count), min(last, round_ * count)
        part = slice(start - (round_ - 1) * count, stop - (round_ - 1) * count)
        yield round_, part, np.random.default_rng([seed, round_]).permutation(count)[part]


def _insert_products(conn: psycopg.Connection, round_: int, orig_ids: np.ndarray, new_ids: np.ndarray) -> None:
    """The copies' products and sizes (``_add_copies`` links their colours once all are in)."""
    with conn.cursor().copy("COPY scale_copies (new_id, orig_id, round) FROM STDIN") as copy:
        for new_id, orig_id in zip(new_ids.tolist(), orig_ids.tolist(), strict=True):
            copy.write_row((new_id, orig_id, round_))
    columns = writable_columns(conn, "shop_product")
    computed = {
        "id": "c.new_id",
        "image_sha256": "md5(c.new_id::text) || md5('copy' || c.new_id::text)",
        "in_stock": "NOT (hashint8(c.new_id) %% 5 = 0)",
        "created_at": "now()",
        "updated_at": "now()",
    }
    select = ", ".join(computed.get(name, f"p.{name}") for name in columns)
    copies = "FROM scale_copies c JOIN {table} p ON p.{key} = c.orig_id WHERE c.round = %s AND c.new_id = ANY(%s)"
    ids = [round_, new_ids.tolist()]
    conn.execute(
        f"INSERT INTO shop_product ({', '.join(columns)}) SELECT {select} "
        + copies.format(table="shop_product", key="id"),
        ids,
    )
    conn.execute(
        "INSERT INTO shop_sku (kind, label, position, stock, product_id) "
        "SELECT p.kind, p.label, p.position, p.stock, c.new_id " + copies.format(table="shop_sku", key="product_id"),
        ids,
    )


def _embedding_rows(vectors: np.ndarray, product_ids: np.ndarray, space_id: int) -> bytes:
    """COPY's binary rows for (vector, status, error, image_sha256, updated_at, product_id, space_id): all of one
    length, so one numpy record array writes them."""
    dimensions = vectors.shape[1]
    record = np.dtype(
        [
            ("fields", ">i2"),
            ("vector_length", ">i4"),
            ("dimensions", ">i2"),
            ("unused", ">i2"),
            ("vector", ">f4", (dimensions,)),
            ("status_length", ">i4"),
            ("status", "S2"),
            ("error_length", ">i4"),
            ("sha_length", ">i4"),
            ("sha", "S64"),
            ("updated_length", ">i4"),
            ("updated", ">i8"),
            ("product_length", ">i4"),
            ("product", ">i8"),
            ("space_length", ">i4"),
            ("space", ">i8"),
        ]
    )
    rows = np.zeros(len(product_ids), dtype=record)
    now = int((datetime.now(UTC) - POSTGRES_EPOCH).total_seconds() * 1_000_000)
    lengths = {"vector": 4 + 4 * dimensions, "status": 2, "error": 0, "sha": 64, "updated": 8, "product": 8}
    for name, length in {**lengths, "space": 8}.items():
        rows[f"{name}_length"] = length
    rows["fields"] = 7
    rows["dimensions"] = dimensions
    rows["vector"] = vectors
    rows["status"] = b"ok"
    rows["sha"] = [copy_sha256(product_id).encode() for product_id in product_ids.tolist()]
    rows["updated"] = now
    rows["product"] = product_ids
    rows["space"] = space_id
    return rows.tobytes()


def _insert_embeddings(conn: psycopg.Connection, vectors: np.ndarray, product_ids: np.ndarray, space_id: int) -> None:
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") * 2
    columns = "vector, status, error, image_sha256, updated_at, product_id, space_id"
    with conn.cursor().copy(f"COPY {EMBEDDINGS} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(header + _embedding_rows(vectors, product_ids, space_id) + (-1).to_bytes(2, "big", signed=True))


def grow(
    conn: psycopg.Connection, space_id: int, target: int, originals: Originals, recipe: NoiseRecipe, seed: int
) -> None:
    """Add copies until the catalogue holds ``target`` products (``conn`` in autocommit mode)."""
    real = conn.execute("SELECT count(*) FROM shop_product WHERE id < %s", [COPY_ID_OFFSET]).fetchone()[0]
    first = conn.execute("SELECT count(*) FROM scale_copies").fetchone()[0]
    last = target - real
    if last > first:
        _add_copies(conn, space_id, first, last, originals, recipe, seed)
    pending = conn.execute("SELECT to_regclass('scale_dropped_indexes') IS NOT NULL").fetchone()[0]
    definitions = [row[0] for row in conn.execute("SELECT definition FROM scale_dropped_indexes")] if pending else []
    if definitions:
        build_indexes(conn, definitions)
        for table in GROWING_TABLES:
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))


def _add_copies(
    conn: psycopg.Connection, space_id: int, first: int, last: int, originals: Originals, recipe: NoiseRecipe, seed: int
) -> None:
    drop_secondary_indexes(conn)
    progress = Progress("copies (products, sizes, colours, vectors)", last - first, unit="products")
    done = 0
    for round_, part, positions in _plan(first, last, originals, seed):
        new_ids = originals.ids[positions] + round_ * COPY_ID_OFFSET
        # Drawn for the whole round, so that a copy's vector does not depend on where an earlier run stopped.
        noise = np.random.default_rng([seed, round_, 1]).standard_normal(originals.vectors.shape, dtype=np.float32)
        vectors = recipe.copies(originals.vectors[positions], noise[part])
        for chunk in range(0, len(positions), 10_000):
            rows = slice(chunk, chunk + 10_000)
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")  # the rows are consistent by construction
                _insert_products(conn, round_, originals.ids[positions[rows]], new_ids[rows])
                _insert_embeddings(conn, vectors[rows], new_ids[rows], space_id)
            done += len(new_ids[rows])
            progress.update(done)
    print(f"  {done:,} copies in {progress.finish(done):.0f} s", flush=True)
    # Colour links between copies of the same round whose originals are linked.
    conn.execute(
        "INSERT INTO shop_product_colours (from_product_id, to_product_id) "
        "SELECT a.new_id, b.new_id FROM scale_copies a "
        "JOIN shop_product_colours l ON l.from_product_id = a.orig_id "
        "JOIN scale_copies b ON b.orig_id = l.to_product_id AND b.round = a.round ON CONFLICT DO NOTHING"
    )
