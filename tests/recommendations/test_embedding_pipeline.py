"""Embeddings computed in process (no broker configured): storage, spaces, the command, the admin."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import override_settings
from torchvision.models import resnet18

from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.offline.backbones import BACKBONES, load_backbone
from recommendations.offline.export import export_model
from recommendations.vectors import services
from recommendations.vectors.selectors import products_to_embed, serving_space
from shop.models import Product

pytestmark = pytest.mark.django_db

KEPT = 12


@pytest.fixture
def small_catalogue() -> list[int]:
    """Only a dozen products with images (and one without) remain, so a space completes quickly.

    No embedding space exists yet (one the session built for similar items is deleted until the rollback).
    """
    EmbeddingSpace.objects.all().delete()
    keep = list(Product.objects.exclude(image="").order_by("pk").values_list("pk", flat=True)[:KEPT])
    Product.objects.exclude(pk__in=keep).delete()
    Product.objects.create(pk=999_001, name="Product without a photo")
    return keep


def embed(space: EmbeddingSpace, ids: list[int]) -> services.EmbedOutcome:
    return services.embed_products(space, ids)


def test_embeddings_are_stored_unit_length_with_their_image(small_catalogue: list[int]) -> None:
    space = services.target_space()

    outcome = embed(space, small_catalogue)

    assert outcome.embedded == KEPT and not outcome.failed
    rows = ProductEmbedding.objects.filter(space=space).select_related("product")
    assert rows.count() == KEPT
    for row in rows:
        assert row.status == ProductEmbedding.Status.OK
        assert len(row.vector) == space.dimensions
        assert np.linalg.norm(row.vector) == pytest.approx(1.0, abs=1e-4)
        assert row.image_sha256 == row.product.image_sha256
    with default_storage.open(rows[0].product.image.name) as handle:
        direct = services.get_encoder(space.backbone).encode_one(handle)
    assert float(np.dot(direct, rows[0].vector)) > 0.999


def test_broken_and_missing_images_are_recorded_without_failing_the_batch(small_catalogue: list[int]) -> None:
    broken = Product.objects.create(name="Broken photo", image_sha256="x" * 64)
    broken.image.save("broken.jpg", ContentFile(b"\xff\xd8\xff\xe0 truncated JPEG"), save=True)
    missing = Product.objects.create(
        name="Lost photo", image="products/gone.jpg", image_width=60, image_height=80, image_sha256="y" * 64
    )
    space = services.target_space()

    outcome = embed(space, [*small_catalogue, broken.pk, missing.pk, 999_001])

    assert outcome.embedded == KEPT
    assert set(outcome.failed) == {broken.pk, missing.pk}
    assert outcome.skipped == [999_001]
    broken_row = ProductEmbedding.objects.get(space=space, product=broken)
    assert broken_row.status == ProductEmbedding.Status.FAILED and broken_row.vector is None
    assert "cannot read image" in broken_row.error
    assert "missing" in ProductEmbedding.objects.get(space=space, product=missing).error


def save_seeded_resnet18(folder: Path) -> Path:
    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / BACKBONES["resnet18"].weights.file_name
    torch.save(resnet18().state_dict(), path)
    return path


def test_switching_models_keeps_serving_the_old_space_until_the_new_one_is_complete(
    small_catalogue: list[int], tmp_path: Path
) -> None:
    old = services.target_space()
    embed(old, small_catalogue[:6])
    assert serving_space() is None  # incomplete spaces never serve
    embed(old, small_catalogue[6:])
    old.refresh_from_db()
    assert old.state == EmbeddingSpace.State.COMPLETE
    assert serving_space() == old

    save_seeded_resnet18(tmp_path / "weights")
    export_model(load_backbone("resnet18", weights_dir=tmp_path / "weights", input_size=192), tmp_path / "models")
    with override_settings(EMBEDDING_MODEL="resnet18", EMBEDDING_MODELS_DIR=tmp_path / "models"):
        new = services.target_space()
        assert new.backbone == "resnet18" and new.dimensions == 512
        embed(new, small_catalogue[:6])
        assert serving_space() == old
        assert ProductEmbedding.objects.filter(space=old, status="ok").count() == KEPT

        embed(new, small_catalogue[6:])
        assert serving_space() == new
        assert ProductEmbedding.objects.filter(space=old, status="ok").count() == KEPT
    services.get_encoder.cache_clear()


def test_rebuild_command_embeds_missing_then_stale(small_catalogue: list[int]) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("rebuild_embeddings", "--missing", stdout=out, stderr=err)

    assert f"{KEPT} products to embed" in out.getvalue()
    assert f"Embedded {KEPT}, failed 0, skipped 1 without image (999001)" in out.getvalue()
    assert "is complete" in out.getvalue()
    assert "img/s" in err.getvalue()
    space = services.target_space()
    assert not products_to_embed(space, "missing").exists()

    changed = Product.objects.get(pk=small_catalogue[0])
    other = Product.objects.get(pk=small_catalogue[1])
    changed.image, changed.image_sha256 = other.image.name, other.image_sha256
    changed.save()
    assert list(products_to_embed(space, "stale").values_list("pk", flat=True)) == [changed.pk]

    out = io.StringIO()
    call_command("rebuild_embeddings", "--stale", stdout=out, stderr=io.StringIO())
    assert "1 products to embed (stale)" in out.getvalue()
    assert not products_to_embed(space, "stale").exists()
    vectors = dict(ProductEmbedding.objects.filter(product__in=[changed, other]).values_list("product", "vector"))
    assert float(np.dot(vectors[changed.pk], vectors[other.pk])) > 0.9999


def test_a_new_image_is_embedded_once_its_transaction_commits(
    small_catalogue: list[int], django_capture_on_commit_callbacks
) -> None:
    from shop.signals import product_images_changed

    product = Product.objects.get(pk=small_catalogue[0])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        product_images_changed.send(sender=Product, product_ids=[product.pk])
    assert not ProductEmbedding.objects.filter(product=product).exists()

    for callback in callbacks:
        callback()
    row = ProductEmbedding.objects.get(product=product, space=services.target_space())
    assert row.status == ProductEmbedding.Status.OK


def test_admin_shows_embedding_status_and_re_embeds_on_request(small_catalogue: list[int], admin_client) -> None:
    space = services.target_space()
    embed(space, small_catalogue[:3])
    ProductEmbedding.objects.filter(product_id=small_catalogue[0]).update(image_sha256="0" * 64)

    page = admin_client.get("/admin/shop/product/").content.decode()
    assert page.count(">embedded<") == 2
    assert page.count(">stale<") == 1
    assert page.count(">missing<") == KEPT - 3
    assert ">no image<" in page

    response = admin_client.post(
        "/admin/shop/product/",
        {"action": "re_embed", "_selected_action": [str(pk) for pk in small_catalogue]},
    )
    assert response.status_code == 302
    assert ProductEmbedding.objects.filter(space=space, status="ok").count() == KEPT
    assert not products_to_embed(space, "stale").exists()
