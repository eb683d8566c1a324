from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from shop.catalog_csv import CatalogFormatError
from shop.catalog_import import CatalogImportError, ImportSummary, import_catalog
from shop.models import Product


class Command(BaseCommand):
    help = (
        "Import or update the catalogue from Kaggle's Fashion Product Images layout: styles.csv, images/ and, where "
        "the full dataset's styles/<id>.json files are beside them, prices, brands, descriptions, sizes and colours."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Folder holding styles.csv, images/ and optionally styles/.")
        parser.add_argument("--limit", type=int, help="Import only the first N rows (a quick subset).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the catalogue already has products."
        )
        parser.add_argument(
            "--stock",
            action="store_true",
            help="Set each size's stock to the files' inventory count, a historical snapshot in which few sizes are "
            "available. Without it, a new size's stock is not tracked (it can always be bought) and a size keeps "
            "the stock the shop set.",
        )

    def handle(self, *args, path: Path, limit: int | None, if_empty: bool, stock: bool, **options) -> None:
        if if_empty and Product.objects.exists():
            self.stdout.write(f"The catalogue already has {Product.objects.count()} products; nothing imported.")
            return
        if not (path / "styles.csv").is_file():
            raise CommandError(f"{path} has no styles.csv (expected Kaggle's layout: styles.csv and images/).")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")

        bar = tqdm(desc="Importing", unit=" files", file=self.stderr, disable=options["verbosity"] == 0)

        def start(step: str, total: int) -> None:
            bar.set_description(f"Importing: {step}")
            bar.reset(total=total)

        def progress(done: int) -> None:
            bar.update(done - bar.n)

        try:
            summary = import_catalog(path, limit=limit, import_stock=stock, on_start=start, on_progress=progress)
        except (CatalogFormatError, CatalogImportError) as error:
            raise CommandError(str(error)) from error
        finally:
            bar.close()
        self._report(summary)

    def _report(self, summary: ImportSummary) -> None:
        for problem in summary.problems:
            style = self.style.ERROR if problem.kind == "rejected" else self.style.WARNING
            self.stdout.write(style(str(problem)))
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {summary.imported} products in {summary.seconds:.1f}s: "
                f"{summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged, "
                f"{summary.count('recovered')} recovered, {summary.count('rejected')} rejected, "
                f"{summary.count('no image') + summary.count('unreadable image')} without image "
                f"({summary.images_written} image files written)."
            )
        )
        if summary.details or summary.count("no details") or summary.count("bad details"):
            self.stdout.write(
                f"Details from styles/<id>.json: {summary.details} read, "
                f"{summary.count('no details')} missing, {summary.count('bad details')} unreadable; "
                f"{summary.brands_created} brands created, {summary.sizes_created} sizes created and "
                f"{summary.sizes_updated} updated, {summary.colour_links} links to other colours "
                f"({summary.colour_links_dropped} to products not in the catalogue left out)."
            )
