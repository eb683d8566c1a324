"""An exported model run by ONNX Runtime: uint8 pixels ``(N, size, size, 3)`` in, float32 features out."""

import os
from pathlib import Path

import numpy as np
import onnxruntime


def cpu_threads() -> int:
    """The cores this process may run on (fewer than ``os.cpu_count()`` in a container or under taskset)."""
    return len(os.sched_getaffinity(0))


class OnnxModel:
    name = "onnx"

    def __init__(self, path: Path, *, threads: int | None = None) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or cpu_threads()
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: pixels})[0]
