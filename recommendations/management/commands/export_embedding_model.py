from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recommendations.offline.backbones import BACKBONES, DEFAULT_INPUT_SIZE, WeightsError, load_backbone
from recommendations.offline.export import export_model


class Command(BaseCommand):
    help = (
        "Export an image model to ONNX with its manifest, the files the storefront and its workers serve it from "
        "(needs requirements-ml.txt)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", choices=sorted(BACKBONES))
        parser.add_argument(
            "--input-size",
            type=int,
            default=DEFAULT_INPUT_SIZE,
            help=f"A multiple of 32, 0 for the model's own (default {DEFAULT_INPUT_SIZE}; a tuned model keeps the "
            "size it was trained at).",
        )
        parser.add_argument(
            "--out", type=Path, default=settings.EMBEDDING_MODELS_DIR, help="Default: EMBEDDING_MODELS_DIR."
        )

    def handle(self, *args, model: str, input_size: int, out: Path, **options) -> None:
        try:
            backbone = load_backbone(model, weights_dir=settings.EMBEDDING_WEIGHTS_DIR, input_size=input_size or None)
        except (WeightsError, ValueError) as error:
            raise CommandError(str(error)) from error
        manifest = export_model(backbone, out)
        self.stdout.write(self.style.SUCCESS(f"Exported {backbone.version} ({backbone.dim} dimensions) to {manifest}."))
        if model != settings.EMBEDDING_MODEL:
            self.stdout.write(f"Build its space with `python manage.py rebuild_embeddings --model {model}`.")
