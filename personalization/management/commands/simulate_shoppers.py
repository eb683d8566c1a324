"""``manage.py simulate_shoppers``: a SIMULATED shopping history, marked synthetic (docs/simulation.md)."""

import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from events.models import Visitor
from personalization.interactions import KINDS
from personalization.selectors import load_catalogue
from personalization.simulation import identity
from personalization.simulation.http_driver import drive
from personalization.simulation.simulator import PlantedPreference, SimulationConfig, simulate
from personalization.simulation.writer import remove_synthetic, write_history

HTTP_SHOPPERS, HTTP_SESSIONS = 3, 2


class _Bars:
    """The orders' progress bar, then the events': each opens when its stage starts, so that its rate and ETA are
    its own."""

    def __init__(self, *, orders: int, events: int) -> None:
        self.totals = {"order": orders, "event": events}
        self.bar = self._new("order" if orders else "event")

    def _new(self, unit: str) -> tqdm:
        return tqdm(total=self.totals[unit], unit=unit, unit_scale=True, desc=f"Writing {unit}s")

    def orders(self, count: int) -> None:
        self.bar.update(count)
        if self.bar.n >= self.totals["order"]:
            self.bar.close()
            self.bar = self._new("event")

    def events(self, count: int) -> None:
        if self.bar.unit != "event":
            self.bar.close()
            self.bar = self._new("event")
        self.bar.update(count)

    def close(self) -> None:
        self.bar.close()


class Command(BaseCommand):
    help = (
        "Simulate shoppers: a seeded history of views, clicks, wishlist and cart adds and orders on the catalogue, "
        "written in bulk and marked synthetic (SIMULATED data, docs/simulation.md); or drive a running site over "
        "HTTP (--http); or delete everything synthetic (--remove)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--shoppers", type=int, help=f"default {SimulationConfig.shoppers:,}; with --http, {HTTP_SHOPPERS}"
        )
        parser.add_argument("--weeks", type=int, default=SimulationConfig.weeks, help="of history, up to now")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--plant",
            action="store_true",
            help=f"plant a taste in {PlantedPreference.share:.0%} of the shoppers: {PlantedPreference().attributes}",
        )
        parser.add_argument("--http", metavar="URL", help="drive the site at URL over HTTP instead")
        parser.add_argument("--sessions", type=int, help=f"with --http: sessions per shopper (default {HTTP_SESSIONS})")
        parser.add_argument("--concurrency", type=int, help="with --http: shoppers at a time (default 1)")
        parser.add_argument("--remove", action="store_true", help="delete every synthetic event, visitor and order")

    def handle(self, *args, **options) -> None:
        if options["remove"]:
            if options["http"] or options["plant"] or options["shoppers"] is not None:
                raise CommandError("--remove takes no other option: it deletes everything synthetic.")
            self._remove()
            return
        for name in ("shoppers", "weeks", "sessions", "concurrency"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name} must be at least 1 (got {options[name]}).")
        if options["seed"] < 0:
            raise CommandError(f"--seed must not be negative (got {options['seed']}).")
        if options["http"]:
            if options["plant"]:
                raise CommandError("--plant is for the bulk history, not --http.")
            if not options["http"].startswith(("http://", "https://")):
                raise CommandError(
                    f"--http takes the site's URL, e.g. http://127.0.0.1:8000 (got {options['http']!r})."
                )
            self._drive(options)
        elif options["sessions"] is not None or options["concurrency"] is not None:
            raise CommandError("--sessions and --concurrency go with --http.")
        else:
            self._simulate(options)

    def _simulate(self, options: dict) -> None:
        seed = options["seed"]
        config = SimulationConfig(
            shoppers=options["shoppers"] or SimulationConfig.shoppers,
            weeks=options["weeks"],
            plant=PlantedPreference() if options["plant"] else None,
        )
        started = time.monotonic()
        catalogue = load_catalogue()
        if not len(catalogue):
            raise CommandError("The catalogue is empty: import it first (manage.py import_catalog PATH).")
        if Visitor.objects.filter(id=identity.visitor_id(f"sim-{seed}-0")).exists():
            raise CommandError(
                f"A simulated history with seed {seed} is in the database already: remove it first (--remove) "
                "or choose another --seed."
            )
        self.stdout.write(
            f"Simulating {config.shoppers:,} shoppers over {config.weeks} weeks on {len(catalogue):,} products "
            f"(seed {seed}{', with the planted preference' if config.plant else ''}): SIMULATED data, marked synthetic."
        )
        try:
            history = simulate(catalogue, config, seed)
        except ValueError as error:
            raise CommandError(str(error)) from error
        simulated = time.monotonic()
        self.stdout.write(f"Simulated {len(history.log):,} events in {simulated - started:.1f} s; writing them.")
        bars = _Bars(orders=history.orders, events=len(history.log))
        try:
            written = write_history(history, orders_progress=bars.orders, events_progress=bars.events)
        finally:
            bars.close()
        finished = time.monotonic()
        kinds = Counter(KINDS[code] for code in history.log.kind.tolist())
        self.stdout.write(", ".join(f"{kinds[kind]:,} {kind}" for kind in KINDS))
        self.stdout.write(
            self.style.SUCCESS(
                f"{written.events:,} synthetic events, {written.orders:,} orders and {written.visitors:,} shoppers "
                f"({len(history.planted_shoppers):,} planted) in {finished - started:.1f} s "
                f"(simulation {simulated - started:.1f} s, writing {finished - simulated:.1f} s)."
            )
        )

    def _drive(self, options: dict) -> None:
        shoppers = options["shoppers"] or HTTP_SHOPPERS
        sessions = options["sessions"] or HTTP_SESSIONS
        started = time.monotonic()
        self.stdout.write(f"Driving {options['http']} as {shoppers} simulated shoppers, {sessions} sessions each.")
        with tqdm(total=shoppers * sessions, unit="session", desc="Sessions") as bar:
            try:
                report = drive(
                    options["http"],
                    shoppers=shoppers,
                    sessions=sessions,
                    seed=options["seed"],
                    concurrency=options["concurrency"] or 1,
                    progress=bar.update,
                )
            except OSError as error:
                raise CommandError(f"Cannot reach {options['http']}: {error}") from error
        for problem in report.problems:
            self.stderr.write(problem)
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.sessions} sessions: {report.pages} pages, {report.shelf_clicks} home shelf clicks, "
                f"{report.product_views} product views, "
                f"{report.wishlist_adds} wishlist adds, {report.cart_adds} cart adds, {report.accounts} accounts, "
                f"{report.orders} orders in {time.monotonic() - started:.1f} s (logged by the site as synthetic)."
            )
        )

    def _remove(self) -> None:
        started = time.monotonic()
        removed = remove_synthetic()
        self.stdout.write(
            self.style.SUCCESS(
                f"Removed {removed.events:,} synthetic events, {removed.visitors:,} visitors, {removed.orders:,} "
                f"orders ({removed.order_lines:,} lines), {removed.exposures:,} A/B test exposures and "
                f"{removed.accounts:,} accounts "
                f"in {time.monotonic() - started:.1f} s."
            )
        )
