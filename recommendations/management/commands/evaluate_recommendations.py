from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recommendations.offline.evaluation.embedders import model_names
from recommendations.offline.evaluation.pipeline import EvaluationOptions, run_evaluation
from recommendations.offline.evaluation.report import summary_table, write_report


def _whole_number(value: str, option: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise CommandError(f"{option} takes whole numbers of at least 1, not {value!r}.")
    return int(value)


class Command(BaseCommand):
    help = (
        "Measure the image models: leave-one-out retrieval by attribute, the HNSW index against exact search, "
        "the metadata ranking, and search by photo with spoilt photos. Writes evaluation.md, evaluation.json "
        "and PNG charts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--models",
            default=",".join(model_names()),
            help=f"Comma-separated, from {', '.join(model_names())} (default: all).",
        )
        parser.add_argument(
            "--k", default="10", help="Cut-offs, comma-separated (default 10); the first one is summarised."
        )
        parser.add_argument("--queries", default="2000", help="Leave-one-out queries sampled, or 'all' (default 2000).")
        parser.add_argument(
            "--queries-from",
            choices=["held-out", "catalogue"],
            default="held-out",
            help="Sample the queries from the products the tuned models never trained on (default), or from the "
            "whole catalogue. With no tuned model evaluated, both mean the whole catalogue.",
        )
        parser.add_argument(
            "--serving-queries",
            type=int,
            default=300,
            help="How many of them also run the site's search path: index recall, latency, metadata ranking.",
        )
        parser.add_argument(
            "--photos",
            action="append",
            type=Path,
            help="A folder of photos named <product id>.jpg; repeatable (default: the full-size Kaggle photos).",
        )
        parser.add_argument("--out", type=Path, default=Path("reports"), help="The report's folder (default reports/).")
        parser.add_argument(
            "--cache-dir",
            type=Path,
            default=Path(settings.BASE_DIR) / "var" / "evaluation",
            help="Where vectors computed for models without a complete embedding space are kept.",
        )
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options) -> None:
        models = [name.strip() for name in options["models"].split(",") if name.strip()]
        if unknown := sorted(set(models) - set(model_names())):
            raise CommandError(f"Unknown models: {', '.join(unknown)}; choose from {', '.join(model_names())}.")
        queries = None if options["queries"] == "all" else _whole_number(options["queries"], "--queries")
        if options["serving_queries"] < 0:
            raise CommandError("--serving-queries cannot be negative.")
        default_photos = Path(settings.CATALOG_DATASET_DIR).parent / "fashion-product-images-hires"
        photo_folders = options["photos"] or [default_photos]
        if missing := [str(folder) for folder in photo_folders if not folder.is_dir()]:
            raise CommandError(f"No such photo folder: {', '.join(missing)}.")
        evaluation = EvaluationOptions(
            models=models,
            ks=[_whole_number(k, "--k") for k in options["k"].split(",")],
            queries=queries,
            serving_queries=options["serving_queries"],
            held_out_queries=options["queries_from"] == "held-out",
            photo_folders=photo_folders,
            cache_dir=options["cache_dir"],
            seed=options["seed"],
            progress=options["verbosity"] > 0,
        )
        try:
            results = run_evaluation(evaluation)
        except ValueError as error:
            raise CommandError(f"{error} Use --queries-from catalogue, or train the tuned model here.") from error
        write_report(results, options["out"])
        self.stdout.write("\n".join(summary_table(results["models"], evaluation.ks[0])))
        for name, model in results["models"].items():
            if model["status"] != "ok":
                self.stdout.write(f"{name}: unavailable: {model['reason']}")
        self.stdout.write(self.style.SUCCESS(f"Report written to {options['out'] / 'evaluation.md'}."))
