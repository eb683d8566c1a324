"""The server that scripts/start.sh runs (scripts/serve.sh: gunicorn, DEBUG off), under load, on the test database.

2,000 requests at concurrency 20 must all succeed while the server's database connections stay bounded by its
workers' pools: with a connection per thread, as without a pool, they would reach workers x (threads + the event
writer), several times the bound.
"""

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from events.models import Event
from shop.models import Product
from tests.processes import database_url, production_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

REQUESTS = 2_000
CONCURRENCY = 20
WORKERS = 2
# More threads than pooled connections per worker: each thread holding its own connection would break the bound.
THREADS = 8
POOL_MAX_SIZE = 2
APPLICATION_NAME = "serving-load-test"


def server_connections(params: dict, database: str) -> int:
    with psycopg.connect(**params, autocommit=True) as probe:
        return probe.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            [database, APPLICATION_NAME],
        ).fetchone()[0]


def get(url: str) -> int | str:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        return type(error).__name__


def test_2000_requests_at_concurrency_20_all_succeed_with_bounded_database_connections(
    embedded_catalogue, django_db_blocker, tmp_path: Path
):
    since = timezone.now()
    with django_db_blocker.unblock():
        product_ids = list(Product.objects.order_by("pk").values_list("pk", flat=True)[:40])
        image_url = Product.objects.exclude(image="").order_by("pk").first().image.url
        params = connection.get_connection_params()
        database = params["dbname"]
        probe_params = {key: params[key] for key in ("host", "port", "user", "password") if params.get(key)}
        probe_params["dbname"] = database
        server_env = {
            "DATABASE_URL": database_url() + f"?application_name={APPLICATION_NAME}",
            "WEB_CONCURRENCY": str(WORKERS),
            "WEB_THREADS": str(THREADS),
            "DATABASE_POOL_MAX_SIZE": str(POOL_MAX_SIZE),
        }
        with production_server(tmp_path / "server.log", **server_env) as server:
            paths = ["/", "/products/", "/products/?page=2"] + [f"/products/{pk}/" for pk in product_ids]
            urls = [server + paths[index % len(paths)] for index in range(REQUESTS)]
            assert get(server + "/static/css/shop.css") == 200, "whitenoise serves the collected files"
            assert get(server + image_url) == 200, "product photos are served with DEBUG off (SERVE_MEDIA)"

            seen: list[int] = []
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    seen.append(server_connections(probe_params, database))
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.monotonic()
            try:
                with ThreadPoolExecutor(CONCURRENCY) as pool:
                    outcomes = Counter(pool.map(get, urls))
            finally:
                elapsed = time.monotonic() - started
                done.set()
                sampler.join(timeout=10)
            log = (tmp_path / "server.log").read_text()
        # The server logged its visitors' views and lists for real: leave no trace for the tests that read the log.
        Event.objects.filter(created_at__gte=since).delete()

    bound = WORKERS * POOL_MAX_SIZE
    print(
        f"{REQUESTS} requests in {elapsed:.1f} s ({REQUESTS / elapsed:.0f}/s), outcomes {dict(outcomes)}; "
        f"server connections: at most {max(seen)} in {len(seen)} samples, bound {bound}"
    )
    assert outcomes == {200: REQUESTS}, log[-3000:]
    assert len(seen) >= 10
    assert max(seen) <= bound
