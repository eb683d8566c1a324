"""The shopper simulator (SIMULATED data): seeded, metadata-driven histories on the fixture catalogue, their
writing to the log and orders marked synthetic, their removal, the command, and the HTTP driver against a live
server."""

import dataclasses
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cart.models import Cart, Wishlist
from events.models import Event, Visitor
from orders.models import Order, OrderLine
from orders.services import PastLine, PastOrder, create_orders_bulk
from personalization.catalogue import CatalogueArrays
from personalization.interactions import KIND_CODES, KINDS
from personalization.selectors import load_catalogue
from personalization.simulation import identity
from personalization.simulation.http_driver import Behaviour, drive
from personalization.simulation.personas import draw_personas, encode, season_pull
from personalization.simulation.sampling import Fit, persona_weights
from personalization.simulation.simulator import PlantedPreference, SimulatedHistory, SimulationConfig, simulate
from personalization.simulation.writer import ADDRESS, remove_synthetic, write_history
from shop.models import Product, Sku
from tests.browsers import running_server
from tests.catalogues import NO_DATASET_DIR
from tests.processes import free_port

END = datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()
SMALL = SimulationConfig(shoppers=300, weeks=4, end=END)
VIEW, PURCHASE = KIND_CODES["view"], KIND_CODES["purchase"]
# The fixture's black T-shirts (men's mostly).
PLANT = PlantedPreference(share=0.05, attributes={"article_type": "Tshirts", "base_colour": "Black"})


@pytest.fixture(autouse=True)
def empty_log(db) -> None:
    """Overrides the package's, which also empties the popularity table: its rows, deleted in this test's
    transaction, would stay locked until the test ends, and the live server's writes to them would wait for it."""
    Event.objects.all().delete()


@pytest.fixture
def catalogue() -> CatalogueArrays:
    return load_catalogue()


def column(history: SimulatedHistory, catalogue: CatalogueArrays, name: str, kind: int = VIEW) -> np.ndarray:
    """The attribute ``name`` of each event's product, for events of ``kind``."""
    log = history.log
    return catalogue.attributes[name][log.product[log.kind == kind]]


def share_of_top(counts: np.ndarray, top: int) -> float:
    return float(np.sort(counts)[::-1][:top].sum() / counts.sum())


def test_the_same_seed_makes_the_same_history_and_another_seed_another(catalogue):
    first, again, other = (simulate(catalogue, SMALL, seed) for seed in (1, 1, 2))

    for name in ("shopper", "product", "kind", "timestamp", "order"):
        assert np.array_equal(getattr(first.log, name), getattr(again.log, name)), name
    assert list(first.log.shopper_ids) == list(again.log.shopper_ids) == [f"sim-1-{n}" for n in range(300)]
    assert len(first.log) != len(other.log) or not np.array_equal(first.log.product, other.log.product)
    assert np.array_equal(first.log.product_ids, catalogue.product_ids)
    assert set(np.unique(first.log.kind)) == set(range(len(KINDS)))
    assert first.log.timestamp.max() <= END and first.log.timestamp.min() >= END - 4 * 7 * 86400
    assert np.all(np.diff(first.log.timestamp) >= 0)


def test_each_shopper_browses_their_own_gender_and_unisex_products(catalogue):
    history = simulate(catalogue, SMALL, 3)
    log = history.log
    views = log.kind == VIEW
    genders = catalogue.attributes["gender"][log.product[views]]
    shoppers = log.shopper[views]

    kept = []
    for shopper in np.unique(shoppers):
        gendered = Counter(gender for gender in genders[shoppers == shopper] if gender != "Unisex")
        if sum(gendered.values()) >= 3:
            kept.append(max(gendered.values()) / sum(gendered.values()))
    assert len(kept) > 100
    assert np.mean(kept) > 0.95


def test_a_persona_weighs_its_favourite_colours_brands_and_usage_up(catalogue):
    products = encode(catalogue.attributes, catalogue.price, catalogue.in_stock)
    rng = np.random.default_rng(0)
    personas = draw_personas(
        products, ["Men"], np.zeros(20), favourites=(3, 2, 2), season_boost=1.5, activity_sigma=1.0, rng=rng
    )
    men = products.eligible("Men")
    shoppers, width = np.arange(20), np.full(20, len(men))
    cells = np.tile(men, 20)
    fit = Fit(colour=3.0, brand=5.0, usage=2.0, price_width=2.0)
    plain = persona_weights(products, personas, shoppers, width, cells, np.ones(len(products)), Fit(1, 1, 1, 2.0))
    weighted = persona_weights(products, personas, shoppers, width, cells, np.ones(len(products)), fit)

    owner = np.repeat(shoppers, len(men))
    expected = np.ones(len(cells))
    for column, favourites, boost in (
        (products.base_colour, personas.colours, 3.0),
        (products.brand, personas.brands, 5.0),
        (products.usage, personas.usage[:, None], 2.0),
    ):
        liked = (column.codes[cells][:, None] == favourites[owner]).any(axis=1)
        assert liked.any() and not liked.all()
        expected *= np.where(liked, boost, 1.0)
    assert np.allclose(weighted / plain, expected)
    assert set(np.unique(products.usage.values[personas.usage])) <= {"Casual", "Formal", "Sports", "Ethnic"}


def test_a_few_products_draw_most_views(catalogue):
    types = catalogue.attributes["gender"] + ":" + catalogue.attributes["article_type"]
    crowded = [kind for kind, count in Counter(types).items() if count >= 5]  # e.g. men's T-shirts, women's tops

    def top_share(history: SimulatedHistory) -> float:
        """Within each article type of five products or more: the share of its views that its most viewed product
        has; averaged."""
        counts = np.bincount(history.log.product[history.log.kind == VIEW], minlength=len(catalogue))
        return float(np.mean([counts[types == kind].max() / counts[types == kind].sum() for kind in crowded]))

    assert len(crowded) >= 3
    flat = simulate(catalogue, dataclasses.replace(SMALL, popularity_exponent=0.0), 4)
    assert top_share(simulate(catalogue, SMALL, 4)) > top_share(flat) + 0.05


def test_orders_are_outfits_across_categories_of_products_in_stock(catalogue):
    sold_out = np.zeros(len(catalogue), dtype=bool)
    sold_out[::3] = True  # every third product out of stock
    history = simulate(catalogue, dataclasses.replace(SMALL, shoppers=600), 5)
    log = history.log
    assert history.orders > 50

    purchases = log.kind == PURCHASE
    sub_categories: dict[int, set[str]] = {}
    for order, product in zip(log.order[purchases], log.product[purchases], strict=True):
        sub_categories.setdefault(int(order), set()).add(catalogue.attributes["sub_category"][product])
    multi = [categories for categories in sub_categories.values() if len(categories) >= 2]
    assert len(multi) > 0.3 * len(sub_categories)
    assert any({"Topwear", "Bottomwear"} <= categories for categories in multi)
    assert set(np.unique(log.order[purchases])) == set(range(history.orders))
    assert np.all(log.order[~purchases] == -1)

    stocked = dataclasses.replace(catalogue, in_stock=catalogue.in_stock & ~sold_out)
    limited = simulate(stocked, dataclasses.replace(SMALL, shoppers=600), 5).log
    bought = limited.product[np.isin(limited.kind, [PURCHASE, KIND_CODES["cart_add"]])]
    assert len(bought) and not sold_out[bought].any()
    assert sold_out[limited.product[limited.kind == VIEW]].any()  # still viewed


def test_in_season_products_are_viewed_more_in_their_season(catalogue):
    winter_code = np.array(["Winter"], dtype=object)
    assert season_pull(np.array([0]), winter_code, np.array([END - 45 * 86400]), np.array([1.5]))[0] > 2.0
    assert season_pull(np.array([0]), winter_code, np.array([END + 140 * 86400]), np.array([1.5]))[0] == 1.0

    # Four weeks of July, then of October: summer's peak, then autumn's ("Fall"). The fixture's men's T-shirts and
    # shirts, women's tops... come in both.
    july = simulate(catalogue, dataclasses.replace(SMALL, end=datetime(2026, 8, 1, tzinfo=UTC).timestamp()), 6)
    october = simulate(catalogue, dataclasses.replace(SMALL, end=datetime(2026, 11, 1, tzinfo=UTC).timestamp()), 6)

    def summer_share(history: SimulatedHistory) -> float:
        seasons = column(history, catalogue, "season")
        return float(np.mean(seasons[np.isin(seasons, ["Summer", "Fall"])] == "Summer"))

    assert summer_share(july) > summer_share(october) + 0.05


def test_the_simulator_never_reads_the_embeddings(catalogue):
    class WithoutEmbeddings:
        """The catalogue, whose embeddings cannot be read."""

        def __init__(self, arrays: CatalogueArrays) -> None:
            self._arrays = arrays

        def __getattr__(self, name: str):
            if name == "embeddings":
                raise AssertionError("The simulator read the image embeddings.")
            return getattr(self._arrays, name)

        def __len__(self) -> int:
            return len(self._arrays)

    guarded = simulate(WithoutEmbeddings(catalogue), SMALL, 7)  # type: ignore[arg-type]
    vectors = np.random.default_rng(0).normal(size=(len(catalogue), 8)).astype(np.float32)
    with_vectors = simulate(dataclasses.replace(catalogue, embeddings=vectors), SMALL, 7)
    assert np.array_equal(guarded.log.product, with_vectors.log.product)
    assert np.array_equal(guarded.log.timestamp, with_vectors.log.timestamp)

    code = "import sys, personalization.simulation.simulator; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'django'" not in loaded and "'numpy'" in loaded


def test_planted_shoppers_keep_to_the_planted_products(catalogue):
    history = simulate(catalogue, dataclasses.replace(SMALL, plant=PLANT), 8)
    log = history.log

    planted_products = history.planted_products
    black_tshirts = (catalogue.attributes["article_type"] == "Tshirts") & (
        catalogue.attributes["base_colour"] == "Black"
    )
    assert list(planted_products) == list(np.flatnonzero(black_tshirts)) and len(planted_products) >= 2
    assert len(history.planted_shoppers) == 15
    views = log.kind == VIEW
    mine = np.isin(log.shopper, history.planted_shoppers)
    on_planted = np.isin(log.product, planted_products)
    assert on_planted[views & mine].mean() > 0.25
    assert on_planted[views & ~mine].mean() < 0.1
    assert on_planted[(log.kind == PURCHASE) & mine].any()

    plain = simulate(catalogue, SMALL, 8)
    assert len(plain.planted_shoppers) == 0 and len(plain.planted_products) == 0
    nothing = PlantedPreference(attributes={"article_type": "Tshirts", "base_colour": "Chartreuse"})
    with pytest.raises(ValueError, match="No product has"):
        simulate(catalogue, dataclasses.replace(SMALL, plant=nothing), 8)


def test_the_writer_marks_everything_synthetic_and_remove_deletes_exactly_that(catalogue):
    real_visitor = Visitor.objects.create(id=uuid.uuid4())
    product = Product.objects.order_by("pk").first()
    real_event = Event.objects.create(
        kind="view", created_at=timezone.now(), visitor_id=real_visitor.id, product=product
    )
    line = PastLine(product.pk, "A real thing", None, "Size", "M", Decimal("100.00"))
    [real_order] = create_orders_bulk([PastOrder("real@example.com", timezone.now(), ADDRESS, (line,))])
    Sku.objects.update(stock=5)  # tracked stock: the history must not take any

    history = simulate(catalogue, dataclasses.replace(SMALL, shoppers=60), 9)
    written = write_history(history)

    log = history.log
    synthetic = Event.objects.filter(synthetic=True)
    assert written.events == len(log) == synthetic.count()
    assert Counter(synthetic.values_list("kind", flat=True)) == Counter(KINDS[kind] for kind in log.kind.tolist())
    visitors = {identity.visitor_id(f"sim-9-{n}") for n in range(60)}
    assert set(Visitor.objects.filter(synthetic=True).values_list("id", flat=True)) == visitors
    assert set(synthetic.values_list("visitor_id", flat=True)) <= visitors

    orders = Order.objects.filter(synthetic=True)
    assert written.orders == history.orders == orders.count() > 0
    assert OrderLine.objects.filter(order__synthetic=True).count() == int((log.kind == PURCHASE).sum())
    assert all(order.email.endswith(f"@{identity.EMAIL_DOMAIN}") and order.user is None for order in orders)
    first = orders.order_by("placed_at", "pk").first()
    first_purchase = float(log.timestamp[log.kind == PURCHASE].min())
    assert abs(first.placed_at.timestamp() - first_purchase) < 1
    for event in synthetic.filter(kind="purchase"):
        order = orders.get(pk=event.order_id)
        line = order.lines.get(product_id=event.product_id)
        assert event.value == line.unit_price == Product.objects.get(pk=event.product_id).price
        assert event.sku_id == line.sku_id
    assert set(Sku.objects.values_list("stock", flat=True)) == {5}

    output = StringIO()
    call_command("simulate_shoppers", "--remove", stdout=output)

    assert f"Removed {written.events:,} synthetic events, 60 visitors, {written.orders:,} orders" in output.getvalue()
    assert not Event.objects.filter(synthetic=True).exists() and not Order.objects.filter(synthetic=True).exists()
    assert not Visitor.objects.filter(synthetic=True).exists()
    assert list(Event.objects.values_list("pk", flat=True)) == [real_event.pk]
    assert list(Order.objects.values_list("pk", flat=True)) == [real_order]
    assert Visitor.objects.filter(pk=real_visitor.pk).exists()


def test_the_command_writes_a_history_and_summarises_it():
    output = StringIO()
    call_command("simulate_shoppers", "--shoppers", "40", "--weeks", "2", "--seed", "11", stdout=output)

    text = output.getvalue()
    events = Event.objects.filter(synthetic=True)
    assert events.exists() and f"{events.count():,} synthetic events" in text
    assert f"{events.filter(kind='view').count():,} view" in text
    assert f"{Order.objects.filter(synthetic=True).count():,} orders and 40 shoppers (0 planted)" in text
    assert "SIMULATED" in text

    with pytest.raises(CommandError, match="seed 11 is in the database already"):
        call_command("simulate_shoppers", "--shoppers", "40", "--seed", "11", stdout=StringIO())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--shoppers", "-5"], "--shoppers must be at least 1"),
        (["--weeks", "0"], "--weeks must be at least 1"),
        (["--seed", "-1"], "--seed must not be negative"),
        (["--sessions", "3"], "--sessions and --concurrency go with --http"),
        (["--concurrency", "4"], "--sessions and --concurrency go with --http"),
        (["--http", "127.0.0.1:8000"], "--http takes the site's URL"),
        (["--http", "http://127.0.0.1:8000", "--plant"], "--plant is for the bulk history"),
        (["--remove", "--shoppers", "3"], "--remove takes no other option"),
        (["--shoppers", "10", "--plant"], "No product has base_colour=Red, article_type=Dresses"),  # not in the fixture
    ],
)
def test_the_command_refuses_bad_input(arguments: list[str], message: str):
    with pytest.raises(CommandError, match=message):
        call_command("simulate_shoppers", *arguments, stdout=StringIO())
    assert not Event.objects.filter(synthetic=True).exists()


def test_the_command_refuses_an_empty_catalogue_and_an_unreachable_site():
    with pytest.raises(CommandError, match="Cannot reach"):
        call_command("simulate_shoppers", "--http", f"http://127.0.0.1:{free_port()}", stdout=StringIO())
    Product.objects.all().delete()
    with pytest.raises(CommandError, match="The catalogue is empty"):
        call_command("simulate_shoppers", "--shoppers", "10", stdout=StringIO())


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """runserver on the test database, logging every event at once; afterwards, what the driver made is removed
    (it is committed: the server sees only committed data, and commits what it writes), and what the probe that
    waited for the server to answer made."""
    started = timezone.now()
    with django_db_blocker.unblock():
        try:
            with running_server(
                tmp_path_factory.mktemp("server"),
                EVENTS_ENABLED="true",
                EVENTS_BUFFERED="false",
                EVENTS_ACCEPT_SYNTHETIC_HEADER="true",
                CATALOG_DATASET_DIR=str(NO_DATASET_DIR),
            ) as url:
                yield url
        finally:
            Event.objects.filter(created_at__gte=started).delete()  # with the start-up probe's (not synthetic)
            remove_synthetic()
            Cart.objects.filter(user=None, created_at__gte=started).delete()
            Wishlist.objects.filter(user=None, created_at__gte=started).delete()


@pytest.mark.slow
def test_the_http_driver_shops_on_the_live_site_and_the_site_logs_it_as_synthetic(server: str):
    keen = Behaviour(wishlist_rate=0.5, cart_rate=1.0, checkout_rate=1.0)

    report = drive(server, shoppers=2, sessions=2, seed=4, behaviour=keen)

    assert report.sessions == 4 and report.product_views >= 8 and report.cart_adds >= 4
    assert report.accounts == 2 and report.orders >= 1, report.problems
    events = Event.objects.all()  # what the server committed since this test emptied the log
    assert events.exists() and not events.filter(synthetic=False).exists()
    assert {"view", "click", "impression", "cart_add", "purchase"} <= set(events.values_list("kind", flat=True))
    clicks = events.filter(kind="click")
    assert clicks.exists() and all(len(click.list_id) == 32 and click.position for click in clicks)
    orders = Order.objects.filter(synthetic=True)
    assert orders.count() == report.orders
    assert {order.email for order in orders} <= {identity.email(f"sim-http-4-{n}") for n in range(2)}
    assert set(events.filter(kind="purchase").values_list("order_id", flat=True)) == set(
        orders.values_list("pk", flat=True)
    )
    linked = Visitor.objects.filter(synthetic=True, user__email__endswith=f"@{identity.EMAIL_DOMAIN}")
    assert linked.count() == 2

    output = StringIO()
    call_command("simulate_shoppers", "--remove", stdout=output)
    assert "and 2 accounts" in output.getvalue()
    assert not Event.objects.exists() and not Order.objects.filter(synthetic=True).exists()
