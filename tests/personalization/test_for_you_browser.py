"""In Chromium, on the real catalogue's dresses: a new visitor views three red dresses, and the home page's "For you"
shelf then shows red dresses, though nothing was trained (the content profile of their views, queried in pgvector).

Every women's dress of the real catalogue is imported beside the dataset sample (which has one red dress) and
embedded, committed for the server process; they and the visitor's events are removed afterwards."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Browser, expect

from events.models import Event
from recommendations.models import EmbeddingSpace
from shop.catalog_import import import_catalog
from shop.models import Product
from tests import browsers
from tests.browsers import chromium, running_server
from tests.catalogues import embed_missing

pytestmark = [pytest.mark.dataset, pytest.mark.browser, pytest.mark.django_db]
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def dresses(
    dataset_catalogue: Path, embedded_catalogue: EmbeddingSpace, django_db_blocker, tmp_path_factory
) -> Iterator[list[int]]:
    """The ids of the red dresses, once every women's dress is imported and embedded."""
    folder = tmp_path_factory.mktemp("dresses")
    (folder / "images").mkdir()
    (folder / "styles").mkdir()
    with (dataset_catalogue / "styles.csv").open(newline="") as source, (folder / "styles.csv").open("w") as target:
        header = source.readline()
        target.write(header)
        for line in source:
            fields = line.split(",")
            if len(fields) >= 10 and fields[1] == "Women" and fields[4] == "Dresses":
                target.write(line)
                for name in (f"images/{fields[0]}.jpg", f"styles/{fields[0]}.json"):
                    if (dataset_catalogue / name).exists():
                        shutil.copyfile(dataset_catalogue / name, folder / name)
    with django_db_blocker.unblock():
        before = set(Product.objects.values_list("pk", flat=True))
        import_catalog(folder)
        added = set(Product.objects.values_list("pk", flat=True)) - before
        embed_missing(embedded_catalogue)
        red = list(
            Product.objects.filter(article_type="Dresses", gender="Women", base_colour="Red", in_stock=True)
            .exclude(image="")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        try:
            yield red
        finally:
            Event.objects.filter(product_id__in=added).delete()
            Product.objects.filter(pk__in=added).delete()


@pytest.fixture(scope="module")
def server(dresses, django_db_blocker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server that logs what the browser does (at once, unbuffered); the events are removed afterwards."""
    with django_db_blocker.unblock():
        started = timezone.now()
        try:
            with running_server(
                tmp_path_factory.mktemp("server"),
                EVENTS_ENABLED="true",
                EVENTS_BUFFERED="false",
                EMBEDDING_MODELS_DIR=str(settings.EMBEDDING_MODELS_DIR),
            ) as url:
                yield url
        finally:
            Event.objects.filter(created_at__gte=started).delete()


def test_three_red_dresses_viewed_bring_red_dresses_under_for_you(server: str, dresses) -> None:
    assert len(dresses) >= 6, "the real catalogue has a dozen red dresses"
    # Chromium here rather than the module's: Playwright's event loop must start after the test's transaction.
    with chromium() as browser:
        viewed_then_home(browser, server, dresses)


def viewed_then_home(browser: Browser, server: str, dresses: list[int]) -> None:
    page = browsers.new_page(browser, server, timeout_ms=TIMEOUT_MS)
    try:
        page.goto("/")
        assert page.locator("#for-you").count() == 0  # a newcomer: Trending is their list
        for product_id in dresses[:3]:
            page.goto(f"/products/{product_id}/")
        page.goto("/")
        shelf = page.locator("#for-you")
        expect(shelf.get_by_role("heading", name="For you")).to_be_visible()
        links = shelf.locator("a[href*='/products/']")
        hrefs = links.evaluate_all("links => links.map(link => link.getAttribute('href'))")
        shown = {int(href.split("/products/")[1].split("/")[0]) for href in hrefs}
        red_dresses = shown & set(dresses[3:])
        # At most two of one article type share a list: both dress places go to red ones.
        assert len(red_dresses) == 2, shown
        expect(shelf.get_by_text("Looks like the dresses you viewed").first).to_be_visible()
    finally:
        page.context.close()
