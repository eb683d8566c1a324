"""What the load suite's users ask for, and removing what they did.

``write_plan`` picks, from the database the server serves, the products, listings and searches that the locust users
(benchmarks/load/locustfile.py) request and the photos they search with, and creates the shoppers' accounts (each
with a saved address) under ``EMAIL_DOMAIN``. The shoppers buy sizes whose stock is not tracked, so that their
orders change no stock, though checkout still locks the rows as it always does.

``clean_up`` removes everything a run made: the shoppers with their bags, addresses and orders (cancelled first, which
would put tracked stock back), and the interaction log of every visitor in the load test's range of visitor ids,
with the popularity those events added (trending) recounted. It is safe to run at any time: nothing else lies in
that range or that e-mail domain.
"""

import json
import random
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import Address
from accounts.services import save_address
from events.models import Event, Visitor
from events.popularity import rebuild_popularity
from orders.models import Order
from orders.services import change_status, next_statuses
from shop.models import Product, Sku
from shop.selectors import navigation_tree

EMAIL_DOMAIN = "load-test.invalid"
# The first 8 hex digits of every load-test visitor id ("load test"): no real visitor's random id is told apart by
# them alone, so events are removed only when also synthetic (the server marks what the load test sends).
VISITOR_PREFIX = "10ad7e57"
PRODUCTS = 2_000
BUYABLE = 500
SORTS = ("newest", "price", "price_desc", "name")
PRICE_RANGES = ((None, 499), (500, 999), (1000, 1999), (2000, 4999))
COLOURS = ("black", "blue", "white", "red", "green", "brown", "grey", "pink")
TYPOS = ("tshrt", "sneekers", "wach", "handbg", "kurtta")


def write_plan(path: Path, *, shoppers: int, photos: list[Path], seed: int = 0) -> dict:
    """The plan for up to ``shoppers`` shoppers (an account each) and the visitors, written to ``path`` as JSON."""
    rng = random.Random(seed)
    product_ids = list(Product.objects.exclude(image="").values_list("pk", flat=True))
    if not product_ids:
        raise SystemExit("The catalogue is empty: import it first (scripts/start.sh or import_catalog).")
    buyable = list(
        Sku.objects.filter(
            stock=None, product__in_stock=True, product__cash_on_delivery=True, product__price__isnull=False
        ).values_list("product_id", "pk")
    )
    if not buyable:
        raise SystemExit("No size can be bought without tracked stock: the shoppers would change the stock.")
    if not photos:
        raise SystemExit("No photos to search with.")
    password = secrets.token_urlsafe(18)
    plan = {
        "visitor_prefix": VISITOR_PREFIX,
        "product_ids": rng.sample(product_ids, min(PRODUCTS, len(product_ids))),
        "buyable": rng.sample(buyable, min(BUYABLE, len(buyable))),
        "listings": _listings(rng),
        "searches": _searches(),
        "photos": [str(photo) for photo in photos],
        "password": password,
        "shoppers": _create_shoppers(shoppers, password),
    }
    path.write_text(json.dumps(plan))
    return plan


def _listings(rng: random.Random) -> list[str]:
    """Listings by gender and article type, some sorted, narrowed by price or on page 2."""
    paths = []
    for gender in navigation_tree():
        for category in gender.children:
            for article_type in category.children[:4]:
                params = {"gender": gender.name, "article_type": article_type.name, "sort": rng.choice(SORTS)}
                low, high = rng.choice(PRICE_RANGES)
                paths.append("/products/?" + urlencode(params))
                paths.append("/products/?" + urlencode({**params, "price_min": low or "", "price_max": high}))
                if article_type.count > 48:
                    paths.append("/products/?" + urlencode({**params, "page": 2}))
    return paths


def _searches() -> list[str]:
    """Searches by article type, by colour and type, and a few misspelt (the fuzzy fallback)."""
    types = [
        node.name.lower() for gender in navigation_tree() for category in gender.children for node in category.children
    ]
    names = sorted(set(types))[:40]
    queries = names + [f"{colour} {name}" for colour, name in zip(COLOURS * 5, names, strict=False)] + list(TYPOS)
    return ["/search/?" + urlencode({"q": query}) for query in queries]


def _create_shoppers(count: int, password: str) -> list[dict]:
    users = get_user_model().objects
    hashed = make_password(password)  # once: hashing is made slow on purpose
    shoppers = []
    for number in range(count):
        email = f"shopper-{number}-{uuid.uuid4().hex[:6]}@{EMAIL_DOMAIN}"
        user = users.create(username=email, email=email, password=hashed)
        address = save_address(
            Address(
                user=user,
                full_name="Load Test Shopper",
                phone="+91 98450 12345",
                line1="Synthetic address (load test, not a real order)",
                city="Bengaluru",
                state="Karnataka",
                postcode="560001",
            )
        )
        shoppers.append({"email": email, "address_id": address.pk})
    return shoppers


@dataclass(frozen=True)
class Removed:
    shoppers: int
    orders: int
    events: int
    visitors: int

    def __str__(self) -> str:
        return (
            f"removed {self.shoppers} load-test shoppers, {self.orders} orders, {self.events} events, "
            f"{self.visitors} visitors"
        )


def visitor_range() -> tuple[uuid.UUID, uuid.UUID]:
    return uuid.UUID(VISITOR_PREFIX + "0" * 24), uuid.UUID(VISITOR_PREFIX + "f" * 24)


def load_test_events():
    low, high = visitor_range()
    return Event.objects.filter(synthetic=True, visitor_id__gte=low, visitor_id__lte=high)


def clean_up() -> Removed:
    """Remove what load-test runs made (see the module's description)."""
    shoppers = get_user_model().objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")
    orders = Order.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")
    for order in orders:
        if Order.Status.CANCELLED in next_statuses(order):
            change_status(order, Order.Status.CANCELLED)
    low, high = visitor_range()
    with transaction.atomic():
        events = load_test_events()
        touched = set(events.exclude(product=None).values_list("product_id", flat=True))
        event_count, _ = events.delete()
        visitor_count, _ = Visitor.objects.filter(synthetic=True, pk__gte=low, pk__lte=high).delete()
        order_count = orders.count()
        orders.delete()
        shopper_count = shoppers.count()
        shoppers.delete()  # with their bags, wishlists, addresses, and any event of theirs left
        rebuild_popularity(touched)
    return Removed(shopper_count, order_count, event_count, visitor_count)
