"""Production security: the Content-Security-Policy on every page and templates it lets run, failed logins locked out
(django-axes) at the admin's login and the shoppers', and search by photo throttled on its page as in its API.

The browser tests (Chromium, marked ``browser``) come last: once Playwright runs, Django refuses database work in the
module's process."""

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import reverse
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from playwright.sync_api import Error as PlaywrightError
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from experiments.models import Experiment, Variant
from experiments.services import start_experiment
from tests import browsers
from tests.browsers import fixture_catalogue_server
from tests.catalogues import FIXTURE_PHOTOS_DIR
from tests.commerce import (  # noqa: F401  (fast_password_hashing: a fixture)
    PASSWORD,
    SHOE,
    TOP,
    bag_of,
    browser_accounts,
    fast_password_hashing,
    make_user,
    size,
)
from tests.project.test_production_settings import settings_in_subprocess

# The policy of every page; the photo-search page adds blob: images, the API docs a nonce (see below).
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "font-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PHOTO_SEARCH = reverse("recommendations:photo-search")
PHOTO_SEARCH_API = reverse("api:photo-search")
API_DOCS = reverse("api:docs")
ADMIN_LOGIN = reverse("admin:login")
SHOPPER_LOGIN = reverse("account_login")
ADMIN = "security-admin"
SHOPPER = "asha@example.com"


def policy(header: str) -> dict[str, str]:
    return dict(directive.strip().split(" ", 1) for directive in header.split(";") if directive.strip())


class InlineCode(HTMLParser):
    """What a Content-Security-Policy without 'unsafe-inline' blocks in a page: inline scripts and styles (unless they
    carry the nonce), style attributes, event-handler attributes and javascript: links."""

    def __init__(self, nonce: str | None):
        super().__init__()
        self.nonce = nonce
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        with_nonce = self.nonce is not None and attributes.get("nonce") == self.nonce
        if tag == "script" and not attributes.get("src") and not with_nonce:
            self.found.append(f"<{tag}> inline")
        if tag == "style" and not with_nonce:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}>")


def inline_code(response) -> list[str]:
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    parser = InlineCode(nonce[1] if nonce else None)
    parser.feed(response.content.decode())
    return parser.found


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser(ADMIN, "owner@example.com", PASSWORD)


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


# The Content-Security-Policy.


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        reverse("shop:home"),
        reverse("shop:product-list"),
        reverse("shop:product-detail", args=[SHOE]),
        reverse("shop:search") + "?q=shirt",
        reverse("cart:detail"),
        SHOPPER_LOGIN,
        ADMIN_LOGIN,
        reverse("api:product-list"),
    ],
)
def test_every_page_sends_the_policy(client: Client, url: str):
    response = client.get(url)

    assert response.status_code == 200
    assert policy(response["Content-Security-Policy"]) == POLICY
    assert "Content-Security-Policy-Report-Only" not in response


def test_the_admin_sends_the_policy(admin_client: Client):
    for url in (reverse("admin:index"), reverse("admin:shop_product_change", args=[SHOE])):
        response = admin_client.get(url)

        assert response.status_code == 200
        assert policy(response["Content-Security-Policy"]) == POLICY


@pytest.mark.django_db
def test_the_photo_search_page_also_allows_its_previews_blob_urls(client: Client):
    response = client.get(PHOTO_SEARCH)

    assert policy(response["Content-Security-Policy"]) == {**POLICY, "img-src": "'self' data: blob:"}


@pytest.mark.django_db
def test_the_api_docs_start_up_script_and_style_carry_the_nonce_of_their_response(api: APIClient):
    first, second = api.get(API_DOCS), api.get(API_DOCS)

    directives = policy(first["Content-Security-Policy"])
    nonce = re.fullmatch(r"'self' '(nonce-[A-Za-z0-9+/=]{20,})'", directives["script-src"])[1]
    assert directives == {**POLICY, "script-src": f"'self' '{nonce}'", "style-src": f"'self' '{nonce}'"}
    html = first.content.decode()
    assert f'<script nonce="{nonce[6:]}">' in html and f'<style nonce="{nonce[6:]}">' in html
    assert nonce not in second["Content-Security-Policy"], "a nonce is used once"


@pytest.mark.django_db
def test_report_only_reports_the_same_policy_and_blocks_nothing(client: Client):
    with override_settings(
        CONTENT_SECURITY_POLICY=None, CONTENT_SECURITY_POLICY_REPORT_ONLY=settings.CONTENT_SECURITY_POLICY
    ):
        home, photo_search = client.get(reverse("shop:home")), client.get(PHOTO_SEARCH)

    assert "Content-Security-Policy" not in home
    assert policy(home["Content-Security-Policy-Report-Only"]) == POLICY
    assert policy(photo_search["Content-Security-Policy-Report-Only"])["img-src"] == "'self' data: blob:"


def test_the_environment_sets_report_only_and_the_report_uri():
    code = (
        "print(json.dumps([settings.CONTENT_SECURITY_POLICY, settings.CONTENT_SECURITY_POLICY_REPORT_ONLY], "
        "default=str))"
    )
    enforced, report_only = json.loads(settings_in_subprocess(code).stdout)
    assert enforced["DIRECTIVES"]["report-uri"] is None and report_only is None

    result = settings_in_subprocess(code, CSP_REPORT_ONLY="true", CSP_REPORT_URI="https://reports.example.com/csp")
    enforced, report_only = json.loads(result.stdout)
    assert enforced is None
    assert report_only["DIRECTIVES"]["report-uri"] == "https://reports.example.com/csp"


def test_static_files_and_media_from_a_cdn_are_allowed_from_its_host_only():
    code = "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES'], default=str))"
    result = settings_in_subprocess(
        code, STATIC_URL="https://static.example.com/shop/", MEDIA_URL="https://media.example.com/"
    )
    directives = json.loads(result.stdout)

    for name in ("script-src", "style-src", "font-src"):
        assert directives[name][-1] == "https://static.example.com"
    assert directives["img-src"] == ["'self'", "data:", "https://static.example.com", "https://media.example.com"]
    assert directives["default-src"] == ["'self'"]


def test_no_template_has_inline_scripts_styles_or_event_handlers():
    """Every template of the project, Django's and Jinja's (e-mails aside: no browser policy applies to them)."""
    folders = [
        settings.BASE_DIR / "templates",
        *settings.BASE_DIR.glob("*/templates"),
        *settings.BASE_DIR.glob("*/jinja2"),
    ]
    templates = [path for folder in folders for path in Path(folder).rglob("*.html") if "email" not in path.parts]
    inline = re.compile(r"<script(?![^>]*\s(?:src|nonce)=)[^>]*>|<style(?![^>]*\snonce=)|\sstyle=|\son[a-z]+=", re.I)

    found = {str(path): inline.findall(path.read_text()) for path in templates}

    assert len(templates) > 20
    assert {path: hits for path, hits in found.items() if hits} == {}


def scan_pages(client: Client, urls: list[str]) -> dict[str, list[str]]:
    found = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        found[url] = inline_code(response)
    return {url: hits for url, hits in found.items() if hits}


@pytest.mark.django_db
def test_the_storefronts_pages_as_rendered_hold_nothing_inline(client: Client):
    shopper = make_user(SHOPPER)
    bag_of(shopper, (size(SHOE), 1))
    client.force_login(shopper)
    urls = [
        reverse("shop:home"),
        reverse("shop:product-list") + "?gender=Men",
        reverse("shop:product-detail", args=[SHOE]),
        reverse("shop:product-detail", args=[TOP]),
        reverse("shop:search") + "?q=shoes",
        PHOTO_SEARCH,
        reverse("cart:detail"),
        reverse("cart:wishlist"),
        reverse("orders:checkout"),
        reverse("accounts:profile"),
        reverse("accounts:address-create"),
        reverse("account_email"),
        reverse("account_change_password"),
        reverse("events:your-data"),
    ]

    assert scan_pages(client, urls) == {}
    client.logout()
    assert scan_pages(client, [SHOPPER_LOGIN, reverse("account_signup"), reverse("account_reset_password")]) == {}


def test_the_admins_pages_and_the_api_docs_as_rendered_hold_nothing_inline(admin_client: Client):
    experiment = Experiment.objects.create(name="Shelf size", placement="home: Trending")
    for key in ("control", "b"):
        Variant.objects.create(experiment=experiment, key=key, strategy="trending", is_control=key == "control")
    start_experiment(experiment)
    urls = [
        reverse("admin:index"),
        reverse("admin:shop_product_changelist"),
        reverse("admin:shop_product_change", args=[SHOE]),
        reverse("admin:experiments_experiment_add"),
        reverse("admin:experiments_experiment_results", args=[experiment.pk]),
        API_DOCS,
    ]

    assert scan_pages(admin_client, urls) == {}


def test_the_scan_finds_what_the_policy_would_block():
    header = {"Content-Security-Policy": "script-src 'self' 'nonce-abc'"}
    blocked = '<script>go()</script><style>p {}</style><p style="color: red" onclick="go()"><a href="javascript:go()">'
    allowed = '<script src="/static/a.js"></script><script nonce="abc">go()</script><svg><text fill="red"></text></svg>'

    assert len(inline_code(HttpResponse(blocked, headers=header))) == 5
    assert inline_code(HttpResponse(allowed, headers=header)) == []


# Failed logins (django-axes).


def test_the_environment_sets_the_failure_limit_and_the_cool_off():
    code = "print(json.dumps([settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME.total_seconds()]))"

    assert json.loads(settings_in_subprocess(code).stdout) == [5, 900]
    result = settings_in_subprocess(code, AXES_FAILURE_LIMIT="3", AXES_COOLOFF_MINUTES="60")
    assert json.loads(result.stdout) == [3, 3600]


def admin_login(client: Client, password: str, **request):
    return client.post(ADMIN_LOGIN, {"username": ADMIN, "password": password, "next": "/admin/"}, **request)


def shopper_login(client: Client, login: str, password: str, **request):
    return client.post(SHOPPER_LOGIN, {"login": login, "password": password}, **request)


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    minutes = settings.AXES_COOLOFF_TIME.total_seconds() / 60
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    html = response.content.decode()
    assert "Too many failed logins" in html
    assert f"Try again in {minutes:.0f} minutes." in html
    assert policy(response["Content-Security-Policy"]) == POLICY


def test_the_admins_login_is_locked_after_too_many_wrong_passwords_even_with_the_right_one(admin_user):
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT

    refused = [admin_login(client, f"wrong-{number}") for number in range(limit - 1)]
    locked = admin_login(client, "wrong-again")
    right = admin_login(client, PASSWORD)

    assert [response.status_code for response in refused] == [200] * (limit - 1)
    assert "Please enter the correct username and password" in refused[-1].content.decode()
    assert_locked_out(locked)
    assert_locked_out(right)
    assert client.get(reverse("admin:index")).status_code == 302, "not logged in"
    # Counted per account and address: the same admin from elsewhere logs in.
    assert admin_login(Client(), PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302


@pytest.mark.django_db
def test_a_shoppers_login_is_locked_likewise_whatever_the_case_of_the_address():
    make_user(SHOPPER)
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT

    refused = [shopper_login(client, SHOPPER, f"wrong-{number}") for number in range(limit - 1)]
    locked = shopper_login(client, SHOPPER, "wrong-again")
    right = shopper_login(client, SHOPPER.upper(), PASSWORD)

    assert [response.status_code for response in refused] == [200] * (limit - 1)
    assert "The email address and/or password you specified are not correct." in refused[-1].content.decode()
    assert_locked_out(locked)
    assert_locked_out(right)
    assert "_auth_user_id" not in client.session
    assert shopper_login(Client(), SHOPPER, PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "elsewhere_logs_in"),
    [
        # Behind one proxy, the address it puts last in X-Forwarded-For is the client's.
        (1, True),
        # With none declared, the header is the client's own claim: another one does not unlock it.
        (0, False),
    ],
)
def test_behind_proxies_clients_are_told_apart_as_the_api_does(proxies: int, elsewhere_logs_in: bool):
    make_user(SHOPPER)
    proxy = Client(REMOTE_ADDR="10.0.0.2")

    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}):
        for number in range(settings.AXES_FAILURE_LIMIT):
            shopper_login(proxy, SHOPPER, f"wrong-{number}", HTTP_X_FORWARDED_FOR="203.0.113.5")
        again = shopper_login(proxy, SHOPPER, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5")
        elsewhere = shopper_login(Client(REMOTE_ADDR="10.0.0.2"), SHOPPER, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.6")

    assert again.status_code == 429
    assert elsewhere.status_code == (302 if elsewhere_logs_in else 429)


# Search by photo, throttled on its page as in the API: one budget per client.


@pytest.fixture
def two_searches_a_minute(monkeypatch):
    # DRF copies the rates from the settings when it is imported.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"photo-search": "2/minute"})


@pytest.mark.django_db
def test_the_photo_search_page_is_throttled_with_a_message(client: Client, two_searches_a_minute):
    assert [client.post(PHOTO_SEARCH, {}).status_code for _ in range(2)] == [400, 400]

    refused = client.post(PHOTO_SEARCH, {})

    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert 0 < wait <= 60
    html = refused.content.decode()
    assert f"Too many searches by photo; try again in {wait} second" in html
    assert "data-photo-search" in html and "data-outcome" in html, "the page, for the script to show the message"
    assert client.get(PHOTO_SEARCH).status_code == 200, "only searches are counted"
    assert client.post(PHOTO_SEARCH, {}, REMOTE_ADDR="198.51.100.7").status_code == 400, "another client searches"


@pytest.mark.django_db
def test_the_page_and_the_api_share_one_budget_per_client(client: Client, api: APIClient, two_searches_a_minute):
    assert api.post(PHOTO_SEARCH_API, {}).status_code == 400
    assert client.post(PHOTO_SEARCH, {}).status_code == 400

    assert api.post(PHOTO_SEARCH_API, {}).status_code == 429
    assert client.post(PHOTO_SEARCH, {}).status_code == 429


@pytest.mark.django_db
def test_a_logged_in_shopper_is_counted_by_address_too(client: Client, two_searches_a_minute):
    client.force_login(make_user(SHOPPER))
    for _ in range(2):
        client.post(PHOTO_SEARCH, {})

    assert client.post(PHOTO_SEARCH, {}).status_code == 429
    assert Client().post(PHOTO_SEARCH, {}).status_code == 429, "the same address logged out"


# In Chromium: no page breaks the policy, and what it would block is blocked.

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def server(embedded_catalogue, django_db_blocker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with (
        django_db_blocker.unblock(),
        browser_accounts(ADMIN, SHOPPER),
        fixture_catalogue_server(tmp_path_factory.mktemp("server")) as url,
    ):
        yield url


class Violations:
    """What Chromium reports to a page's console about its Content-Security-Policy."""

    def __init__(self, page: Page):
        self.messages: list[str] = []
        page.on("console", self.heard)

    def heard(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.messages.append(message.text)


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    page = browsers.new_page(browser, server, timeout_ms=TIMEOUT_MS, viewport={"width": 1280, "height": 900})
    yield page
    page.context.close()


@pytest.mark.browser
def test_the_storefront_breaks_no_policy_in_chromium(page: Page):
    violations = Violations(page)

    page.goto(reverse("shop:home"))
    page.goto(reverse("shop:product-detail", args=[SHOE]))
    expect(page.locator(".product-grid--similar .card").first).to_be_visible()
    page.goto(PHOTO_SEARCH)
    page.locator("#id_image").set_input_files(FIXTURE_PHOTOS_DIR / f"{SHOE}.jpg")
    expect(page.locator("[data-cropper]")).to_be_visible()  # the blob: preview has loaded
    page.locator("[data-submit]").click()
    expect(page.locator("[data-outcome] .card").first).to_be_visible()

    assert violations.messages == []


@pytest.mark.browser
def test_the_admin_and_the_api_docs_break_no_policy_in_chromium(page: Page):
    violations = Violations(page)

    page.goto(reverse("admin:experiments_experiment_add"))
    page.locator('input[name="username"]').fill(ADMIN)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('input[type="submit"]').click()
    variants = page.locator(".dynamic-variants")
    expect(variants).to_have_count(2)
    page.locator(".add-row a").click()  # the inline formset's script adds a variant
    expect(variants).to_have_count(3)
    page.goto(reverse("admin:shop_product_change", args=[SHOE]))
    expect(page.locator("#product_form")).to_be_visible()
    page.goto(API_DOCS)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("API")

    assert violations.messages == []


@pytest.mark.browser
def test_chromium_blocks_an_inline_script_put_in_a_page(page: Page):
    violations = Violations(page)
    page.goto(reverse("shop:home"))

    with pytest.raises(PlaywrightError, match=r"inline script violates the following Content Security Policy"):
        page.add_script_tag(content="window.injected = true;")

    assert page.evaluate("window.injected") is None
    assert any("inline script" in message for message in violations.messages)
