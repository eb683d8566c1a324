"""Product descriptions are the merchant's HTML: only text markup survives, on import, in the admin and on the page."""

import json
import shutil
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from shop.catalog_import import import_catalog
from shop.catalog_json import read_style, sanitise_description
from shop.models import Product
from tests.catalogues import FIXTURE_CATALOG_DIR
from tests.shop.html_forms import form_fields

# Every way in carries the marker "stealCookies", so that a page can be searched for any trace of it.
HOSTILE = (
    '<p style="background:url(javascript:stealCookies())" onclick="stealCookies()">Soft <strong>cotton</strong>'
    "<br />tee</p>"
    "<script>stealCookies()</script>"
    '<img src="x.jpg" onerror="stealCookies()">'
    "<style>body { background: url(stealCookies) }</style>"
    '<a href="javascript:stealCookies()">Size guide</a>'
    '<iframe src="https://evil.example/stealCookies"></iframe>'
)
HOSTILE_CLEANED = "<p>Soft <strong>cotton</strong><br>tee</p>Size guide"


@pytest.mark.parametrize(
    "html, expected",
    [
        ('<script>alert("stealCookies")</script>Text', "Text"),  # the script and what it says
        ("<SCRIPT>stealCookies()</SCRIPT><p>Up</p>", "<p>Up</p>"),
        ('<p onclick="stealCookies()">Hi</p>', "<p>Hi</p>"),
        ('<img src="x" onerror="stealCookies()">Photo', "Photo"),
        ('<svg onload="stealCookies()">logo</svg>', "logo"),
        ('<p style="color: red; background: url(stealCookies)">Red</p>', "<p>Red</p>"),
        ("<style>p { color: red }</style><p>Plain</p>", "<p>Plain</p>"),
        ('<a href="javascript:stealCookies()">Click</a>', "Click"),
        ('<a href="https://shop.example/">Link</a>', "Link"),  # no link at all: not even a safe one
        ('<strong class="x" id="y">Bold</strong>', "<strong>Bold</strong>"),
        ("&lt;script&gt;stealCookies()&lt;/script&gt;", "&lt;script&gt;stealCookies()&lt;/script&gt;"),  # text
        ("<scr<script>ipt>stealCookies()</script>", "ipt&gt;stealCookies()"),  # text, not a tag
        ("<div><span>Wrapped</span></div><h1>Heading</h1>", "WrappedHeading"),
    ],
)
def test_only_text_markup_is_kept(html: str, expected: str) -> None:
    assert sanitise_description(html) == expected


def test_text_paragraphs_breaks_emphasis_and_lists_are_kept() -> None:
    html = (
        "<p>Machine wash<br />Do not bleach &amp; dry in shade</p>"
        "<p><strong>Fit</strong> <b>Slim</b> <em>model</em> <i>wears</i> <u>M</u></p>"
        "<ul><li>Cotton</li></ul><ol><li>Wash</li></ol>"
    )

    assert sanitise_description(html) == (
        "<p>Machine wash<br>Do not bleach &amp; dry in shade</p>"
        "<p><strong>Fit</strong> <b>Slim</b> <em>model</em> <i>wears</i> <u>M</u></p>"
        "<ul><li>Cotton</li></ul><ol><li>Wash</li></ol>"
    )


def test_hostile_html_keeps_its_text_only() -> None:
    assert sanitise_description(HOSTILE) == HOSTILE_CLEANED


def test_a_product_files_description_is_sanitised_as_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "15970.json"
    document = json.loads((FIXTURE_CATALOG_DIR / "styles" / "15970.json").read_text(encoding="utf-8"))
    document["data"]["productDescriptors"]["description"]["value"] = HOSTILE
    path.write_text(json.dumps(document), encoding="utf-8")

    assert read_style(path, 15970).description == HOSTILE_CLEANED


@pytest.mark.django_db
def test_the_import_stores_the_description_sanitised(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    dataset = Path(shutil.copytree(FIXTURE_CATALOG_DIR, tmp_path / "kaggle"))
    path = dataset / "styles" / "15970.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["data"]["productDescriptors"]["description"]["value"] = HOSTILE
    path.write_text(json.dumps(document), encoding="utf-8")

    import_catalog(dataset)

    assert Product.objects.get(pk=15970).description == HOSTILE_CLEANED
    # The fixture's own descriptions come with inline styles: none is left.
    assert not Product.objects.filter(description__icontains="style=").exists()
    assert Product.objects.filter(description__startswith="<p>").count() > 40


@pytest.mark.django_db
def test_a_description_saved_in_the_admin_is_sanitised(admin_client: Client) -> None:
    product = Product.objects.get(pk=15970)
    url = reverse("admin:shop_product_change", args=[product.pk])
    data = form_fields(admin_client.get(url).content.decode(), "product_form")

    response = admin_client.post(url, {**data, "description": HOSTILE})

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.description == HOSTILE_CLEANED


@pytest.mark.django_db
def test_the_product_page_shows_a_description_sanitised_whatever_wrote_it(client: Client) -> None:
    product = Product.objects.get(pk=15970)
    Product.objects.filter(pk=product.pk).update(description=HOSTILE)  # not through the import nor the admin

    html = client.get(product.get_absolute_url()).content.decode()

    assert f'<div class="product__description">{HOSTILE_CLEANED}</div>' in html
    assert "stealCookies" not in html


@pytest.mark.django_db
def test_the_product_page_shows_the_imported_description_with_its_markup(client: Client) -> None:
    product = Product.objects.get(pk=15970)

    html = client.get(product.get_absolute_url()).content.decode()

    assert "<p><strong>Composition</strong><br>Dark brown and indigo blue plaid check shirt" in html
    assert "&lt;strong&gt;" not in html  # not escaped twice


@pytest.mark.django_db
def test_a_product_without_description_has_no_description_section(client: Client) -> None:
    product = Product.objects.get(pk=47153)  # its file's description is empty

    html = client.get(product.get_absolute_url()).content.decode()

    assert product.description == ""
    assert "product__description" not in html
