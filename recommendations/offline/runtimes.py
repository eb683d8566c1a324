"""PyTorch runtimes for a loaded backbone: the reference the exported models are checked and benchmarked against."""

import copy

import numpy as np
import torch

from recommendations.embedding.encoder import ImageEncoder
from recommendations.embedding.onnx_model import cpu_threads

from .backbones import Backbone


class TorchRuntime:
    """PyTorch eager. ``channels_last`` is faster on CPU. ``bf16`` autocasts convolutions and matmuls: fast only
    on CPUs with native bf16 (AVX512_BF16, AMX), several times slower than fp32 on AVX2 CPUs
    (benchmarks/embedding_throughput.py measures both).
    """

    def __init__(
        self, backbone: Backbone, *, channels_last: bool = True, bf16: bool = False, threads: int | None = None
    ) -> None:
        torch.set_num_threads(threads or cpu_threads())
        # A copy: converting to channels_last is in place, and the backbone may serve other runtimes.
        self.module = copy.deepcopy(backbone.module)
        if channels_last:
            self.module.to(memory_format=torch.channels_last)
        self.bf16 = bf16
        self.name = "torch-bf16" if bf16 else "torch" if channels_last else "torch-eager"

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            return self.module(torch.from_numpy(pixels)).float().numpy()


def torch_encoder(backbone: Backbone, **options: bool | int | None) -> ImageEncoder:
    """An encoder that runs ``backbone`` in PyTorch (``TorchRuntime`` options)."""
    return ImageEncoder(
        version=backbone.version,
        dim=backbone.dim,
        preprocessor=backbone.preprocessor,
        runtime=TorchRuntime(backbone, **options),
    )
