"""Drives the real site over HTTP as a few simulated shoppers (for the A/B tests): the pages, forms and cookies a
browser would use, with the standard library only. SIMULATED traffic, marked so.

Every request carries ``X-Lookalike-Synthetic: 1`` (``identity.HEADER``), which the events app turns into
``Event.synthetic`` (and checkout into ``Order.synthetic``), and a user agent that says what it is. A shopper keeps
its cookies across its sessions (one visitor). A session opens the home page, where a card of a shelf may catch the
shopper's eye, else often a listing of the shopper's gender; it follows product links from the lists it is shown
(``?lid=&pos=``: clicks are credited to the list), and on some product pages wishlists the product or adds a size to
the bag. Some sessions with a full bag check out: the shopper signs up on the way the first time (an account at
``identity.EMAIL_DOMAIN``), then pays cash on delivery to a new address.
"""

from __future__ import annotations

import http.cookiejar
import random
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from . import identity

PRODUCT_LINK = re.compile(r"^/products/\d+/(\?.*)?$")
ADDRESS = {
    "new-full_name": "Simulated Shopper",
    "new-phone": "+91 00000 00000",
    "new-line1": "Simulated address (not a real order)",
    "new-city": "Bengaluru",
    "new-state": "Karnataka",
    "new-postcode": "560001",
    "new-country": "India",
}


@dataclass
class Form:
    action: str
    method: str
    fields: list[dict[str, str | bool]] = field(default_factory=list)  # name, value, type, checked, disabled, pressed
    options: dict[str, list[str]] = field(default_factory=dict)  # a select's values (the selected one first)

    def values(self) -> dict[str, str]:
        """What submitting the form unchanged sends."""
        data: dict[str, str] = {}
        for item in self.fields:
            kind, name = item["type"], str(item["name"])
            if not name or item["disabled"] or kind in ("submit", "button"):
                continue
            if kind in ("radio", "checkbox"):
                if item["checked"]:
                    data[name] = str(item["value"] or "on")
            else:
                data.setdefault(name, str(item["value"]))
        data.update({name: values[0] for name, values in self.options.items() if values})
        return data

    def choices(self, name: str) -> list[str]:
        """The enabled values of a group of radio buttons."""
        return [
            str(i["value"]) for i in self.fields if i["name"] == name and i["type"] == "radio" and not i["disabled"]
        ]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "form":
            self.forms.append(Form(attributes.get("action", ""), attributes.get("method", "get").lower()))
        elif tag in ("input", "textarea", "button") and self.forms:
            self.forms[-1].fields.append(
                {
                    "name": attributes.get("name", ""),
                    "value": attributes.get("value", ""),
                    "type": attributes.get("type", "text" if tag != "button" else "submit").lower(),
                    "checked": "checked" in attributes,
                    "disabled": "disabled" in attributes,
                    "pressed": attributes.get("aria-pressed") == "true",
                }
            )
        elif tag == "select" and self.forms:
            self._select = attributes.get("name", "")
            self.forms[-1].options[self._select] = []
        elif tag == "option" and self.forms and self._select is not None:
            values = self.forms[-1].options[self._select]
            if "selected" in attributes:
                values.insert(0, attributes.get("value", ""))
            else:
                values.append(attributes.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


@dataclass
class Page:
    url: str
    status: int
    html: str
    links: list[str]
    forms: list[Form]

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def product_links(self) -> list[str]:
        return [link for link in self.links if PRODUCT_LINK.match(link)]

    def lists(self) -> list[list[str]]:
        """The product links of each list the page shows (by their ``lid``), in page order."""
        lists: dict[str, list[str]] = {}
        for link in self.product_links():
            list_id = parse_qs(urlsplit(link).query).get("lid", [""])[0]
            if list_id and link not in lists.setdefault(list_id, []):
                lists[list_id].append(link)
        return list(lists.values())

    def form(self, action: str, *, having: str = "") -> Form | None:
        """The first form that posts to a URL containing ``action``, or (an action left empty posts to the page)
        that has a field named ``having``."""
        for form in self.forms:
            named = bool(having) and any(item["name"] == having for item in form.fields)
            if form.method == "post" and ((action and action in form.action) or named):
                return form
        return None


class Browser:
    """One simulated shopper's browser: a cookie jar (visitor, session and CSRF cookies), the synthetic header."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.opener.addheaders = [("User-Agent", identity.USER_AGENT), identity.HEADER]

    def get(self, path: str) -> Page:
        return self._open(urllib.request.Request(urljoin(self.base_url, path)))

    def submit(self, page: Page, form: Form, changes: dict[str, str] | None = None) -> Page:
        data = form.values() | (changes or {})
        url = urljoin(page.url, form.action or page.url)
        request = urllib.request.Request(url, data=urlencode(data).encode(), headers={"Referer": page.url})
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> Page:
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return _page(response.geturl(), response.status, response.read())
        except urllib.error.HTTPError as error:  # a 4xx or 5xx page is still a page (a form with errors)
            return _page(error.geturl(), error.code, error.read())


def _page(url: str, status: int, body: bytes) -> Page:
    html = body.decode("utf-8", errors="replace")
    parser = _Parser()
    parser.feed(html)
    return Page(url, status, html, parser.links, parser.forms)


@dataclass
class Report:
    shoppers: int = 0
    sessions: int = 0
    pages: int = 0
    product_views: int = 0
    wishlist_adds: int = 0
    cart_adds: int = 0
    accounts: int = 0
    orders: int = 0
    shelf_clicks: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: Report) -> None:
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class Shopper:
    key: str
    gender: str
    browser: Browser
    password: str
    bag: int = 0
    signed_up: bool = False


@dataclass(frozen=True)
class Behaviour:
    """The HTTP shoppers' parameters (fixed, documented in docs/simulation.md)."""

    listing_share: float = 0.6  # sessions that open a listing of the shopper's gender after the home page
    products_per_session: tuple[int, int] = (2, 5)  # product pages opened, at least and at most
    wishlist_rate: float = 0.15  # product pages where the product is wishlisted
    cart_rate: float = 0.35  # product pages where a size is added to the bag
    checkout_rate: float = 0.5  # sessions ending with something in the bag that check out
    # On the home page, each card of each shelf in turn catches the eye with this chance, times 0.8 per
    # position down the shelf; the first that does is opened. A shelf that shows more, or better, is clicked more.
    shelf_click_rate: float = 0.1
    genders: tuple[str, ...] = ("Men", "Women")


def drive(
    base_url: str,
    *,
    shoppers: int = 3,
    sessions: int = 2,
    seed: int = 0,
    behaviour: Behaviour | None = None,
    concurrency: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """``shoppers`` shoppers, ``sessions`` sessions each, ``concurrency`` shoppers at a time, against the site at
    ``base_url``. Each shopper draws from its own seeded generator, so that the same seed makes the same shoppers
    whatever the concurrency.

    Raises ``OSError`` when the site cannot be reached at all; anything else that goes wrong is in the report's
    ``problems``."""
    behaviour = behaviour or Behaviour()

    def shop(number: int) -> Report:
        rng = random.Random(f"{seed}-{number}")
        key = f"sim-http-{seed}-{number}"
        shopper = Shopper(key, rng.choice(behaviour.genders), Browser(base_url), f"{key}-{rng.getrandbits(64):x}")
        report = Report(shoppers=1)
        for _ in range(sessions):
            _session(shopper, behaviour, rng, report)
            report.sessions += 1
            if progress is not None:
                progress(1)
        return report

    total = Report()
    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        for report in pool.map(shop, range(shoppers)):
            total.add(report)
    return total


def _session(shopper: Shopper, behaviour: Behaviour, rng: random.Random, report: Report) -> None:
    page = _visit(shopper, "/", report)
    eye_catcher = _shelf_click(page, behaviour, rng)
    if eye_catcher is None and (rng.random() < behaviour.listing_share or not page.product_links()):
        page = _visit(shopper, f"/products/?gender={shopper.gender}", report)
    for step in range(rng.randint(*behaviour.products_per_session)):
        if step == 0 and eye_catcher is not None:
            link = eye_catcher
            report.shelf_clicks += 1
        else:
            links = page.product_links()
            if not links:
                break
            # The top of a list is clicked more often than its foot.
            link = rng.choices(links, weights=[1.0 / (1 + position) for position in range(len(links))])[0]
        page = _visit(shopper, link, report)
        report.product_views += 1
        if rng.random() < behaviour.wishlist_rate:
            _wishlist(shopper, page, report)
        if rng.random() < behaviour.cart_rate:
            _add_to_bag(shopper, page, rng, report)
    if shopper.bag and rng.random() < behaviour.checkout_rate:
        _checkout(shopper, report)


def _shelf_click(page: Page, behaviour: Behaviour, rng: random.Random) -> str | None:
    for links in page.lists():
        for position, link in enumerate(links):
            if rng.random() < behaviour.shelf_click_rate * 0.8**position:
                return link
    return None


def _visit(shopper: Shopper, path: str, report: Report) -> Page:
    page = shopper.browser.get(path)
    report.pages += 1
    if page.status >= 400:
        report.problems.append(f"{shopper.key}: GET {path} answered {page.status}")
    return page


def _wishlist(shopper: Shopper, page: Page, report: Report) -> None:
    """The product's own heart (not those of the cards in its lists), unless it is on the wishlist already."""
    form = page.form(f"/wishlist{page.path.removeprefix('/products')}")
    if form is None or any(item["pressed"] for item in form.fields):
        return
    shopper.browser.submit(page, form)
    report.wishlist_adds += 1


def _add_to_bag(shopper: Shopper, page: Page, rng: random.Random, report: Report) -> None:
    form = page.form("/bag/add/")
    sizes = form.choices("sku") if form is not None else []
    if form is None or not sizes:
        return  # sold out, or not sold online
    result = shopper.browser.submit(page, form, {"sku": rng.choice(sizes), "quantity": "1"})
    if result.status == 200:
        shopper.bag += 1
        report.cart_adds += 1
    else:
        report.problems.append(f"{shopper.key}: adding to the bag on {page.path} answered {result.status}")


def _checkout(shopper: Shopper, report: Report) -> None:
    page = shopper.browser.get("/checkout/")
    if "/accounts/login/" in page.url:
        page = _sign_up_or_in(shopper, page, report)
    form = page.form("/checkout/")
    if form is None:
        report.problems.append(f"{shopper.key}: no checkout form at {page.url} ({page.status})")
        return
    saved = [value for value in form.choices("address") if value != "new"]
    changes = {"address": saved[0]} if saved else {"address": "new", **ADDRESS}
    payments = form.choices("payment")
    if "payment" not in form.values() and payments:
        changes["payment"] = payments[0]
    placed = shopper.browser.submit(page, form, changes)
    if re.search(r"/orders/[^/]+/$", placed.path):
        report.orders += 1
        shopper.bag = 0
    else:
        report.problems.append(f"{shopper.key}: checkout answered {placed.status} at {placed.path}")


def _sign_up_or_in(shopper: Shopper, page: Page, report: Report) -> Page:
    """Sign up the first time (an account at the simulator's e-mail domain), log in later; back at checkout."""
    email = identity.email(shopper.key)
    if shopper.signed_up:
        form = page.form("/accounts/login/", having="password")
        if form is None:
            return page
        return shopper.browser.submit(page, form, {"login": email, "password": shopper.password})
    signup = shopper.browser.get("/accounts/signup/?next=/checkout/")
    form = signup.form("/accounts/signup/", having="password1")
    if form is None:
        report.problems.append(f"{shopper.key}: no sign-up form at {signup.url}")
        return signup
    page = shopper.browser.submit(
        signup, form, {"email": email, "password1": shopper.password, "password2": shopper.password}
    )
    if "/accounts/signup/" not in page.url:
        shopper.signed_up = True
        report.accounts += 1
    return page
