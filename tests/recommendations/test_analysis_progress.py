"""While the configured model's space is being built: what the shop owner and the shoppers are told."""

from html import unescape

import pytest
from django.urls import reverse

from recommendations.models import EmbeddingSpace
from recommendations.vectors import services
from recommendations.vectors.selectors import catalogue_analysis
from shop.models import Product
from tests.shelves import SHELVES

pytestmark = pytest.mark.django_db

EMBEDDED = 6


@pytest.fixture
def half_built() -> EmbeddingSpace:
    """A dozen products with images, half of them embedded in a space still being built."""
    EmbeddingSpace.objects.all().delete()
    keep = list(Product.objects.exclude(image="").order_by("pk").values_list("pk", flat=True)[: 2 * EMBEDDED])
    Product.objects.exclude(pk__in=keep).delete()
    space = services.target_space()
    services.embed_products(space, keep[:EMBEDDED])
    return space


def test_the_analysis_is_the_share_of_photos_done_in_the_newest_space(half_built: EmbeddingSpace):
    analysis = catalogue_analysis()

    assert (analysis.done, analysis.total, analysis.percent) == (EMBEDDED, 2 * EMBEDDED, 50)


def test_a_product_page_says_how_far_the_analysis_is_instead_of_similar_items(client, half_built: EmbeddingSpace):
    product = Product.objects.exclude(image="").order_by("pk").first()

    url = reverse("shop:product-detail", args=[product.pk])
    page = unescape(client.get(url, headers=SHELVES).content.decode())

    assert "We are analysing the catalogue's photos (50% done)" in page
    assert "product-grid--similar" not in page


def test_the_admin_shows_each_spaces_progress_rate_and_time_left(admin_client, half_built: EmbeddingSpace):
    page = admin_client.get(reverse("admin:recommendations_embeddingspace_changelist")).content.decode()

    assert '<progress value="0.5000" max="1"' in page
    # Six photos in the last minute: 0.1 a second, and six left to do.
    assert "50%, 0.1 photos/s, about 1 min left" in page
    assert f"{EMBEDDED} / 0 / {2 * EMBEDDED}" in page
