"""The storefront in a real browser: Debian's Chromium driven by Playwright, against a real server process.

The server runs on the test database, so it sees only committed data: the fixture catalogue (conftest) and
its embeddings (``embedded_catalogue``). The photos are the fixture's (full-size, downscaled to 600x800).
"""

import base64
import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from tests import browsers
from tests.browsers import fixture_catalogue_server
from tests.catalogues import FIXTURE_PHOTOS_DIR

pytestmark = pytest.mark.browser

PHOTO_SEARCH = reverse("recommendations:photo-search")
HIRES = FIXTURE_PHOTOS_DIR
# Fixture products with a full-size photo in HIRES: a men's sports shoe, a women's top and sandal.
SHOE, TOP, SANDAL = 2477, 2483, 2618
NOT_A_PHOTO = b"Dear diary, today I bought shoes.\n" * 20
# The first search loads the model in the server process.
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def server(embedded_catalogue, django_db_blocker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with (
        django_db_blocker.unblock(),
        fixture_catalogue_server(tmp_path_factory.mktemp("server")) as url,
    ):
        yield url


def new_page(browser: Browser, server: str, **options) -> Page:
    return browsers.new_page(browser, server, timeout_ms=TIMEOUT_MS, **options)


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    page = new_page(browser, server, viewport={"width": 1280, "height": 900})
    yield page
    page.context.close()


def crop_fields(page: Page) -> dict[str, str]:
    return {
        name: page.locator(f'input[name="{name}"]').input_value()
        for name in ("crop_left", "crop_top", "crop_width", "crop_height")
    }


# Chromium does not hand a multipart body with a file to Playwright: the page notes what its script posts.
RECORD_POSTS = """() => {
    const send = window.fetch;
    window.posted = [];
    window.fetch = (url, options) => {
        const fields = [...options.body.entries()].map(([name, value]) =>
            [name, typeof value === "string" ? value : { filename: value.name, size: value.size }]);
        window.posted.push(Object.fromEntries(fields));
        return send(url, options);
    };
}"""


def search(page: Page) -> dict:
    """Submit the form; the fields the page posted."""
    if not page.evaluate("'posted' in window"):
        page.evaluate(RECORD_POSTS)
    page.locator("[data-submit]").click()
    expect(page.locator("[data-submit]")).to_have_text("Search")
    return page.evaluate("window.posted.at(-1)")


def result_ids(page: Page) -> list[int]:
    hrefs = page.locator("[data-outcome] .card__link").evaluate_all("links => links.map(link => link.pathname)")
    return [int(re.fullmatch(r"/products/(\d+)/", href)[1]) for href in hrefs]


def expect_preview(page: Page) -> None:
    expect(page.locator("[data-cropper]")).to_be_visible()
    expect(page.locator("[data-dropzone]")).to_be_hidden()
    assert page.locator("[data-preview]").evaluate("image => image.complete && image.naturalWidth") > 0


def test_a_product_page_shows_twelve_similar_items_with_their_photos(page: Page):
    product_url = reverse("shop:product-detail", args=[SHOE])
    page.goto(product_url)

    cards = page.locator(".product-grid--similar .card")
    expect(cards).to_have_count(settings.SIMILAR_ITEMS_COUNT)
    hrefs = cards.locator(".card__link").evaluate_all("links => links.map(link => link.pathname)")
    assert product_url not in hrefs
    assert len(set(hrefs)) == settings.SIMILAR_ITEMS_COUNT
    for image in cards.locator("img").all():
        image.scroll_into_view_if_needed()
        page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())


def test_a_chosen_photo_cropped_with_the_mouse_is_searched_by_its_crop(page: Page):
    page.goto(PHOTO_SEARCH)
    page.locator("#id_image").set_input_files(HIRES / f"{SHOE}.jpg")
    expect_preview(page)
    assert crop_fields(page) == {"crop_left": "0", "crop_top": "0", "crop_width": "1", "crop_height": "1"}

    # The bottom-right handle, dragged up and left by 40% of the photo's width and 30% of its height.
    stage = page.locator("[data-stage]").bounding_box()
    handle = page.locator('[data-handle="se"]').bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 0.4 * stage["width"], y - 0.3 * stage["height"], steps=8)
    page.mouse.up()
    posted = search(page)

    assert float(posted["crop_left"]) == float(posted["crop_top"]) == 0
    assert float(posted["crop_width"]) == pytest.approx(0.6, abs=0.02)
    assert float(posted["crop_height"]) == pytest.approx(0.7, abs=0.02)
    status = page.locator("[data-crop-status]")
    expect(status).to_have_text("Searching part of the photo (60% \N{MULTIPLICATION SIGN} 70%)")
    assert len(result_ids(page)) > 10
    expect(page.locator("[data-outcome] .card img").first).to_be_visible()

    page.locator("[data-reset-crop]").click()
    whole = search(page)

    assert (whole["crop_width"], whole["crop_height"]) == ("1", "1")
    assert result_ids(page)[0] == SHOE
    # The page was never left: the photo is still there to crop again.
    expect_preview(page)


def test_the_crop_box_moves_and_resizes_with_the_keyboard(page: Page):
    page.goto(PHOTO_SEARCH)
    page.locator("#id_image").set_input_files(HIRES / f"{TOP}.jpg")
    expect_preview(page)

    page.locator("[data-box]").focus()
    for _ in range(10):
        page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Shift+ArrowUp")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")

    fields = {name: float(value) for name, value in crop_fields(page).items()}
    assert fields == {"crop_left": 0.1, "crop_top": 0.02, "crop_width": 0.8, "crop_height": 0.98}


def test_a_photo_dropped_on_the_dropzone_is_searched(page: Page):
    page.goto(PHOTO_SEARCH)
    transfer = page.evaluate_handle(
        """([data, name]) => {
            const bytes = Uint8Array.from(atob(data), (character) => character.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
            return transfer;
        }""",
        [base64.b64encode((HIRES / f"{SANDAL}.jpg").read_bytes()).decode(), f"{SANDAL}.jpg"],
    )

    page.dispatch_event("[data-dropzone]", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("[data-picker]")).to_have_class(re.compile(r"\bis-dragover\b"))
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": transfer})

    expect_preview(page)
    expect(page.locator("[data-picker]")).not_to_have_class(re.compile(r"\bis-dragover\b"))
    assert search(page)["image"] == {"filename": f"{SANDAL}.jpg", "size": (HIRES / f"{SANDAL}.jpg").stat().st_size}
    assert result_ids(page)[0] == SANDAL


def test_a_text_file_named_like_a_photo_shows_the_servers_message(page: Page):
    page.goto(PHOTO_SEARCH)
    page.locator("#id_gender").select_option("Women")
    page.locator("#id_image").set_input_files(
        files=[{"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": NOT_A_PHOTO}]
    )
    expect(page.locator("[data-file-note]")).to_contain_text("holiday.jpg")

    with page.expect_response(lambda response: response.request.method == "POST") as answered:
        page.locator("[data-submit]").click()

    assert answered.value.status == 415
    expect(page.get_by_role("alert")).to_contain_text("This file is not a photo we can read.")
    expect(page.locator("#id_gender")).to_have_value("Women")
    expect(page.locator("[data-outcome] .card")).to_have_count(0)


def test_on_a_phone_the_camera_takes_the_photo(browser: Browser, server: str):
    page = new_page(browser, server, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page.goto(PHOTO_SEARCH)
        camera = page.locator("[data-camera]")
        expect(page.get_by_text("Take a photo")).to_be_visible()
        assert camera.get_attribute("capture") == "environment"

        camera.set_input_files(HIRES / f"{TOP}.jpg")
        expect_preview(page)
        search(page)

        assert result_ids(page)[0] == TOP
        expect(page.locator("[data-outcome]")).to_be_in_viewport()
    finally:
        page.context.close()


def test_on_a_desktop_there_is_no_camera_button(page: Page):
    page.goto(PHOTO_SEARCH)

    expect(page.get_by_text("Take a photo")).to_be_hidden()
    expect(page.get_by_text("Choose a photo, drop it here or paste it")).to_be_visible()


def test_without_javascript_the_form_still_searches(browser: Browser, server: str):
    page = new_page(browser, server, java_script_enabled=False)
    try:
        page.goto(PHOTO_SEARCH)
        expect(page.locator("#id_image")).to_be_visible()
        page.locator("#id_image").set_input_files(HIRES / f"{TOP}.jpg")
        page.locator("#id_gender").select_option("Women")
        with page.expect_navigation():
            page.locator("[data-submit]").click()

        assert result_ids(page)[0] == TOP
        expect(page.locator("#id_gender")).to_have_value("Women")
    finally:
        page.context.close()
