import time
from pathlib import Path

import torch
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recommendations.offline.backbones import BACKBONES, DEFAULT_INPUT_SIZE, TunedSpec, WeightsError, load_backbone
from recommendations.offline.catalogue import load_catalogue
from recommendations.offline.export import export_model
from recommendations.offline.training.pipeline import Figures, TrainingReport, TrainingSetup, train_embedding_model
from recommendations.offline.training.train import TrainingOptions
from recommendations.offline.training.trunk import TrunkCutError
from recommendations.vectors.encoders import SHIPPED_MODELS_DIR

TUNED_MODELS = sorted(name for name, spec in BACKBONES.items() if isinstance(spec, TunedSpec))
# The full-size photos kept for evaluating search by photo: their products are always held out.
DEFAULT_PHOTOS = Path(settings.CATALOG_DATASET_DIR).parent / "fashion-product-images-hires"
DEFAULT_FEATURE_CACHE = Path(settings.BASE_DIR) / "var" / "training" / "features"
TRUNK_EXPORTS = Path(settings.BASE_DIR) / "var" / "training" / "onnx"


class Command(BaseCommand):
    help = (
        "Train a catalogue-tuned embedding model (a head on a backbone's features, with the backbone's last "
        "block) on the catalogue's labels, with a held-out split by product and by duplicate picture, and report "
        "held-out figures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", choices=TUNED_MODELS, default=TUNED_MODELS[0])
        parser.add_argument("--epochs", type=int, default=TrainingOptions.epochs)
        parser.add_argument("--seed", type=int, default=TrainingOptions.seed, help="Seeds the split and training.")
        parser.add_argument(
            "--views", type=int, default=2, help="Photo-like views per training product (each a pass of the trunk)."
        )
        parser.add_argument(
            "--tune-blocks",
            type=int,
            default=TrainingSetup.tuned_blocks,
            help="The trunk's last blocks trained with the head (0: the trunk stays frozen; each block costs time).",
        )
        parser.add_argument("--held-out", type=float, default=0.2, help="Share of duplicate groups held out.")
        parser.add_argument(
            "--out", type=Path, default=settings.EMBEDDING_WEIGHTS_DIR, help="Default: EMBEDDING_WEIGHTS_DIR."
        )
        parser.add_argument("--cache", type=Path, default=DEFAULT_FEATURE_CACHE, help="Cached trunk features.")
        parser.add_argument(
            "--photos", type=Path, default=DEFAULT_PHOTOS, help="Full-size photos <product id>.jpg for photo recall."
        )
        parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")

    def handle(self, *args, **options) -> None:
        if options["epochs"] < 1 or options["views"] < 0 or not 0 < options["held_out"] < 1:
            raise CommandError("--epochs must be at least 1, --views at least 0, --held-out between 0 and 1.")
        if options["tune_blocks"] < 0:
            raise CommandError("--tune-blocks must be 0 (a frozen trunk) or more.")
        device = options["device"]
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        elif device == "cuda" and not torch.cuda.is_available():
            raise CommandError("--device cuda: no CUDA device is available here; use --device cpu or auto.")
        setup = TrainingSetup(
            model=options["model"],
            out_dir=options["out"],
            feature_dir=options["cache"],
            onnx_dir=TRUNK_EXPORTS,
            weights_dir=settings.EMBEDDING_WEIGHTS_DIR,
            input_size=DEFAULT_INPUT_SIZE,
            photo_dir=options["photos"],
            views=options["views"],
            tuned_blocks=options["tune_blocks"],
            held_out_fraction=options["held_out"],
            duplicate_distance=settings.SIMILAR_ITEMS_DUPLICATE_DISTANCE,
            options=TrainingOptions(epochs=options["epochs"], seed=options["seed"], device=device),
        )
        started = time.monotonic()
        catalogue = load_catalogue()
        if len(catalogue) < 100:
            raise CommandError(f"{len(catalogue)} products with an image: too few to train on. Import the catalogue.")
        self.stdout.write(f"Training {setup.model} on {len(catalogue)} products ({device}).")
        progress = options["verbosity"] > 0
        try:
            report = train_embedding_model(setup, catalogue, progress=progress, say=self.stdout.write)
        except (WeightsError, TrunkCutError) as error:
            raise CommandError(str(error)) from error
        manifest = export_model(load_backbone(setup.model, weights_dir=setup.out_dir), settings.EMBEDDING_MODELS_DIR)
        self._report(setup.model, report, manifest, time.monotonic() - started)

    def _report(self, model: str, report: TrainingReport, manifest: Path, seconds: float) -> None:
        split = report.split
        self.stdout.write(
            f"\nHeld-out figures ({len(split.held_out_ids)} products never trained on, split seed {split.seed}):"
        )
        self.stdout.write(
            "  P@10: held-out queries among held-out products (catalogue: among every product), "
            "each query's own duplicate group left out"
        )
        self.stdout.write(
            f"  photo search: {report.photo_source}, perturbed ({', '.join(report.tuned.recall_by_perturbation)})"
        )
        self.stdout.write(f"  {'':32}{'tuned':>10}{'trunk':>10}")
        for label, tuned, trunk in _rows(report.tuned, report.trunk):
            self.stdout.write(f"  {label:32}{tuned:>10.3f}{trunk:>10.3f}")
        timings = ", ".join(f"{name} {value / 60:.1f} min" for name, value in report.seconds.items())
        self.stdout.write(f"\nTook {seconds / 60:.1f} min ({timings}).")
        self.stdout.write(self.style.SUCCESS(f"Wrote {report.weights_file} and {report.split_file}."))
        self.stdout.write(f"Model version: {report.version}, exported for serving: {manifest}")
        self.stdout.write(
            f"Next: python manage.py rebuild_embeddings --model {model}, then EMBEDDING_MODEL={model} to serve it. "
            f"To ship it with the code: export_embedding_model {model} --out {SHIPPED_MODELS_DIR}, and copy "
            f"{report.weights_file.name} and {report.split_file.name} there."
        )


def _rows(tuned: Figures, trunk: Figures) -> list[tuple[str, float, float]]:
    rows = [(f"P@10 {name}", tuned.precision[name], trunk.precision[name]) for name in tuned.precision]
    rows += [
        (f"P@10 {name} catalogue", tuned.precision_catalogue[name], trunk.precision_catalogue[name])
        for name in tuned.precision
    ]
    rows += [(f"photo recall@{k} catalogue", tuned.recall[k], trunk.recall[k]) for k in tuned.recall]
    rows += [(f"photo recall@{k} held-out", tuned.recall_held_out[k], trunk.recall_held_out[k]) for k in tuned.recall]
    rows += [
        (f"  catalogue recall@1 {name}", value, trunk.recall_by_perturbation[name])
        for name, value in tuned.recall_by_perturbation.items()
    ]
    return rows
