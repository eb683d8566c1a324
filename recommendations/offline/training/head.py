"""The trained part of a catalogue-tuned model: a small network on the trunk's pooled features and on a
thumbnail of the input, whose output neighbours share the catalogue's labels."""

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# Bump when the file's layout changes. Format 2 files (a head on a frozen trunk) are format 3 without trunk weights.
FILE_FORMAT = 3
READABLE_FORMATS = (2, 3)
# Side of the pixel summary the colour features are read from: coarse enough to be cheap, fine enough for a stripe.
THUMBNAIL_SIDE = 24
# A pixel whose darkest channel is above WHITE_LEVEL is studio background; below it by WHITE_MARGIN, item.
WHITE_LEVEL = 0.94
WHITE_MARGIN = 0.06
_LEVELS = torch.linspace(0.125, 0.875, 4)
PALETTE = torch.cartesian_prod(_LEVELS, _LEVELS, _LEVELS)  # (64, 3) RGB bin centres
BIN_WIDTH = 0.125
COLOUR_DIM = 2 * len(PALETTE) + 4


def thumbnails(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 RGB pixels ``(N, size, size, 3)`` -> mean colours ``(N, 3, side, side)`` in [0, 1]."""
    images = pixels.permute(0, 3, 1, 2).float() / 255
    return F.avg_pool2d(images, kernel_size=images.shape[-1] // THUMBNAIL_SIDE)


@dataclass(frozen=True)
class HeadConfig:
    trunk_dim: int = 1280
    hidden: int = 1024
    # The embedding is two unit vectors side by side: a semantic part whose neighbours share labels, and an
    # instance part that tells apart items of the same kind, so that a photo still finds its own product.
    dim: int = 256
    instance_dim: int = 128
    # The instance part's length: how much it counts in a cosine against the semantic part (1).
    instance_scale: float = 0.2
    # The head also sees the picture's layout, mean colours on a grid this many cells a side (0: not at all):
    # where the colours lie, which the trunk's pooled features and the histograms both lose.
    layout_side: int = 8

    @property
    def output_dim(self) -> int:
        return self.dim + self.instance_dim

    def as_dict(self) -> dict[str, int | float]:
        return asdict(self)


def colour_features(thumbnail: torch.Tensor) -> torch.Tensor:
    """Thumbnails ``(N, 3, side, side)`` -> ``(N, COLOUR_DIM)``: what colours the item is made of.

    Soft histograms over a 4x4x4 RGB palette, of the item's pixels (those not near the studio's white)
    and of every pixel (a white item has almost none of the first), with the item's mean colour and the
    share of the picture it covers. ImageNet features keep little of an item's colour.
    """
    pixels = thumbnail.flatten(2).transpose(1, 2)  # (N, P, 3)
    item = ((WHITE_LEVEL - pixels.amin(dim=2)) / WHITE_MARGIN).clamp(0, 1)  # (N, P)
    distances = ((pixels.unsqueeze(2) - PALETTE.to(pixels.device)) ** 2).sum(-1)  # (N, P, bins)
    membership = torch.softmax(-distances / (2 * BIN_WIDTH**2), dim=2)
    covered = item.sum(1, keepdim=True)
    item_histogram = (membership * item.unsqueeze(2)).sum(1) / (covered + 1e-3)
    histogram = membership.mean(1)
    mean_colour = (pixels * item.unsqueeze(2)).sum(1) / (covered + 1e-3)
    # Square roots: histograms compared by the Hellinger distance, which a linear layer handles well.
    return torch.cat([item_histogram.sqrt(), histogram.sqrt(), mean_colour, covered / pixels.shape[1]], dim=1)


def layout_features(thumbnail: torch.Tensor, side: int) -> torch.Tensor:
    """Thumbnails ``(N, 3, size, size)`` -> ``(N, 3 * side * side)``: the mean colours on a coarse grid,
    centred and of unit length, so that only the pattern counts, not the exposure."""
    grid = F.adaptive_avg_pool2d(thumbnail, side).flatten(1)
    return F.normalize(grid - grid.mean(dim=1, keepdim=True), dim=1)


def picture_features(thumbnail: torch.Tensor, config: HeadConfig) -> torch.Tensor:
    """What the head reads from the pixels besides the trunk's features: colours, and the layout if asked."""
    colour = colour_features(thumbnail)
    if not config.layout_side:
        return colour
    return torch.cat([colour, layout_features(thumbnail, config.layout_side)], dim=1)


class CatalogueHead(nn.Module):
    """(trunk features ``(N, trunk_dim)``, thumbnails ``(N, 3, side, side)``) -> embedding ``(N, output_dim)``."""

    def __init__(self, config: HeadConfig) -> None:
        super().__init__()
        self.config = config
        inputs = config.trunk_dim + COLOUR_DIM + 3 * config.layout_side**2
        self.project = nn.Sequential(
            nn.BatchNorm1d(inputs),
            nn.Linear(inputs, config.hidden),
            nn.BatchNorm1d(config.hidden),
            nn.ReLU(),
        )
        self.semantic = nn.Linear(config.hidden, config.dim)
        self.instance = nn.Linear(config.hidden, config.instance_dim)

    def forward(self, trunk: torch.Tensor, thumbnail: torch.Tensor) -> torch.Tensor:
        return self.embed(trunk, picture_features(thumbnail, self.config))

    def embed(self, trunk: torch.Tensor, picture: torch.Tensor) -> torch.Tensor:
        """``forward`` on ``picture_features`` computed beforehand (training computes them once)."""
        hidden = self.project(torch.cat([F.normalize(trunk, dim=1), picture], dim=1))
        semantic = F.normalize(self.semantic(hidden), dim=1)
        instance = F.normalize(self.instance(hidden), dim=1) * self.config.instance_scale
        return torch.cat([semantic, instance], dim=1)


class TunedExtractor(nn.Module):
    """uint8 RGB pixels ``(N, size, size, 3)`` -> the tuned embedding: the trunk, then the head.

    One module, so that it exports to ONNX like any backbone.
    """

    def __init__(self, trunk: nn.Module, head: CatalogueHead) -> None:
        super().__init__()
        self.trunk = trunk
        self.head = head

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(pixels), thumbnails(pixels))


@dataclass(frozen=True)
class SavedHead:
    """A trained head file: its weights, the trunk features it was trained on, and the weights of the trunk's
    last blocks when they were trained with it."""

    config: HeadConfig
    state_dict: dict[str, torch.Tensor]
    trunk_version: str  # the trunk's Backbone.version: its weights, preprocessing and input size
    input_size: int
    trunk_state_dict: dict[str, torch.Tensor] = field(default_factory=dict)  # under the trunk network's names

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.tmp")
        torch.save(
            {
                "format": FILE_FORMAT,
                "config": self.config.as_dict(),
                "trunk_version": self.trunk_version,
                "input_size": self.input_size,
                "state_dict": _halved(self.state_dict),
                "trunk_state_dict": _halved(self.trunk_state_dict),
            },
            temporary,
        )
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> "SavedHead":
        """Raises ``ValueError`` saying what is wrong when the file is not a head file this code can read."""
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises a different type for each way a file can be broken
            raise ValueError(f"{path} is not a readable PyTorch file ({error})") from error
        if not isinstance(saved, dict) or saved.get("format") not in READABLE_FORMATS:
            formats = " or ".join(map(str, READABLE_FORMATS))
            raise ValueError(f"{path} is not a head file of format {formats} written by train_embedding_model")
        return cls(
            config=HeadConfig(**saved["config"]),
            state_dict=saved["state_dict"],
            trunk_version=saved["trunk_version"],
            input_size=saved["input_size"],
            trunk_state_dict=saved.get("trunk_state_dict", {}),
        )

    def tune(self, network: nn.Module) -> None:
        """Put the trained weights of the trunk's last blocks into ``network``, the trunk it was trained on."""
        own = network.state_dict()
        unknown = sorted(set(self.trunk_state_dict) - set(own))
        if unknown:
            raise ValueError(f"the trunk has no parameters named {', '.join(unknown[:3])}")
        for name, tensor in self.trunk_state_dict.items():
            if tensor.shape != own[name].shape:
                raise ValueError(f"the trunk's {name} is {tuple(own[name].shape)}, the file's {tuple(tensor.shape)}")
        network.load_state_dict(
            {name: tensor.to(own[name].dtype) for name, tensor in self.trunk_state_dict.items()}, strict=False
        )

    def head(self) -> CatalogueHead:
        head = CatalogueHead(self.config)
        head.load_state_dict(
            {name: tensor.to(head.state_dict()[name].dtype) for name, tensor in self.state_dict.items()}
        )
        return head.eval()


def _halved(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weight matrices and kernels in half precision halve the file (it ships with the code); the rest stays exact."""
    return {
        name: tensor.half() if tensor.is_floating_point() and tensor.dim() > 1 else tensor
        for name, tensor in state_dict.items()
    }
