"""Fault tests with real processes: Redis restarted under ``rebuild_embeddings --async``, PostgreSQL restarted
(a fast shutdown, or ``kill -9`` of the postmaster) under a rebuild and under page traffic against gunicorn.
Afterwards nothing is lost, the rebuild completes by itself, and pages answer again within seconds.

The servers that these tests stop are their own: a PostgreSQL cluster in a temporary folder on a free port (never
the embedded server that every developer's and test's database shares) and a ``redis-server`` on a free port. Each
test gets a database copied from a template that holds the fixture catalogue, migrated and imported by the commands
a shop runs; the processes under test (``rebuild_embeddings``, a Celery worker, gunicorn) are started on it with
``DATABASE_URL``, and the test reads the outcome with plain SQL. No test here uses the test database.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.catalogues import FIXTURE_CATALOG_DIR, NO_DATASET_DIR
from tests.processes import (
    PostgresCluster,
    RedisServer,
    Worker,
    collect_static_quickly,
    postgres_cluster,
    production_server,
    redis_server,
    wait_for,
)

pytestmark = pytest.mark.slow

ROOT = Path(settings.BASE_DIR)
TEMPLATE_DATABASE = "catalogue"
# How long a server stays down: "back within seconds".
DOWN_SECONDS = 3
# A longer outage, for the pages. Longer than DATABASE_POOL_TIMEOUT (10 s), which a request waits for a connection
# before its 503; and a connection pool that backed off between its tries to reconnect (1, 2, 4, 8, 16 s) would find
# the database back only 15 s after it is.
LONG_DOWN_SECONDS = 16
POOL_TIMEOUT = 10
# After the database is back, every page answers 200 within this many seconds (a correctness bound, not a speed
# benchmark), and keeps doing so.
RECOVERY_SECONDS = 10
# Small batches: many of them are still to do when the fault comes.
BATCH_SIZE = "2"
# The rebuild's resending of lost batches, shortened from 60 s for the test.
RESEND_AFTER = "5"


def shop_environment(cluster: PostgresCluster, database: str, media_root: Path, **extra: str) -> dict[str, str]:
    """The environment of a process of the shop on ``database``: no broker unless ``extra`` names one, no shared
    cache, no replicas, and the real catalogue out of reach, as in every tier-1 test."""
    return {
        **os.environ,
        "DATABASE_URL": cluster.url(database),
        "DATABASE_REPLICA_URLS": "",
        "MEDIA_ROOT": str(media_root),
        "CELERY_BROKER_URL": "",
        "CACHE_URL": "",
        "CATALOG_DATASET_DIR": str(NO_DATASET_DIR),
        "EMBEDDING_MODELS_DIR": str(settings.EMBEDDING_MODELS_DIR),
        "EMBEDDING_INLINE_LIMIT": "0",  # the import leaves every photo to the rebuild
        **extra,
    }


def manage(environment: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults-media")


@pytest.fixture(scope="module")
def template_database(cluster: PostgresCluster, media_root: Path) -> str:
    """The fixture catalogue, migrated and imported as a shop does it, without embeddings: what each test copies."""
    with cluster.connect() as conn:
        conn.execute(f'CREATE DATABASE "{TEMPLATE_DATABASE}"')
    environment = shop_environment(cluster, TEMPLATE_DATABASE, media_root)
    manage(environment, "migrate", "--no-input", "--verbosity", "0")
    manage(environment, "import_catalog", str(FIXTURE_CATALOG_DIR))
    return TEMPLATE_DATABASE


@pytest.fixture
def database(cluster: PostgresCluster, template_database: str) -> Iterator[str]:
    """A copy of the template for this test, dropped afterwards; the cluster is running at the start (an earlier
    test may have failed while it was down)."""
    if not cluster.is_running():
        cluster.start()
    name = f"faults_{uuid.uuid4().hex[:8]}"
    with cluster.connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield name
    if not cluster.is_running():
        cluster.start()
    with cluster.connect() as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def processes() -> Iterator[Callable[[subprocess.Popen], subprocess.Popen]]:
    """Registers processes (each in a session of its own) to be killed with their children after the test."""
    started: list[subprocess.Popen] = []
    yield lambda process: started.append(process) or process
    for process in started:
        with contextlib.suppress(ProcessLookupError):  # the group's children too, should the leader be gone
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def start_rebuild(environment: dict[str, str], output: Path, *args: str) -> subprocess.Popen:
    with output.open("w") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "rebuild_embeddings", "--batch-size", BATCH_SIZE, *args],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def query(cluster: PostgresCluster, database: str, sql: str) -> list[tuple]:
    with cluster.connect(database) as conn:
        return conn.execute(sql).fetchall()


def rows_written(cluster: PostgresCluster, database: str) -> int:
    """Embedding rows written so far; 0 while the database cannot be reached."""
    try:
        return query(cluster, database, "SELECT count(*) FROM recommendations_productembedding")[0][0]
    except psycopg.OperationalError:
        return 0


def wait_for_first_rows(cluster: PostgresCluster, database: str, rebuild: subprocess.Popen, output: Path) -> int:
    """Waits until the rebuild has written its first rows (it is under way) and returns how many there are."""
    under_way = wait_for(lambda: rows_written(cluster, database) > 0 or rebuild.poll() is not None, timeout=180)
    assert under_way and rebuild.poll() is None, output.read_text()[-3000:]
    return rows_written(cluster, database)


def finish(rebuild: subprocess.Popen, output: Path, timeout: float = 180) -> str:
    try:
        rebuild.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"The rebuild did not end within {timeout} s:\n{output.read_text()[-3000:]}")
    said = output.read_text()
    assert rebuild.returncode == 0, said[-3000:]
    return said


def assert_nothing_lost(cluster: PostgresCluster, database: str) -> None:
    """Every product with an image has exactly one row, embedded, with a vector of the space's size, in the one
    space, which is complete and indexed."""
    [(space_id, state, dimensions)] = query(
        cluster, database, "SELECT id, state, dimensions FROM recommendations_embeddingspace"
    )
    [(products, embedded, rows, distinct, bad)] = query(
        cluster,
        database,
        f"""SELECT (SELECT count(*) FROM shop_product WHERE image <> ''),
                   (SELECT count(*) FROM shop_product p WHERE image <> '' AND EXISTS (
                        SELECT 1 FROM recommendations_productembedding e
                        WHERE e.product_id = p.id AND e.space_id = {space_id} AND e.status = 'ok')),
                   count(*), count(DISTINCT product_id),
                   count(*) FILTER (WHERE vector IS NULL OR vector_dims(vector) <> {dimensions})
            FROM recommendations_productembedding""",
    )
    assert products == 60
    assert embedded == products, f"{products - embedded} products with an image have no embedding"
    assert rows == distinct == products and bad == 0
    assert state == "complete"
    indexes = query(cluster, database, f"SELECT 1 FROM pg_indexes WHERE indexname LIKE '%hnsw_{space_id}'")
    assert indexes, "the complete space has its HNSW index"


def restart_redis(redis: RedisServer) -> None:
    """Redis dies (with the batches waiting in it) and comes back empty a few seconds later."""
    redis.kill()
    time.sleep(DOWN_SECONDS)
    redis.start()


def test_redis_restarted_during_an_async_rebuild(
    cluster: PostgresCluster, database: str, media_root: Path, tmp_path: Path, processes
) -> None:
    with redis_server(tmp_path / "redis.log") as redis:
        environment = shop_environment(cluster, database, media_root, CELERY_BROKER_URL=redis.url())
        worker = Worker("faults", "embeddings", redis.url(), tmp_path / "worker.log", **environment)
        processes(worker.process)
        output = tmp_path / "rebuild.log"
        rebuild = processes(start_rebuild(environment, output, "--async", "--resend-after", RESEND_AFTER))

        at_fault = wait_for_first_rows(cluster, database, rebuild, output)
        restart_redis(redis)
        said = finish(rebuild, output)

    assert at_fault < 60, "the fault came before the rebuild's end"
    assert "products not done again" in said, said[-3000:]
    assert "Embedded 60, failed 0" in said and "is complete, serving similar items" in said, said[-3000:]
    assert_nothing_lost(cluster, database)


@pytest.mark.parametrize(
    ("mode", "fault"),
    [("here", "fast shutdown"), ("async", "kill -9")],
    ids=["rebuild here, fast shutdown", "rebuild on a worker, kill -9"],
)
def test_postgresql_restarted_during_a_rebuild(
    cluster: PostgresCluster, database: str, media_root: Path, tmp_path: Path, processes, mode: str, fault: str
) -> None:
    output = tmp_path / "rebuild.log"
    on_workers = mode == "async"
    with redis_server(tmp_path / "redis.log") if on_workers else contextlib.nullcontext() as redis:
        broker = redis.url() if on_workers else ""
        environment = shop_environment(cluster, database, media_root, CELERY_BROKER_URL=broker)
        if on_workers:
            worker = Worker("faults", "embeddings", broker, tmp_path / "worker.log", **environment)
            processes(worker.process)
        rebuild = processes(start_rebuild(environment, output, *(["--async"] if on_workers else [])))

        at_fault = wait_for_first_rows(cluster, database, rebuild, output)
        # The rebuild is frozen while the server goes down, so that it surely has work left when it meets the
        # outage: it then runs on against a database that is not there.
        os.killpg(rebuild.pid, signal.SIGSTOP)
        cluster.kill() if fault == "kill -9" else cluster.stop()
        os.killpg(rebuild.pid, signal.SIGCONT)
        time.sleep(DOWN_SECONDS)
        cluster.start()
        said = finish(rebuild, output)

    assert at_fault < 60, "the fault came before the rebuild's end"
    assert "The database cannot be reached" in said, said[-3000:]
    assert "Embedded 60, failed 0" in said and "is complete, serving similar items" in said, said[-3000:]
    assert_nothing_lost(cluster, database)


@dataclass(frozen=True)
class Answer:
    sent: float  # seconds since the traffic began
    answered: float
    path: str
    status: int | str  # an HTTP status, or the exception's name when none came
    retry_after: str | None


class Traffic:
    """Shoppers asking for the home, listing and product pages, one after another on each thread, until stopped."""

    def __init__(self, base: str, paths: list[str], threads: int = 4) -> None:
        self.base, self.paths = base, paths
        self.answers: list[Answer] = []
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._shop, args=(n,), daemon=True) for n in range(threads)]
        for thread in self._threads:
            thread.start()

    def now(self) -> float:
        return time.monotonic() - self.started

    def _shop(self, offset: int) -> None:
        index = offset
        while not self._stop.is_set():
            path = self.paths[index % len(self.paths)]
            sent = self.now()
            status, retry_after = self._get(path)
            self.answers.append(Answer(sent, self.now(), path, status, retry_after))
            index += 1
            time.sleep(0.05)

    def _get(self, path: str) -> tuple[int | str, str | None]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=60) as response:
                response.read()
                return response.status, None
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Retry-After")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            return type(error).__name__, None

    def steady_since(self, moment: float, seconds: float) -> bool:
        """Whether, ``seconds`` or more after ``moment``, every answer to a request sent in the last ``seconds`` was
        a 200."""
        recent = [answer for answer in self.answers if answer.sent > max(moment, self.now() - seconds)]
        return self.now() - moment >= seconds and bool(recent) and all(a.status == 200 for a in recent)

    def stop(self) -> list[Answer]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)
        return sorted(self.answers, key=lambda answer: answer.sent)


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults-static")
    collect_static_quickly(root)
    return root


@pytest.mark.parametrize(
    ("fault", "down_seconds"),
    [("fast shutdown", DOWN_SECONDS), ("kill -9", LONG_DOWN_SECONDS)],
    ids=[f"fast shutdown, {DOWN_SECONDS} s down", f"kill -9, {LONG_DOWN_SECONDS} s down"],
)
def test_postgresql_restarted_during_page_traffic(
    cluster: PostgresCluster,
    database: str,
    media_root: Path,
    static_root: Path,
    tmp_path: Path,
    fault: str,
    down_seconds: float,
) -> None:
    product_ids = [row[0] for row in query(cluster, database, "SELECT id FROM shop_product ORDER BY id LIMIT 6")]
    paths = ["/", "/products/", "/products/?page=2"] + [f"/products/{pk}/" for pk in product_ids]
    environment = shop_environment(cluster, database, media_root)
    server_env = {
        key: environment[key] for key in ("DATABASE_URL", "MEDIA_ROOT", "CACHE_URL", "CATALOG_DATASET_DIR")
    } | {
        "STATIC_ROOT": str(static_root),
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
        "DATABASE_POOL_MAX_SIZE": "2",
    }
    log = tmp_path / "server.log"
    with production_server(log, collect_static=False, **server_env) as server:
        traffic = Traffic(server, paths)
        try:
            time.sleep(3)
            down = traffic.now()
            cluster.kill() if fault == "kill -9" else cluster.stop()
            time.sleep(down_seconds)
            cluster.start()
            up = traffic.now()
            steady = wait_for(lambda: traffic.steady_since(up, seconds=5), timeout=RECOVERY_SECONDS + 5)
        finally:
            answers = traffic.stop()
        said = log.read_text()

    failures = [answer for answer in answers if answer.status != 200]
    summary = f"{len(answers)} requests; not 200: {[(round(a.sent - up, 1), a.path, a.status) for a in failures]}"
    # Seconds from the database's return to the last answer that was not a 200 (negative: none after it).
    recovered = max((answer.answered for answer in failures), default=up) - up
    slowest = max(answer.answered - answer.sent for answer in answers)
    print(
        f"{fault}: down {up - down:.1f} s; last failure answered {recovered:.1f} s after the database was back; "
        f"slowest answer {slowest:.1f} s. {summary}"
    )
    assert all(answer.status == 200 for answer in answers if answer.answered < down), summary
    assert {answer.status for answer in failures} <= {503}, f"{summary}\n{said[-3000:]}"
    assert all(answer.retry_after for answer in failures), summary
    if down_seconds > POOL_TIMEOUT:
        assert any(down < answer.sent < up for answer in failures), f"requests during the outage fail: {summary}"
    assert recovered < RECOVERY_SECONDS, summary
    assert steady, f"5 s in which every page answered 200, to end with: {summary}"
