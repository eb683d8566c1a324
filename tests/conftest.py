"""Two tiers of tests.

- Tier 1, every test not marked ``dataset``: runs on a fresh clone. The database holds the fixture catalogue
  (``tests/fixtures/catalogue``: 60 real products, see tests/fixtures/README.md), its photos are in
  ``tests/fixtures/photos`` (``fixture_catalog_dir``, ``fixture_photos_dir``), and the real dataset is out of reach:
  ``CATALOG_DATASET_DIR`` points at a folder that does not exist and ``catalog_dir`` refuses to serve.
- Tier 2, tests marked ``dataset``: they read the real Kaggle catalogue (``CATALOG_DATASET_DIR``, ../shared) through
  ``catalog_dir``. They run after every tier-1 test; the first of them imports the first ``SAMPLE_SIZE`` rows of the
  real styles.csv (a superset of the fixture) and embeds what the session's space lacks, so that they see the sample
  catalogue. Without the dataset they fail: select ``-m "not dataset"`` on a clone without ../shared.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from playwright.sync_api import Browser
from rest_framework.test import APIClient

from events.models import Event, ProductPopularity
from recommendations.models import EmbeddingSpace
from recommendations.vectors import services
from shop.catalog_import import import_catalog
from shop.models import Brand, Product
from tests.browsers import chromium
from tests.catalogues import FIXTURE_CATALOG_DIR, FIXTURE_PHOTOS_DIR, NO_DATASET_DIR, SAMPLE_SIZE, embed_missing

DATASET = "dataset"

# Servers and workers that tests start get the test database alone: replicas that the environment names
# (DATABASE_REPLICA_URLS) hold the developer's database. This process has read them already, as test mirrors.
os.environ.pop("DATABASE_REPLICA_URLS", None)

_embedded_space = pytest.StashKey[EmbeddingSpace]()


def is_dataset_test(item: pytest.Item) -> bool:
    return item.get_closest_marker(DATASET) is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixturenames = getattr(item, "fixturenames", None)
        if is_dataset_test(item) and fixturenames is not None and "dataset_catalogue" not in fixturenames:
            # First of all the test's fixtures, so that the sample is committed before a test transaction opens.
            fixturenames.insert(0, "dataset_catalogue")
    # Every tier-1 test first, while the database holds the fixture catalogue only; a stable sort keeps the order
    # within each tier (pytest-django's, which ran before).
    items.sort(key=is_dataset_test)


def real_catalog_dir() -> Path:
    path = Path(settings.CATALOG_DATASET_DIR)
    if not (path / "styles.csv").is_file():
        pytest.fail(
            f"The Kaggle catalogue is not at {path}, and tests marked `dataset` read it: set CATALOG_DATASET_DIR to "
            'the folder with styles.csv and images/, or leave these tests out with -m "not dataset".'
        )
    return path


@pytest.fixture(autouse=True)
def catalogue_tier(request: pytest.FixtureRequest):
    """A tier-1 test cannot reach the real catalogue through the CATALOG_DATASET_DIR setting."""
    if is_dataset_test(request.node):
        yield
        return
    with override_settings(CATALOG_DATASET_DIR=NO_DATASET_DIR):
        yield


@pytest.fixture
def catalog_dir(request: pytest.FixtureRequest) -> Path:
    """The real Kaggle catalogue (``CATALOG_DATASET_DIR``), for tests marked ``dataset`` only."""
    if not is_dataset_test(request.node):
        pytest.fail(
            f"{request.node.nodeid}: this test reads the real catalogue: mark it `dataset`, "
            "or use fixture_catalog_dir and fixture_photos_dir."
        )
    return real_catalog_dir()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture(scope="session")
def fixture_catalog_dir() -> Path:
    """The fixture catalogue, in Kaggle's layout: ``styles.csv``, ``images/<id>.jpg``, ``styles/<id>.json``."""
    return FIXTURE_CATALOG_DIR


@pytest.fixture(scope="session")
def fixture_photos_dir() -> Path:
    """Full-size photos of fixture products, downscaled to 600x800: ``<product id>.jpg``."""
    return FIXTURE_PHOTOS_DIR


@pytest.fixture(scope="session", autouse=True)
def in_process_cache():
    """The tests' cache is their process's memory even where CACHE_URL is set: ``empty_cache`` would flush a shared
    Redis database. The tests of the shared cache set their own (tests/project/test_shared_cache.py)."""
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    """Django's cache (in-process in tests) would carry one test's pages, progress and API throttling counts into
    the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def session_media_root(tmp_path_factory: pytest.TempPathFactory):
    # Events are written at once, in the test's transaction (the buffered writer has tests of its own).
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"), EVENTS_BUFFERED=False):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, session_media_root) -> None:
    """Every test starts from the fixture catalogue (rolled back after each test), with no embedding space."""
    name = connection.settings_dict["NAME"]
    if not name.startswith("test"):
        pytest.exit(f"Refusing to replace the catalogue of database {name!r}: it is not a test database.")
    with django_db_blocker.unblock():
        Event.objects.all().delete()  # an earlier session's, on a reused database
        ProductPopularity.objects.all().delete()
        Product.objects.all().delete()
        Brand.objects.all().delete()
        import_catalog(FIXTURE_CATALOG_DIR)
        # Without a broker the import embeds a catalogue this small in process. Start from none of its embeddings
        # (nor an earlier session's, on a reused database), as on a large catalogue: `embedded_catalogue` builds
        # the space for the tests that ask.
        EmbeddingSpace.objects.all().delete()


@pytest.fixture(scope="session")
def embedded_catalogue(request: pytest.FixtureRequest, django_db_setup, django_db_blocker) -> EmbeddingSpace:
    """The catalogue embedded with the default model: a complete space that serves similar items.

    Committed once per session (before any test transaction opens, as session fixtures come first). Set up in
    tier 1 it holds the fixture catalogue; ``dataset_catalogue`` then adds the sample.
    """
    with django_db_blocker.unblock():
        space = services.target_space()
        EmbeddingSpace.objects.exclude(pk=space.pk).delete()
        embed_missing(space)
    request.config.stash[_embedded_space] = space
    return space


@pytest.fixture(scope="session")
def dataset_catalogue(request: pytest.FixtureRequest, django_db_setup, django_db_blocker) -> Path:
    """The first SAMPLE_SIZE products of the real catalogue, committed (and embedded, once ``embedded_catalogue``
    exists); set up by the first test marked ``dataset``, as every tier-1 test has run by then."""
    path = real_catalog_dir()
    with django_db_blocker.unblock():
        import_catalog(path, limit=SAMPLE_SIZE)
        space = request.config.stash.get(_embedded_space, None)
        if space is not None:
            embed_missing(space)
    return path


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Browser]:
    """Debian's Chromium, for the browser tests of a module (each test opens its own pages). Launched after the
    module's ``server`` fixture: Playwright's event loop runs from then on, and Django refuses database work inside
    it."""
    with chromium() as browser:
        yield browser
