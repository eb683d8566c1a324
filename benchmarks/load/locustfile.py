"""The storefront under load, for locust: visitors browse, search and search by photo; shoppers fill a bag and check
out, paying cash on delivery.

    .venv/bin/python benchmarks/load/run.py        # what runs it: a server, the plan, the report and the clean-up

It needs ``--plan``, the JSON file that ``benchmarks/load/plan.py`` writes: the products, listings, searches and
photos to ask for, and the shoppers' accounts. Every request is marked synthetic (the server honours the header
only where ``EVENTS_ACCEPT_SYNTHETIC_HEADER`` is on), and every user's visitor id lies in the load test's own range,
so that what a run leaves in the interaction log can be found and removed. Imports no Django: locust's gevent
runs here, the storefront in its own processes.
"""

import itertools
import json
import random
import uuid
from http.cookiejar import Cookie
from pathlib import Path
from urllib.parse import urlsplit

# locust puts the locustfile's folder first on sys.path.
from kinds import CART_ADD, CHECKOUT, HOME, LISTING, LOG_IN, PHOTO_SEARCH, PRODUCT, SEARCH, SHELVES
from locust import FastHttpUser, between, events, task
from locust.env import Environment

SYNTHETIC_HEADERS = {"X-Lookalike-Synthetic": "1", "User-Agent": "LookalikeLoadTest/1.0 (synthetic traffic)"}
VISITOR_COOKIE = "lookalike_visitor"  # events.middleware.COOKIE_NAME

plan: dict = {}
photos: list[tuple[str, bytes]] = []
accounts = itertools.count()


@events.init_command_line_parser.add_listener
def add_arguments(parser) -> None:
    parser.add_argument("--plan", default="", help="The load plan (JSON) that benchmarks/load/plan.py writes.")
    parser.add_argument("--shoppers", type=int, default=1, help="How many of the users are shoppers (the rest visit).")
    parser.add_argument(
        "--every-kind-first",
        action="store_true",
        help="Each user first makes one request of each kind (a warm-up; the short test run counts on it).",
    )


@events.init.add_listener
def load_plan(environment: Environment, **kwargs) -> None:
    plan.update(json.loads(Path(environment.parsed_options.plan).read_text()))
    photos.extend((Path(path).name, Path(path).read_bytes()) for path in plan["photos"])
    # A fixed number of shoppers, each with an account of its own: two on one bag would empty it under each other.
    if environment.parsed_options.shoppers > len(plan["shoppers"]):
        raise SystemExit(f"The plan has accounts for {len(plan['shoppers'])} shoppers only.")
    Shopper.fixed_count = environment.parsed_options.shoppers


def visitor_id() -> str:
    """A new visitor id in the load test's range (its first 8 hex digits)."""
    return plan["visitor_prefix"] + uuid.uuid4().hex[8:]


class StorefrontUser(FastHttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)
    network_timeout = 90.0
    connection_timeout = 10.0
    default_headers = SYNTHETIC_HEADERS

    def on_start(self) -> None:
        host = urlsplit(self.host).hostname or ""
        self.client.cookiejar.set_cookie(_cookie(VISITOR_COOKIE, visitor_id(), host))

    def csrf_headers(self) -> dict[str, str]:
        token = next((cookie.value for cookie in self.client.cookiejar if cookie.name == "csrftoken"), "")
        return {"X-CSRFToken": token}

    def get_page(self, path: str, name: str, expect: str = "", headers: dict[str, str] | None = None) -> None:
        with self.client.get(path, name=name, headers=headers, catch_response=True) as response:
            if response.status_code == 200 and expect and expect not in response.text:
                response.failure(f"{path}: no {expect!r} on the page")

    def product_page(self, product_id: int) -> None:
        """The page, then its shelves, as the browser's script asks for them (static/shop/js/shelves.js)."""
        path = f"/products/{product_id}/"
        self.get_page(path, PRODUCT, expect="data-shelves")
        self.get_page(path, SHELVES, expect="similar-items", headers={"X-Shelves": "1"})


class Visitor(StorefrontUser):
    """An anonymous visitor: the home page, listings with filters, searches, product pages, a search by photo."""

    weight = 9

    def on_start(self) -> None:
        super().on_start()
        if self.environment.parsed_options.every_kind_first:
            # The slowest first (the first search by photo loads the image model in its worker), so that a short
            # run still makes each kind of request before it stops.
            for kind in (self.photo_search, self.product, self.search, self.listing, self.home):
                kind()

    @task(10)
    def home(self) -> None:
        self.get_page("/", HOME, expect="New arrivals")

    @task(20)
    def listing(self) -> None:
        self.get_page(random.choice(plan["listings"]), LISTING, expect="listing__count")

    @task(12)
    def search(self) -> None:
        self.get_page(random.choice(plan["searches"]), SEARCH, expect="listing__count")

    @task(30)
    def product(self) -> None:
        self.product_page(random.choice(plan["product_ids"]))

    @task(3)
    def photo_search(self) -> None:
        name, data = random.choice(photos)
        files = {"image": (name, data, "image/jpeg")}
        with self.client.post("/api/search/photo/", name=PHOTO_SEARCH, files=files, catch_response=True) as response:
            if response.status_code == 200 and not response.json().get("results"):
                response.failure(f"{name}: no results")


class Shopper(StorefrontUser):
    """A signed-up shopper with a saved address: logs in, then puts one to three sizes into the bag, looking at
    each product first, and checks out, again and again."""

    fixed_count = 1  # set by --shoppers

    def on_start(self) -> None:
        super().on_start()
        self.account = plan["shoppers"][next(accounts)]
        self.client.get("/accounts/login/", name=LOG_IN)
        with self.client.post(
            "/accounts/login/",
            name=LOG_IN,
            data={"login": self.account["email"], "password": plan["password"], **self._form_token()},
            headers={"Referer": f"{self.host}/accounts/login/"},
            catch_response=True,
        ) as response:
            if not any(cookie.name == "sessionid" for cookie in self.client.cookiejar):
                response.failure(f"{self.account['email']} could not log in")

    def on_stop(self) -> None:
        self.client.post("/accounts/logout/", name="log out", data=self._form_token())

    @task
    def buy(self) -> None:
        for _ in range(random.randint(1, 3)):
            product_id, sku_id = random.choice(plan["buyable"])
            self.product_page(product_id)
            with self.client.post(
                "/api/cart/lines/",
                name=CART_ADD,
                json={"sku": sku_id, "quantity": 1},
                headers=self.csrf_headers(),
                catch_response=True,
            ) as response:
                if response.status_code != 201:
                    response.failure(f"size {sku_id}: {response.status_code} {response.text[:200]}")
        order = {"address_id": self.account["address_id"], "delivery": "standard", "payment": "cod"}
        with self.client.post(
            "/api/checkout/", name=CHECKOUT, json=order, headers=self.csrf_headers(), catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code} {response.text[:200]}")

    def _form_token(self) -> dict[str, str]:
        return {"csrfmiddlewaretoken": self.csrf_headers()["X-CSRFToken"]}


def _cookie(name: str, value: str, domain: str) -> Cookie:
    return Cookie(
        version=0, name=name, value=value, port=None, port_specified=False, domain=domain,
        domain_specified=False, domain_initial_dot=False, path="/", path_specified=True, secure=False,
        expires=None, discard=True, comment=None, comment_url=None, rest={}, rfc2109=False,
    )  # fmt: skip
