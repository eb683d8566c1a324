"""A real server process on the test database and Debian's Chromium, for the tests that drive a browser."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from playwright.sync_api import Browser, Page, sync_playwright

from tests.catalogues import NO_DATASET_DIR
from tests.processes import database_url, free_port, wait_until_up

CHROMIUM = "/usr/bin/chromium"


@contextmanager
def running_server(log_dir: Path, **env: str) -> Iterator[str]:
    """``runserver`` on the test database (it sees committed data only) and the tests' media; yields its URL.

    ``env`` adds to or overrides the server's environment. Call it where the database may be used (the URL is
    read from the test connection)."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DEBUG": "true",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        # What the browsers do would stay in the log, committed, for the tests that read it; a test of the log
        # turns it on and removes its events.
        "EVENTS_ENABLED": "false",
        **env,
    }
    port = free_port()
    with (log_dir / "runserver.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, process)
            yield url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)


@contextmanager
def fixture_catalogue_server(log_dir: Path, **env: str) -> Iterator[str]:
    """``running_server`` for the fixture catalogue: this session's embedding models, and no way to the real
    dataset (the server starts before any test's own settings apply)."""
    with running_server(
        log_dir, EMBEDDING_MODELS_DIR=str(settings.EMBEDDING_MODELS_DIR), CATALOG_DATASET_DIR=str(NO_DATASET_DIR), **env
    ) as url:
        yield url


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, server: str, *, timeout_ms: int, **options) -> Page:
    """A page in a context of its own (its own cookies), with relative URLs resolved against the server."""
    context = browser.new_context(base_url=server, **options)
    context.set_default_timeout(timeout_ms)
    return context.new_page()
