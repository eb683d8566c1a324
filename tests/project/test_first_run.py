"""The README's first command, as a new user runs it: scripts/start.sh on a database of its own.

It serves as soon as the catalogue is imported, while the photos are analysed in the background (by a background
process, or by a Celery worker it starts when a broker is configured), and the product pages show similar items
once that is done.
"""

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.processes import database_url, free_port
from tests.shelves import SHELVES

ROOT = Path(settings.BASE_DIR)
FIXTURE_CATALOGUE = ROOT / "tests" / "fixtures" / "catalogue"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# django_db: pytest-django sets up the test database only when a selected test asks for one.
pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def fresh_database(django_db_setup, django_db_blocker) -> Iterator[str]:
    """An empty database on the test server, as a fresh machine's would be; dropped afterwards."""
    name = f"first_run_{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        params = connection.get_connection_params()
        url = database_url().rsplit("/", 1)[0] + f"/{name}"
    server = {key: value for key, value in params.items() if key in {"host", "port", "user", "password"}}
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield url
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def fetch(url: str, headers: dict[str, str] | None = None) -> str | None:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):  # not serving yet, or busy starting
        return None


def wait_for(condition, *, timeout: float, process: subprocess.Popen, log: Path) -> float:
    """Seconds until ``condition()`` holds; fails with the script's output if it does not or the script exits."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            pytest.fail(f"scripts/start.sh exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        if condition():
            return time.monotonic() - started
        time.sleep(0.5)
    pytest.fail(f"Timed out after {timeout} s. scripts/start.sh said:\n{log.read_text()[-3000:]}")


@pytest.mark.parametrize("broker", [False, True], ids=["background process", "celery worker"])
def test_the_first_command_serves_and_shows_similar_items_once_the_photos_are_analysed(
    fresh_database: str, tmp_path: Path, broker: bool
):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PORT": str(port),
        "CELERY_BROKER_URL": REDIS_URL if broker else "",
        # As with a full catalogue: the import leaves every photo to the background analysis.
        "EMBEDDING_INLINE_LIMIT": "0",
    }
    log = tmp_path / "start.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["scripts/start.sh", str(FIXTURE_CATALOGUE)],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: fetch(f"{base}/") is not None, timeout=300, process=process, log=log)
        product_id = int(re.search(r'href="/products/(\d+)/[?"]', fetch(f"{base}/")).group(1))

        def similar_items_shown() -> bool:
            page = fetch(f"{base}/products/{product_id}/", SHELVES) or ""
            return 'class="product-grid product-grid--similar"' in page

        wait_for(similar_items_shown, timeout=300, process=process, log=log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)

    said = log.read_text()
    assert "Storefront: http://127.0.0.1:" in said
    if not broker:
        # With a broker the import's own tasks may have embedded everything before the script asks for the rest.
        assert re.search(r"Embedding: +100%\|", said), "the console shows the embedding's progress bar"
        assert "is complete, serving similar items" in said
