"""The trunk cut in two for training: a frozen front whose output is computed once and cached, and a tail
of its last blocks trained with the head. Serving runs the whole trunk with the tail's trained weights put back.

Only EfficientNet trunks (stem, ``_blocks``, ``_conv_head``) can be cut.
"""

import copy
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from recommendations.offline.backbones import Backbone, FeatureExtractor


class TrunkCutError(ValueError):
    """The trunk cannot be cut where asked: it is not an EfficientNet, or has fewer blocks."""


class Front(nn.Module):
    """uint8 pixels ``(N, size, size, 3)`` -> the activations entering the tail ``(N, C, H, W)``."""

    def __init__(self, extractor: FeatureExtractor, cut: int) -> None:
        super().__init__()
        self.extractor = extractor
        self.cut = cut

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        network = self.extractor.network
        x = network._swish(network._bn0(network._conv_stem(self.extractor.normalised(pixels))))
        for block in network._blocks[: self.cut]:
            x = block(x)
        return x


class Tail(nn.Module):
    """The front's activations -> the trunk's pooled features ``(N, dim)``, exactly as the whole trunk computes
    them. ``network_state_dict`` gives its weights the names the trunk network has for them."""

    def __init__(self, network: nn.Module, cut: int) -> None:
        super().__init__()
        self.cut = cut
        self.blocks = nn.ModuleList(network._blocks[cut:])
        self.conv_head = network._conv_head
        self.bn = network._bn1
        self.activation = network._swish

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.activation(self.bn(self.conv_head(x))).mean(dim=(2, 3))

    def network_state_dict(self) -> dict[str, torch.Tensor]:
        """The tail's weights under the names the trunk network gives them."""
        renamed = {"conv_head.": "_conv_head.", "bn.": "_bn1."}
        state = {}
        for name, tensor in self.state_dict().items():
            if name.startswith("blocks."):
                _, index, rest = name.split(".", 2)
                state[f"_blocks.{self.cut + int(index)}.{rest}"] = tensor
            else:
                prefix = next(prefix for prefix in renamed if name.startswith(prefix))
                state[renamed[prefix] + name.removeprefix(prefix)] = tensor
        return state


@dataclass(frozen=True)
class CutTrunk:
    front: Backbone  # a Backbone, so that runtimes export and cache it like any model
    tail: Tail


def cut_trunk(trunk: Backbone, tail_blocks: int) -> CutTrunk:
    """Cut ``trunk`` (a loaded EfficientNet backbone) before its last ``tail_blocks`` blocks; the tail is a copy,
    so training it leaves ``trunk`` as it was. Raises ``TrunkCutError`` when it cannot be cut there."""
    extractor = trunk.module
    network = getattr(extractor, "network", None)
    if not isinstance(extractor, FeatureExtractor) or not hasattr(network, "_blocks"):
        raise TrunkCutError(f"{trunk.name} cannot be cut into a front and a tail: only EfficientNet trunks can.")
    blocks = len(network._blocks)
    if not 1 <= tail_blocks <= blocks:
        raise TrunkCutError(f"The tail must hold 1 to {blocks} of {trunk.name}'s blocks, not {tail_blocks}.")
    cut = blocks - tail_blocks
    front = replace(trunk, version=f"{trunk.version}-front{cut}", dim=0, module=Front(extractor, cut).eval())
    return CutTrunk(front=front, tail=copy.deepcopy(Tail(network, cut)).eval())


def pooled(tail: Tail, maps: np.ndarray, *, chunk: int = 1024) -> np.ndarray:
    """The tail's pooled features ``(N, dim)`` float32 of cached activations ``(N, C, H, W)``, on the tail's device."""
    device = next(tail.parameters()).device
    with torch.inference_mode():
        return np.concatenate(
            [
                tail(torch.from_numpy(maps[start : start + chunk]).to(device).float()).cpu().numpy()
                for start in range(0, len(maps), chunk)
            ]
        )
