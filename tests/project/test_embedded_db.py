"""The embedded PostgreSQL server's cache: big enough for the catalogue's HNSW indexes; and the first connections of
a process's threads at one moment."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from config.embedded_db.server import MAX_AUTO_SHARED_BUFFERS_MB, auto_shared_buffers

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "config.embedded_db", reason="DATABASE_URL names another server"
)


def test_the_automatic_cache_is_at_most_a_quarter_of_memory_and_2_gb():
    size = auto_shared_buffers()

    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    assert size.endswith("MB")
    assert 0 < int(size.removesuffix("MB")) <= min(memory_mb / 4, MAX_AUTO_SHARED_BUFFERS_MB)


@pytest.mark.django_db
def test_the_server_runs_with_the_configured_cache():
    """PostgreSQL's own default, 128 MB, holds no 1280-d index of the catalogue (341 MB)."""
    expected = settings.EMBEDDED_POSTGRES_SHARED_BUFFERS or auto_shared_buffers()

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_bytes(current_setting('shared_buffers')), pg_size_bytes(%s)", [expected])
        running, configured = cursor.fetchone()

    assert running == configured


FIRST_CONNECTIONS = """
import sys, threading
from pathlib import Path
from config.embedded_db.server import ensure_server

start, failures = threading.Barrier(8), []

def connect():
    start.wait()
    try:
        ensure_server(Path(sys.argv[1]))
    except BaseException as error:
        failures.append(repr(error))

threads = [threading.Thread(target=connect) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(failures)
"""


@pytest.mark.django_db
def test_threads_that_connect_first_at_the_same_moment_all_find_the_server():
    """A gunicorn worker's threads, on its first requests (the load suite saw them fail before)."""
    data_dir = settings.DATABASES["default"]["DATA_DIR"]
    result = subprocess.run(
        [sys.executable, "-c", FIRST_CONNECTIONS, data_dir],
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
