"""Hostile values in every filter, search and option parameter of the storefront and the API (issue 19, part 6).

SQL fragments, NUL bytes, 10,000 characters, unicode oddities (right-to-left, combining marks, an encoded surrogate,
overlong and invalid UTF-8), markup, format strings and numbers out of range: every answer is below 500, and any
value a page shows again is escaped.

The query strings are written here already percent-encoded, so that bytes no client would encode from text (an
encoded surrogate, invalid UTF-8, a broken escape) reach the server as they are.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from shop.models import FACET_FIELDS, Product
from tests.api_helpers import with_image

pytestmark = pytest.mark.django_db

LIST_URL = reverse("shop:product-list")
SEARCH_URL = reverse("shop:search")
API_LIST_URL = reverse("api:product-list")
FACETS = [name for name, _ in FACET_FIELDS]
# A list id as product links carry it (``?lid=<32 hex>&pos=<n>``): with it, the position is read too.
LIST_ID = "0123456789abcdef0123456789abcdef"

# Markup that would run if a page echoed it as it is.
SCRIPT = "<script>alert('lookalike-injection')</script>"
IMG = "<img src=x onerror=alert('lookalike-injection')>"
ATTRIBUTE = "\"'><svg onload=alert('lookalike-injection')>"
MARKUP = (SCRIPT, IMG, ATTRIBUTE)


def encoded(text: str) -> str:
    return quote(text, safe="")


# Label -> the value as it appears in the query string (percent-encoded).
HOSTILE_VALUES: dict[str, str] = {
    "sql quote": encoded("' OR '1'='1"),
    "sql comment": encoded("1' OR 1=1 --"),
    "sql drop": encoded("1; DROP TABLE shop_product; --"),
    "sql union": encoded("') UNION SELECT username, password FROM auth_user --"),
    "sql sleep": encoded("1 AND pg_sleep(10)"),
    "dollar quoting": encoded("$$; SELECT 1; $$"),
    "backslash": encoded("\\"),
    "like wildcards": encoded("%_%"),
    "tsquery operators": encoded("!( & | <-> :* )"),
    "unclosed phrase": encoded('"shirt OR -'),
    "nul": "%00",
    "nul inside": "shirt%00--",
    "10k characters": "x" * 10_000,
    "2,000 words": encoded("shirt " * 2000),
    "10k percent signs": "%25" * 10_000,
    "right-to-left override": encoded("\u202eevil"),
    "arabic": encoded("\u0642\u0645\u064a\u0635"),
    "combining marks": encoded("e" + "\u0301" * 100),
    "zero-width space": encoded("sh\u200birt"),
    "emoji": encoded("\U0001f45f\U0001f9e6"),
    "fullwidth digits": encoded("\uff11\uff12\uff13"),
    "arabic-indic digits": encoded("\u0661\u0662"),
    "superscript two": encoded("\u00b2"),
    "encoded surrogate": "%ED%A0%80",
    "overlong utf-8": "%C0%AE%C0%AE%2F",
    "invalid utf-8": "%FF%FE",
    "broken escape": "%",
    "broken escape letters": "%zz",
    "script": encoded(SCRIPT),
    "img onerror": encoded(IMG),
    "attribute breakout": encoded(ATTRIBUTE),
    "javascript url": encoded("javascript:alert(1)"),
    "template syntax": encoded("{{7*7}}{% debug %}${7*7}"),
    "printf": encoded("%s%s%s%n%x"),
    "format braces": encoded("{0}{0.__class__}{password}"),
    "percent mapping": encoded("%(password)s"),
    "10**30": str(10**30),
    "2**63": str(2**63),
    "-1": "-1",
    "0": "0",
    "1e309": "1e309",
    "-1e309": "-1e309",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "hex": "0x10",
    "fraction": "1.5",
    "-0": "-0",
    "plus sign": "%2B1",
    "empty": "",
    "blank": "%20%20",
}


@dataclass(frozen=True)
class Probe:
    """One request: a path with its query string, and headers."""

    path: str
    headers: tuple[tuple[str, str], ...] = ()


def query(*params: tuple[str, str]) -> str:
    return "&".join(f"{name}={value}" for name, value in params)


def listing_params(value: str) -> list[tuple[str, str]]:
    """Every parameter of the listing pages, each set to ``value``."""
    return [(name, value) for name in (*FACETS, "price_min", "price_max", "sort", "page")]


def page_probes(value: str, product: Product) -> Iterator[Probe]:
    yield Probe(f"{LIST_URL}?{query(*listing_params(value))}")
    yield Probe(f"{LIST_URL}?page={value}")
    yield Probe(f"{LIST_URL}?brand={value}")
    yield Probe(f"{SEARCH_URL}?q={value}")
    yield Probe(f"{SEARCH_URL}?{query(('q', value), *listing_params(value))}")
    yield Probe(f"{SEARCH_URL}?q=shirt&sort={value}&page={value}")
    detail = product.get_absolute_url()
    options = query(*((name, value) for name in ("same_gender", "same_category", "in_stock", "lid", "pos")))
    # The product page with its shelves inline (no JavaScript), reached from a list (the click is logged with its
    # position), and its shelves as the script fetches them.
    yield Probe(f"{detail}?{options}&shelves=1")
    yield Probe(f"{detail}?lid={LIST_ID}&pos={value}")
    yield Probe(f"{detail}?lid={LIST_ID}&pos={value}&same_gender={value}&in_stock={value}", (("X-Shelves", "1"),))


def api_probes(value: str, product: Product) -> Iterator[Probe]:
    for name in ("q", "sort", "page", "page_size", "price_min", "price_max", "gender", "brand"):
        yield Probe(f"{API_LIST_URL}?{name}={value}")
    yield Probe(f"{API_LIST_URL}?{query(*((name, value) for name in FACETS))}")
    similar = reverse("api:product-similar", args=[product.pk])
    for name in ("k", "same_gender", "same_category", "in_stock"):
        yield Probe(f"{similar}?{name}={value}")
    trending = reverse("api:recommendations-trending")
    for name in ("limit", "gender", "category"):
        yield Probe(f"{trending}?{name}={value}")
    yield Probe(f"{reverse('api:recommendations-for-you')}?gender={value}&category={value}")
    yield Probe(f"{reverse('api:recommendations-recently-viewed')}?limit={value}&gender={value}")
    yield Probe(f"{reverse('api:product-also-bought', args=[product.pk])}?limit={value}&gender={value}")
    yield Probe(f"{reverse('api:recommendations-strategy', args=['also_bought'])}?product={value}")
    yield Probe(f"/api/recommendations/{value or 'x'}/?product={product.pk}")


def id_probes(product: Product) -> Iterator[Probe]:
    """Product ids in paths, out of any column's range."""
    for pk in (10**30, 2**63, 2**63 - 1, 2**31, 0):
        yield Probe(f"/products/{pk}/")
        yield Probe(f"/products/{pk}/", (("X-Shelves", "1"),))
        yield Probe(f"/api/products/{pk}/")
        yield Probe(f"/api/products/{pk}/similar/")
        yield Probe(f"/api/products/{pk}/also-bought/")
        yield Probe(f"{reverse('api:recommendations-strategy', args=['also_bought'])}?product={pk}")
    yield Probe(f"{product.get_absolute_url()}?lid={LIST_ID}&pos={10**30}")


def repeated_probes(product: Product) -> Iterator[Probe]:
    """500 values of one parameter, then more parameters than Django accepts (``DATA_UPLOAD_MAX_NUMBER_FIELDS``)."""
    for many in (500, 1001):
        for name in (*FACETS, "q", "sort", "page", "price_min"):
            values = query(*((name, f"{name}{index}") for index in range(many)))
            yield Probe(f"{LIST_URL}?{values}")
            yield Probe(f"{SEARCH_URL}?{values}")
            yield Probe(f"{API_LIST_URL}?{values}")
        options = query(*((name, "1") for name in ("same_gender", "lid", "pos") for _ in range(many // 3)))
        yield Probe(f"{product.get_absolute_url()}?{options}&shelves=1")
        yield Probe(f"{reverse('api:product-similar', args=[product.pk])}?{query(*(('k', '3'),) * many)}")


@dataclass
class Answers:
    statuses: Counter[str]
    problems: list[str]

    def report(self) -> str:
        return f"{len(self.problems)} bad answers:\n" + "\n".join(self.problems[:40]) + f"\nstatuses: {self.statuses}"


def send_all(probes: Iterator[tuple[str, Probe]]) -> Answers:
    """Send each (label, probe); a problem is a 5xx, or markup of ours in an HTML answer unescaped."""
    client = Client(raise_request_exception=False)
    answers = Answers(Counter(), [])
    for label, probe in probes:
        response = client.get(probe.path, headers=dict(probe.headers))
        answers.statuses[f"{response.status_code // 100}xx"] += 1
        where = f"{label}: GET {probe.path[:120]} {dict(probe.headers) or ''}"
        if response.status_code >= 500:
            info = getattr(response, "exc_info", None)
            answers.problems.append(f"{where} -> {response.status_code} {info[1]!r:.300}" if info else where)
        elif "html" in response.get("Content-Type", ""):
            html = response.content.decode(errors="replace")
            if any(markup in html for markup in MARKUP):
                answers.problems.append(f"{where} -> markup shown unescaped")
    return answers


def labelled(make: Callable[[str, Product], Iterator[Probe]], product: Product) -> Iterator[tuple[str, Probe]]:
    for label, value in HOSTILE_VALUES.items():
        for probe in make(value, product):
            yield label, probe


@pytest.fixture
def product() -> Product:
    return with_image(article_type="Tshirts")


def test_the_pages_drop_hostile_parameters_and_show_the_page(embedded_catalogue, product) -> None:
    answers = send_all(labelled(page_probes, product))

    assert not answers.problems, answers.report()
    # The storefront ignores what it cannot use, as if the parameter had not been sent.
    assert set(answers.statuses) == {"2xx"}, answers.report()


def test_the_api_refuses_hostile_parameters_or_answers(embedded_catalogue, product) -> None:
    answers = send_all(labelled(api_probes, product))

    assert not answers.problems, answers.report()
    assert answers.statuses["4xx"] and answers.statuses["2xx"], answers.report()


def test_ids_out_of_range_are_not_found(embedded_catalogue, product) -> None:
    answers = send_all(("id", probe) for probe in id_probes(product))

    assert not answers.problems, answers.report()
    # Not found, but for the product whose page is asked with a position out of range.
    assert answers.statuses == {"4xx": 30, "2xx": 1}, answers.report()


def test_repeated_parameters_never_fail(embedded_catalogue, product) -> None:
    answers = send_all(("repeated", probe) for probe in repeated_probes(product))

    assert not answers.problems, answers.report()


@pytest.mark.parametrize(
    ("path", "markup"),
    [
        (f"{SEARCH_URL}?q={encoded(SCRIPT)}", SCRIPT),
        (f"{LIST_URL}?brand={encoded(SCRIPT)}", SCRIPT),
        (f"{LIST_URL}?article_type={encoded(ATTRIBUTE)}", ATTRIBUTE),
    ],
    ids=["search query", "brand chip", "article type chip"],
)
def test_values_shown_again_are_escaped(client, path, markup) -> None:
    html = client.get(path).content.decode()

    assert markup not in html
    # Shown, as text: the value's tag with its brackets escaped.
    assert escape(markup[markup.index("<") : markup.index("alert")]) in html
