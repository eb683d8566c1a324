"""What a serving process (the web app, a worker that embeds) loads: ONNX Runtime, never torch; and an admin that
does not depend on the order of the installed apps."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

from recommendations.models import EmbeddingSpace
from shop.models import Product
from tests.processes import database_url

pytestmark = pytest.mark.django_db

# What only the offline work (export, training, evaluation, reports) needs.
OFFLINE_PACKAGES = ["torch", "torchvision", "efficientnet_lite_pytorch", "onnx", "onnxscript", "matplotlib"]

SERVING = """
import json, sys
import django
django.setup()
from django.test import Client
from recommendations.vectors import services
from shop.models import Product

product = Product.objects.exclude(image="").order_by("pk").first()
client = Client()
pages = {
    "home": client.get("/").status_code,
    "product": client.get(f"/products/{product.pk}/").status_code,
    "similar": client.get(f"/api/products/{product.pk}/similar/").status_code,
}
with open(product.image.path, "rb") as photo:
    pages["photo page"] = client.post("/search/photo/", {"image": photo}).status_code
with open(product.image.path, "rb") as photo:
    response = client.post("/api/search/photo/", {"image": photo})
pages["photo api"] = response.status_code
found = [item["id"] for item in response.json()["results"]]
# What an embedding worker does, without writing: read the images and compute their vectors.
ids = list(Product.objects.exclude(image="").order_by("pk").values_list("pk", flat=True)[:8])
rows, outcome = services.compute_embeddings(services.target_space(), ids)
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.argv[1])))
print(json.dumps({"pages": pages, "found": found, "embedded": outcome.embedded, "loaded": loaded}))
"""


def run_python(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_serving_process_answers_pages_and_embeds_without_torch(embedded_catalogue: EmbeddingSpace):
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "EMBEDDING_MODELS_DIR": str(settings.EMBEDDING_MODELS_DIR),
    }
    # torch is installed here (the tests train models): only the code keeps it out.
    assert run_python("import torch", env=env).returncode == 0

    done = run_python(SERVING, json.dumps(OFFLINE_PACKAGES), env=env)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["pages"].values()) == {200}, result["pages"]
    first = Product.objects.exclude(image="").order_by("pk").first()
    assert first.pk in result["found"][:3]
    assert result["embedded"] == 8
    assert result["loaded"] == []


ADMIN = """
import django
django.setup()
from django.conf import settings
from django.contrib import admin
from django.test import RequestFactory
from recommendations.models import EmbeddingSpace
from shop.models import Product

request = RequestFactory().get("/admin/shop/product/")
product_admin = admin.site._registry[Product]
print(settings.INSTALLED_APPS.index("recommendations") < settings.INSTALLED_APPS.index("shop"))
print("embedding_status" in [getattr(c, "__name__", c) for c in product_admin.get_list_display(request)])
print(EmbeddingSpace in admin.site._registry)
"""


def test_the_product_admin_shows_embeddings_whatever_the_order_of_the_apps(tmp_path: Path):
    (tmp_path / "reversed_apps.py").write_text(
        "from config.settings import *  # noqa: F403\n"
        "INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in ('shop', 'recommendations')]"
        " + ['recommendations', 'shop']\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "reversed_apps",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(settings.BASE_DIR)]),
        "DATABASE_URL": database_url(),
    }

    done = run_python(ADMIN, env=env)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]
