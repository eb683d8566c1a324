from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings

from recommendations.models import EmbeddingSpace
from recommendations.vectors import services
from recommendations.vectors.selectors import products_to_embed
from shop.models import Product
from shop.services import import_catalog

# The first rows of the real styles.csv: enough variety for the storefront tests.
SAMPLE_SIZE = 3000


@pytest.fixture(scope="session")
def catalog_dir() -> Path:
    path = Path(settings.CATALOG_DATASET_DIR)
    if not (path / "styles.csv").is_file():
        pytest.fail(
            f"The Kaggle catalogue is not at {path}; set CATALOG_DATASET_DIR to a folder with styles.csv and images/."
        )
    return path


@pytest.fixture(autouse=True)
def empty_cache():
    """Django's cache (in-process in tests) would carry one test's pages and progress into the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def session_media_root(tmp_path_factory: pytest.TempPathFactory):
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, catalog_dir: Path, session_media_root) -> None:
    """Every test starts from a sample of the real catalogue (rolled back after each test)."""
    name = connection.settings_dict["NAME"]
    if not name.startswith("test"):
        pytest.exit(f"Refusing to replace the catalogue of database {name!r}: it is not a test database.")
    with django_db_blocker.unblock():
        Product.objects.all().delete()
        import_catalog(catalog_dir, limit=SAMPLE_SIZE)


@pytest.fixture(scope="session")
def embedded_catalogue(django_db_setup, django_db_blocker) -> EmbeddingSpace:
    """The sample catalogue embedded with the default model: a complete space that serves similar items.

    Committed once per session (before any test transaction opens, as session fixtures come first).
    """
    with django_db_blocker.unblock():
        space = services.target_space()
        EmbeddingSpace.objects.exclude(pk=space.pk).delete()
        missing = list(products_to_embed(space, "missing").order_by("pk").values_list("pk", flat=True))
        for batch in services.chunked(missing, 512):
            services.embed_products(space, batch)
        services.complete_space_if_done(space)
    return space
