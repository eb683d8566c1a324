"""An exported model run by ONNX Runtime: uint8 pixels ``(N, size, size, 3)`` in, float32 features out."""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime

# Tried before the CPU when offered: onnxruntime-gpu, installed instead of onnxruntime, offers CUDA.
GPU_PROVIDERS = ("CUDAExecutionProvider",)


def cpu_threads() -> int:
    """The cores this process may run on (fewer than ``os.cpu_count()`` in a container or under taskset)."""
    return len(os.sched_getaffinity(0))


def execution_providers(available: Sequence[str] | None = None) -> list[str]:
    """The providers to run on: CUDA first when this ONNX Runtime offers it, and always the CPU.

    ``available`` defaults to ``onnxruntime.get_available_providers()``. The CPU stays in the list as a fallback for
    operators the GPU provider lacks, and for a CUDA provider whose libraries fail to load.
    """
    offered = onnxruntime.get_available_providers() if available is None else available
    return [*(provider for provider in GPU_PROVIDERS if provider in offered), "CPUExecutionProvider"]


class OnnxModel:
    name = "onnx"

    def __init__(self, path: Path, *, threads: int | None = None, providers: Sequence[str] | None = None) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or cpu_threads()
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=list(providers) if providers is not None else execution_providers()
        )
        self.input_name = self.session.get_inputs()[0].name

    @property
    def providers(self) -> list[str]:
        """The providers the session really runs on, best first."""
        return self.session.get_providers()

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: pixels})[0]
