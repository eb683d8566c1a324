"""The shared cache: with CACHE_URL, Django's cache is Redis, one for the gunicorn workers and every other process;
a price or stock changed through the admin or the stock service shows on the server's next page; without
CACHE_URL each process has its own memory; and Redis being away costs no page.

The server (scripts/serve.sh) and this process use a Redis database of their own (TEST_REDIS_URL's server, database
13) under a key prefix of this run, whose keys are deleted afterwards; nothing else in Redis is touched.
"""

import os
import re
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.test import Client, override_settings
from django.urls import reverse

from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors.selectors import SimilarOptions, similar_cache_key, similar_products
from shop import generations
from shop.models import Product, Sku
from shop.selectors import NAVIGATION_CACHE_KEY, NavigationNode
from shop.services import refresh_in_stock, reserve_stock
from tests.processes import free_port, production_server
from tests.shelves import SHELVES
from tests.shop.html_forms import form_fields

ADMIN = "shared-cache-admin"
ADMIN_PASSWORD = "a-long-admin-password-42"


def cache_url() -> str:
    base = urlparse(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    return base._replace(path="/13").geturl()


def redis_caches(prefix: str, url: str | None = None) -> dict:
    return {
        "default": {
            "BACKEND": "config.cache.ForgivingRedisCache",
            "LOCATION": url or cache_url(),
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@dataclass
class Shop:
    url: str
    product: Product  # its similar items include `neighbour`
    neighbour: Product
    sku: Sku  # the size of the neighbour whose last unit a test sells


@pytest.fixture(scope="module")
def prefix() -> Iterator[str]:
    """This run's key prefix, for the server and this process; its keys are deleted afterwards."""
    prefix = f"test-shared-cache-{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis.from_url(cache_url())
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def on_redis(prefix: str) -> Iterator[None]:
    """This process's cache is the server's, during the test only: the suite's ``empty_cache`` clears the whole
    cache before and after each test, which on Redis would empty the database."""
    with override_settings(CACHES=redis_caches(prefix)):
        yield


@pytest.fixture(scope="module")
def shop(prefix: str, embedded_catalogue: EmbeddingSpace, django_db_blocker, tmp_path_factory) -> Iterator[Shop]:
    """The server on Redis, 2 workers; an admin account; a product whose nearest neighbour has a size with stock."""
    with django_db_blocker.unblock():
        embedded = ProductEmbedding.objects.filter(space=embedded_catalogue, status=ProductEmbedding.Status.OK)
        product = Product.objects.get(pk=embedded.order_by("product_id").values_list("product_id", flat=True)[0])
        neighbour = similar_products(product)[0].product
        sizes = list(Sku.objects.filter(product=neighbour).order_by("pk"))
        before = {size.pk: size.stock for size in sizes}
        price, list_price = neighbour.price, neighbour.list_price
        users = get_user_model().objects
        users.filter(username=ADMIN).delete()
        users.create_superuser(ADMIN, f"{ADMIN}@example.com", ADMIN_PASSWORD)
        try:
            with production_server(
                tmp_path_factory.mktemp("shared-cache") / "server.log",
                CACHE_URL=cache_url(),
                CACHE_KEY_PREFIX=prefix,
                WEB_CONCURRENCY="2",
            ) as url:
                yield Shop(url, product, neighbour, sizes[0])
        finally:
            for pk, stock in before.items():
                Sku.objects.filter(pk=pk).update(stock=stock)
            refresh_in_stock([neighbour.pk])
            Product.objects.filter(pk=neighbour.pk).update(price=price, list_price=list_price)
            users.filter(username=ADMIN).delete()


def get(url: str, headers: dict[str, str] | None = None) -> str:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=60) as response:
        return response.read().decode()


def similar_section(html: str) -> str:
    return html[html.index('id="similar-items"') :]


def card_price(html: str, product: Product) -> str:
    """The price on the card of ``product`` in the similar items."""
    section = similar_section(html)
    card = section[section.index(f'href="{product.get_absolute_url()}') :]
    return re.search(r'class="price__now">([^<]+)<', card).group(1)


def test_the_server_shows_what_another_process_put_in_the_cache(shop: Shop, on_redis: None):
    sentinel = (NavigationNode("Shared Cache Sentinel", 1, ()),)
    # A generation of the catalogue that no worker holds the navigation of yet (shop.generations.HeldPerGeneration).
    generations.bump(generations.CATALOGUE)
    cache.set(NAVIGATION_CACHE_KEY, sentinel, 60, version=generations.current(generations.CATALOGUE))
    try:
        for _ in range(4):  # two workers: both read this process's entry
            assert "Shared Cache Sentinel" in get(shop.url + "/")
    finally:
        cache.delete(NAVIGATION_CACHE_KEY, version=generations.current(generations.CATALOGUE))


def test_similar_items_the_server_ranked_are_read_here(shop: Shop, on_redis: None, django_db_blocker):
    get(shop.url + shop.product.get_absolute_url(), SHELVES)
    with django_db_blocker.unblock():
        space = EmbeddingSpace.objects.get(state=EmbeddingSpace.State.COMPLETE, backbone=settings.EMBEDDING_MODEL)
        key = similar_cache_key(
            space, shop.product, k=settings.SIMILAR_ITEMS_COUNT, options=SimilarOptions(), metadata_ranking=False
        )
    ranking = cache.get(key)
    assert ranking, "the server cached the ranking where this process finds it"
    assert ranking[0].product_id == shop.neighbour.pk


def test_a_price_changed_in_the_admin_shows_on_the_next_pages(shop: Shop, on_redis: None, django_db_blocker):
    product_page = shop.url + shop.product.get_absolute_url()
    with django_db_blocker.unblock():
        top = int(Product.objects.exclude(price=None).order_by("-price").values_list("price", flat=True).first())
    above = f"{shop.url}/products/?price_min={top + 1}"
    assert 'listing__count">0 products' in get(above)  # the server caches the facet counts of nothing
    get(product_page, SHELVES)
    new_price = top + 500

    with django_db_blocker.unblock():
        admin = Client()
        admin.login(request=HttpRequest(), username=ADMIN, password=ADMIN_PASSWORD)  # django-axes wants a request
        url = reverse("admin:shop_product_change", args=[shop.neighbour.pk])
        data = form_fields(admin.get(url).content.decode(), "product_form")
        response = admin.post(url, {**data, "price": str(new_price), "list_price": ""})
        assert response.status_code == 302, response.content.decode()[-2000:]

    assert card_price(get(product_page, SHELVES), shop.neighbour) == f"₹{new_price:,}"
    listing = get(above)
    assert 'listing__count">1 product<' in listing
    facet = rf'facet__value">{re.escape(shop.neighbour.article_type)}</span> <span class="count">1<'
    assert re.search(facet, listing), "the facet counts were computed again"


def test_the_last_unit_sold_takes_the_product_off_the_in_stock_similar_items(
    shop: Shop, on_redis: None, django_db_blocker
):
    in_stock_only = shop.url + shop.product.get_absolute_url() + "?in_stock=1"
    with django_db_blocker.unblock():
        Sku.objects.filter(product=shop.neighbour).update(stock=0)
        Sku.objects.filter(pk=shop.sku.pk).update(stock=1)
        refresh_in_stock([shop.neighbour.pk])  # still in stock: one unit
    assert shop.neighbour.get_absolute_url() in similar_section(get(in_stock_only, SHELVES))  # ranked and cached

    with django_db_blocker.unblock(), transaction.atomic():
        reserve_stock({shop.sku.pk: 1})  # a checkout's reservation, committed

    assert shop.neighbour.get_absolute_url() not in similar_section(get(in_stock_only, SHELVES))
    all_similar = similar_section(get(shop.url + shop.product.get_absolute_url(), SHELVES))
    card = all_similar[all_similar.index(shop.neighbour.get_absolute_url()) :]
    assert "Out of stock" in card[: card.index("</li>")]


def test_without_a_cache_url_each_process_keeps_its_own_cache():
    assert "LocMemCache" in backend_of(CACHE_URL="")
    assert "ForgivingRedisCache" in backend_of(CACHE_URL=cache_url())


def backend_of(**env: str) -> str:
    code = (
        "import django; django.setup(); from django.core.cache import caches; print(type(caches['default']).__name__)"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout + result.stderr


@pytest.mark.django_db
def test_pages_are_served_while_redis_cannot_be_reached(client: Client, caplog):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    product = Product.objects.exclude(image="").first()
    with override_settings(CACHES=redis_caches("unreachable", nowhere)):
        cache.set("key", "value")
        assert cache.get("key") is None
        assert client.get("/").status_code == 200
        assert client.get(reverse("shop:product-list"), {"price_min": "1"}).status_code == 200
        assert client.get(product.get_absolute_url()).status_code == 200
    assert any(record.name == "config.cache" for record in caplog.records)
