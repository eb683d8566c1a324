"""Helpers for tests that start other processes (Celery workers, a web server) on the test database."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

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


@contextmanager
def production_server(log: Path, **env: str) -> Iterator[str]:
    """``scripts/serve.sh`` (collectstatic, then gunicorn with config/gunicorn.py, DEBUG off), as
    ``scripts/start.sh`` serves, on the test database and the tests' media; yields its URL.

    ``env`` adds to or overrides the server's environment. Call it where the database may be used."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
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
            ["scripts/serve.sh"],
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
    """``celery -A config worker -Q <queues>`` in a process of its own, logging to a file."""

    def __init__(self, name: str, queues: str, broker: str, log: Path) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "EMBEDDING_MODELS_DIR": str(settings.EMBEDDING_MODELS_DIR),
            "CATALOG_DATASET_DIR": str(settings.CATALOG_DATASET_DIR),
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
