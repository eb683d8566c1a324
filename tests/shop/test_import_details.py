"""The import of the full dataset's product files (styles/<id>.json), on the fixture catalogue's own files."""

import io
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.catalog_import import ImportSummary, import_catalog
from shop.models import Brand, Product, Sku
from shop.services import refresh_in_stock
from tests.catalogues import FIXTURE_CATALOG_DIR
from tests.shop.html_forms import radio_inputs

pytestmark = pytest.mark.django_db

FIXTURE_PRODUCTS = 60
FIXTURE_SIZES = 208  # styleOptions over the 60 files
FIXTURE_BRANDS = 39
# Every "other colour" of the fixture's files is a product outside the fixture: 22 links over 17 products.
FIXTURE_COLOUR_LINKS = 22
# 17429 (a Casio watch) is the only fixture product whose one size has an inventory count: 3.
STOCKED = 17429


@pytest.fixture(autouse=True)
def isolated_media(settings, tmp_path: Path) -> None:
    """Imports here write image files: keep them away from the session's."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A copy of the fixture catalogue (styles.csv, images/, styles/) that a test may break."""
    return Path(shutil.copytree(FIXTURE_CATALOG_DIR, tmp_path / "kaggle"))


def style(product_id: int, root: Path = FIXTURE_CATALOG_DIR) -> dict:
    return json.loads((root / "styles" / f"{product_id}.json").read_text(encoding="utf-8"))["data"]


def edit_style(root: Path, product_id: int, edit: Callable[[dict], None]) -> None:
    path = root / "styles" / f"{product_id}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document["data"])
    path.write_text(json.dumps(document), encoding="utf-8")


def colours(*ids: int) -> dict:
    return {"colors": {str(i): {"styleid": i, "global_attr_base_colour": "Blue"} for i in ids}}


def import_from_empty(path: Path, **options) -> ImportSummary:
    Product.objects.all().delete()
    Brand.objects.all().delete()
    return import_catalog(path, **options)


def sizes(product_id: int) -> list[tuple]:
    return list(Sku.objects.filter(product_id=product_id).values_list("id", "kind", "label", "position", "stock"))


def colour_links() -> set[tuple[int, int]]:
    return set(Product.colours.through.objects.values_list("from_product_id", "to_product_id"))


def count_enabled_sizes(html: str) -> int:
    return sum(1 for attributes in radio_inputs(html, "sku") if "disabled" not in attributes)


def problems(summary: ImportSummary) -> dict[int, tuple[str, str]]:
    return {p.product_id: (p.kind, p.message) for p in summary.problems if p.kind in {"no details", "bad details"}}


# A product's details, field by field


def test_import_from_empty_reads_every_file_and_reports_what_it_did() -> None:
    summary = import_from_empty(FIXTURE_CATALOG_DIR)

    assert (summary.created, summary.updated, summary.details) == (FIXTURE_PRODUCTS, 0, FIXTURE_PRODUCTS)
    assert summary.problems == []
    assert summary.brands_created == Brand.objects.count() == FIXTURE_BRANDS
    assert (summary.sizes_created, summary.sizes_updated) == (FIXTURE_SIZES, 0)
    assert Sku.objects.count() == FIXTURE_SIZES
    assert (summary.colour_links, summary.colour_links_dropped) == (0, FIXTURE_COLOUR_LINKS)
    assert not colour_links()


def test_a_product_has_every_detail_of_its_file() -> None:
    import_from_empty(FIXTURE_CATALOG_DIR)

    shirt = Product.objects.select_related("brand").get(pk=15970)

    assert shirt.name == "Turtle Check Men Navy Blue Shirt"
    assert shirt.brand.name == "Turtle"
    assert (shirt.price, shirt.list_price, shirt.discount_percent) == (Decimal("1195.00"), None, 0)
    assert shirt.attributes == {
        "Fit": "Slim Fit",
        "Pattern": "Checked",
        "Body or Garment Size": "Garment Measurements in",
        "Sleeve Length": "Long Sleeves",
        "Fabric": "Cotton",
        "Collar": "Spread Collar",
    }
    assert shirt.age_group == "Adults-Men"
    assert shirt.added_at == datetime(2015, 6, 16, 6, 9, 51, tzinfo=UTC)  # catalogAddDate 1434434991
    assert shirt.cash_on_delivery is True
    # The merchant's <p style="text-align: justify;"> loses its style; the text and its markup stay.
    assert shirt.description.startswith("<p><strong>Composition</strong><br>Dark brown and indigo blue plaid check")
    assert "<em>Model statistics</em><br>Product is a size M" in shirt.description
    assert "style=" not in shirt.description
    # Sizes in the file's order (not their ids'), stock not tracked: always available.
    assert sizes(15970) == [
        (87168, "Size", "39", 0, None),
        (87282, "Size", "40", 1, None),
        (87281, "Size", "42", 2, None),
        (87167, "Size", "44", 3, None),
    ]
    assert [sku.label for sku in Product.objects.get(pk=13419).skus.all()] == ["S", "M", "L", "XL"]  # ids 72183, ..
    assert shirt.in_stock


def test_a_discount_keeps_the_list_price_and_its_percentage() -> None:
    import_from_empty(FIXTURE_CATALOG_DIR)

    jeans = Product.objects.get(pk=16508)  # price 1169, discountedPrice 467: "(60% OFF)"
    top = Product.objects.get(pk=49653)  # 1099 -> 799: "(Rs. 300 OFF)", 27.3%

    assert (jeans.price, jeans.list_price, jeans.discount_percent) == (Decimal("467.00"), Decimal("1169.00"), 60)
    assert (top.price, top.list_price, top.discount_percent) == (Decimal("799.00"), Decimal("1099.00"), 27)
    assert Product.objects.exclude(list_price=None).count() == 12  # the fixture's discounted products


def test_attributes_the_file_marks_missing_are_left_out() -> None:
    import_from_empty(FIXTURE_CATALOG_DIR)

    attributes = Product.objects.get(pk=49653).attributes

    assert style(49653)["articleAttributes"]["Lining"] == "NA"
    assert not {"taxMaterial", "Closure", "Fabric Type", "Surface Styling", "Lining"} & set(attributes)
    assert attributes["Sleeve Styling"] == "Flutter Sleeves"
    assert "NA" not in attributes.values()


def test_every_fixture_product_matches_its_file() -> None:
    import_from_empty(FIXTURE_CATALOG_DIR)

    for product in Product.objects.select_related("brand"):
        data = style(product.pk)
        price, discounted = Decimal(data["price"]), Decimal(data["discountedPrice"])
        assert product.name == data["productDisplayName"]
        assert product.brand.name == data["brandName"]
        assert product.price == discounted
        assert product.list_price == (price if price != discounted else None)
        assert product.added_at == datetime.fromtimestamp(data["catalogAddDate"], UTC)
        assert product.cash_on_delivery is data["codEnabled"]
        assert product.age_group == data["ageGroup"]
        expected_sizes = [(o["skuId"], o["name"], o["value"], i, None) for i, o in enumerate(data["styleOptions"])]
        assert sizes(product.pk) == expected_sizes, product.pk


def test_brands_are_shared_and_created_once() -> None:
    import_from_empty(FIXTURE_CATALOG_DIR)

    puma = Brand.objects.get(name="Puma")

    assert set(puma.products.values_list("pk", flat=True)) == {2483, 4524, 5891, 9204, 53759}
    assert Brand.objects.filter(name__iexact="puma").count() == 1
    assert Product.objects.get(pk=12369).brand.name == "Reid & Taylor"


def test_the_name_comes_from_the_file(dataset: Path) -> None:
    # styles.csv cuts names with unquoted commas; the file has them whole.
    edit_style(dataset, 15970, lambda data: data.update(productDisplayName="Turtle Check Men Navy Blue Shirt, Slim"))

    import_from_empty(dataset)

    assert Product.objects.get(pk=15970).name == "Turtle Check Men Navy Blue Shirt, Slim"


# Other colours


def test_colour_links_are_kept_between_catalogue_products_only(dataset: Path) -> None:
    edit_style(dataset, 3953, lambda data: data.update(colours=colours(3954)))
    edit_style(dataset, 3954, lambda data: data.update(colours=colours(3953, 999_999)))
    # 2288 lists 2289 and 2290, which the catalogue lacks; now also 3953 (which does not list it back) and itself.
    edit_style(dataset, 2288, lambda data: data["colours"]["colors"].update(colours(3953, 2288)["colors"]))

    summary = import_from_empty(dataset)

    assert colour_links() == {(3953, 3954), (3954, 3953), (2288, 3953)}
    assert summary.colour_links == 3
    assert summary.colour_links_dropped == FIXTURE_COLOUR_LINKS + 1  # 999999
    assert list(Product.objects.get(pk=2288).colours.values_list("pk", flat=True)) == [3953]
    assert not Product.objects.get(pk=3953).colours.filter(pk=2288).exists()  # one way, as the files say


def test_a_reimport_makes_a_products_links_those_of_its_file(dataset: Path) -> None:
    edit_style(dataset, 3953, lambda data: data.update(colours=colours(3954, 2288)))
    import_from_empty(dataset)
    assert colour_links() == {(3953, 3954), (3953, 2288)}
    Product.objects.get(pk=15970).colours.add(3953)  # linked in the admin

    edit_style(dataset, 3953, lambda data: data.update(colours=colours(2288)))
    (dataset / "styles" / "15970.json").unlink()  # without its file, the shop's link stays as it is
    summary = import_catalog(dataset)

    assert colour_links() == {(3953, 2288), (15970, 3953)}
    assert summary.colour_links == 1


# Files that cannot be used


def test_a_missing_and_a_malformed_file_are_reported_and_their_rows_imported_from_the_csv(dataset: Path) -> None:
    (dataset / "styles" / "15970.json").unlink()
    (dataset / "styles" / "39386.json").write_text('{"data": {"id": 39386, "price": 1499,', encoding="utf-8")

    summary = import_from_empty(dataset)

    found = problems(summary)
    assert set(found) == {15970, 39386}
    assert found[15970][0] == "no details"
    assert found[39386][0] == "bad details"
    assert str(dataset / "styles" / "15970.json") in found[15970][1]
    assert str(dataset / "styles" / "39386.json") in found[39386][1]
    assert [p.line for p in summary.problems] == [2, 3]  # the rows' lines in styles.csv
    assert (summary.created, summary.details) == (FIXTURE_PRODUCTS, FIXTURE_PRODUCTS - 2)
    for product_id, name in [
        (15970, "Turtle Check Men Navy Blue Shirt"),
        (39386, "Peter England Men Party Blue Jeans"),
    ]:
        product = Product.objects.get(pk=product_id)
        assert (product.name, product.gender) == (name, "Men")
        assert product.image
        assert (product.brand, product.price, product.description, product.attributes) == (None, None, "", {})
        assert (product.added_at, product.age_group, product.cash_on_delivery) == (None, None, False)
        assert not product.skus.exists()
    # The other rows are whole.
    assert Product.objects.exclude(pk__in=[15970, 39386]).filter(price=None).count() == 0
    assert Sku.objects.count() == FIXTURE_SIZES - len(style(15970)["styleOptions"]) - len(style(39386)["styleOptions"])
    assert Product.objects.get(pk=16508).list_price == Decimal("1169.00")


@pytest.mark.parametrize(
    "content, reason",
    [
        ("", "not readable JSON"),
        ("\xff\xfe{", "not readable JSON"),
        ("[1, 2]", 'no "data" object'),
        ('{"data": "none"}', 'no "data" object'),
        ('{"data": {"price": "free"}}', "price is not an amount"),
        ('{"data": {"price": 100, "discountedPrice": 150}}', "above price"),
        ('{"data": {"price": 100, "styleOptions": [{"value": "M"}]}}', "no skuId"),
        ('{"data": {"price": 100, "catalogAddDate": "yesterday"}}', "catalogAddDate is not a whole number"),
    ],
)
def test_a_file_that_is_not_a_product_file_is_reported_with_why(dataset: Path, content: str, reason: str) -> None:
    (dataset / "styles" / "59263.json").write_bytes(content.encode("latin-1"))

    summary = import_from_empty(dataset)

    [(kind, message)] = problems(summary).values()
    assert kind == "bad details"
    assert reason in message
    assert list(problems(summary)) == [59263]
    assert Product.objects.get(pk=59263).price is None
    assert summary.details == FIXTURE_PRODUCTS - 1


def test_a_file_that_describes_another_product_is_not_used(dataset: Path) -> None:
    shutil.copy(dataset / "styles" / "16508.json", dataset / "styles" / "15970.json")

    summary = import_from_empty(dataset)

    assert problems(summary) == {
        15970: ("bad details", f"{dataset / 'styles' / '15970.json'}: it describes product 16508, not 15970; "
                "imported from styles.csv")
    }  # fmt: skip
    shirt = Product.objects.get(pk=15970)
    assert (shirt.name, shirt.price, shirt.brand) == ("Turtle Check Men Navy Blue Shirt", None, None)
    assert not shirt.skus.exists()
    assert sizes(16508)[0][:3] == (83480, "Size", "28")  # the jeans' sizes stay theirs


def test_a_file_that_breaks_later_keeps_the_details_the_product_has(dataset: Path) -> None:
    import_from_empty(dataset)
    before = Product.objects.values().get(pk=15970)

    (dataset / "styles" / "15970.json").write_text("{", encoding="utf-8")
    summary = import_catalog(dataset)

    assert problems(summary)[15970][0] == "bad details"
    after = Product.objects.values().get(pk=15970)
    assert after == before
    assert len(sizes(15970)) == 4
    assert (summary.updated, summary.unchanged) == (0, FIXTURE_PRODUCTS)


def test_the_command_summarises_the_details(dataset: Path) -> None:
    (dataset / "styles" / "15970.json").unlink()
    (dataset / "styles" / "39386.json").write_text("not json", encoding="utf-8")
    Product.objects.all().delete()
    Brand.objects.all().delete()
    out = io.StringIO()

    call_command("import_catalog", str(dataset), stdout=out, stderr=io.StringIO())

    text = out.getvalue()
    assert "line 2 (id 15970): no details: " in text
    assert "line 3 (id 39386): bad details: " in text
    assert (
        f"Details from styles/<id>.json: 58 read, 1 missing, 1 unreadable; {FIXTURE_BRANDS} brands created, "
        f"{FIXTURE_SIZES - 4 - 4} sizes created and 0 updated, 0 links to other colours "
        f"({FIXTURE_COLOUR_LINKS} to products not in the catalogue left out)."
    ) in text


# Stock


def test_without_stock_every_size_is_untracked_and_available() -> None:
    import_from_empty(FIXTURE_CATALOG_DIR)

    assert not Sku.objects.exclude(stock=None).exists()
    assert Product.objects.filter(in_stock=True).count() == FIXTURE_PRODUCTS


def test_stock_takes_the_files_inventory_counts() -> None:
    summary = import_from_empty(FIXTURE_CATALOG_DIR, import_stock=True)

    assert summary.sizes_created == FIXTURE_SIZES
    assert sizes(STOCKED) == [(90290, "Size", "ONESIZE", 0, 3)]
    assert set(Sku.objects.exclude(product_id=STOCKED).values_list("stock", flat=True)) == {0}
    # A historical snapshot: only the watch is in stock.
    assert list(Product.objects.filter(in_stock=True).values_list("pk", flat=True)) == [STOCKED]


def test_a_reimport_keeps_the_stock_the_shop_set_unless_told_to_take_the_files() -> None:
    import_from_empty(FIXTURE_CATALOG_DIR)
    Sku.objects.filter(pk=87168).update(stock=5)
    Sku.objects.filter(product_id=16508).update(stock=0)
    refresh_in_stock([15970, 16508])

    kept = import_catalog(FIXTURE_CATALOG_DIR)

    assert (kept.sizes_created, kept.sizes_updated) == (0, 0)
    assert sizes(15970)[0] == (87168, "Size", "39", 0, 5)
    assert set(Sku.objects.filter(product_id=16508).values_list("stock", flat=True)) == {0}
    assert not Product.objects.get(pk=16508).in_stock
    assert Sku.objects.filter(stock=None).count() == FIXTURE_SIZES - 1 - 5

    taken = import_catalog(FIXTURE_CATALOG_DIR, import_stock=True)

    assert (taken.sizes_created, taken.sizes_updated) == (0, FIXTURE_SIZES - 5)  # 16508's five were 0 already
    assert sizes(15970)[0] == (87168, "Size", "39", 0, 0)
    assert list(Product.objects.filter(in_stock=True).values_list("pk", flat=True)) == [STOCKED]


def test_the_command_takes_stock_only_when_asked(dataset: Path) -> None:
    Product.objects.all().delete()
    Brand.objects.all().delete()

    call_command("import_catalog", str(dataset), stdout=io.StringIO(), stderr=io.StringIO())
    assert not Sku.objects.exclude(stock=None).exists()

    call_command("import_catalog", str(dataset), "--stock", stdout=io.StringIO(), stderr=io.StringIO())
    assert sizes(STOCKED)[0][4] == 3
    assert not Sku.objects.filter(stock=None).exists()


def test_a_size_the_file_no_longer_lists_stays_and_a_moved_position_is_updated(dataset: Path) -> None:
    import_from_empty(dataset)
    Sku.objects.create(id=990001, product_id=15970, label="46", position=4)  # one the shop added
    edit_style(dataset, 15970, lambda data: data.update(styleOptions=data["styleOptions"][1:]))  # drops "39"

    summary = import_catalog(dataset)

    assert summary.sizes_updated == 3  # 40, 42 and 44 moved up one place
    assert sizes(15970) == [
        (87168, "Size", "39", 0, None),  # where it was
        (87282, "Size", "40", 0, None),
        (87281, "Size", "42", 1, None),
        (87167, "Size", "44", 2, None),
        (990001, "Size", "46", 4, None),
    ]


def test_a_new_size_in_the_file_puts_a_sold_out_product_back_in_stock(dataset: Path) -> None:
    import_from_empty(dataset)
    Sku.objects.filter(product_id=15970).update(stock=0)
    refresh_in_stock([15970])
    assert not Product.objects.get(pk=15970).in_stock
    new_size = {"skuId": 990002, "name": "Size", "value": "46", "inventoryCount": 0, "available": False}
    edit_style(dataset, 15970, lambda data: data["styleOptions"].append(new_size))

    summary = import_catalog(dataset)

    assert (summary.sizes_created, summary.sizes_updated) == (1, 0)
    assert sizes(15970)[-1] == (990002, "Size", "46", 4, None)  # not tracked: it can be bought
    assert Product.objects.get(pk=15970).in_stock


def test_a_size_another_product_has_is_refused_and_reported(dataset: Path) -> None:
    import_from_empty(dataset)
    taken = {"skuId": 87168, "name": "Size", "value": "XL", "inventoryCount": 0, "available": False}  # 15970's "39"
    edit_style(dataset, STOCKED, lambda data: data["styleOptions"].append(taken))

    summary = import_catalog(dataset)

    refused = [p for p in summary.problems if p.kind == "size refused"]
    assert [(p.product_id, p.message) for p in refused] == [
        (STOCKED, "skuId 87168 is a size of product 15970; size XL not imported")
    ]
    assert Sku.objects.get(pk=87168).product_id == 15970
    assert [label for _, _, label, _, _ in sizes(STOCKED)] == [
        option["value"] for option in style(STOCKED)["styleOptions"]
    ]


# Re-running


def test_reimport_is_idempotent_and_writes_no_size_twice() -> None:
    import_from_empty(FIXTURE_CATALOG_DIR)
    stored = list(Sku.objects.order_by("pk").values_list())

    with CaptureQueriesContext(connection) as queries:
        again = import_catalog(FIXTURE_CATALOG_DIR)

    assert (again.created, again.updated, again.unchanged, again.images_written) == (0, 0, FIXTURE_PRODUCTS, 0)
    assert (again.brands_created, again.sizes_created, again.sizes_updated) == (0, 0, 0)
    assert (again.details, again.colour_links, again.colour_links_dropped) == (
        FIXTURE_PRODUCTS,
        0,
        FIXTURE_COLOUR_LINKS,
    )
    assert list(Sku.objects.order_by("pk").values_list()) == stored
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


# A product without a price


def test_a_product_without_a_price_is_shown_and_cannot_be_bought(client, dataset: Path) -> None:
    # Zero is how the data says "no price".
    edit_style(dataset, 15970, lambda data: data.update(price=0, discountedPrice=0))
    import_from_empty(dataset)
    shirt = Product.objects.get(pk=15970)
    assert (shirt.price, shirt.list_price, shirt.for_sale) == (None, None, False)

    page = client.get(shirt.get_absolute_url()).content.decode()
    listing = client.get(reverse("shop:product-list"), {"brand": "Turtle"})

    assert "Not available to buy" in page
    assert 'name="sku"' in page  # the sizes are shown...
    assert count_enabled_sizes(page) == 0  # ...and none can be chosen
    assert "Add to bag" not in page
    assert shirt in listing.context["page"].object_list
    assert "price__now" not in listing.content.decode().split('href="/products/15970/')[1].split("</li>")[0]
