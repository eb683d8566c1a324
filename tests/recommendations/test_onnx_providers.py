"""ONNX Runtime's provider choice: CUDA first where the installed build offers it, the CPU always."""

from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from recommendations.embedding.onnx_model import OnnxModel, execution_providers

SHIPPED = Path(__file__).resolve().parents[2] / "recommendations" / "weights" / "efficientnet_lite0_catalogue.onnx"


def test_cuda_comes_first_when_offered() -> None:
    offered = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert execution_providers(offered) == ["CUDAExecutionProvider", "CPUExecutionProvider"]


@pytest.mark.parametrize("offered", [["CPUExecutionProvider"], ["AzureExecutionProvider", "CPUExecutionProvider"], []])
def test_without_cuda_the_cpu_alone(offered: list[str]) -> None:
    assert execution_providers(offered) == ["CPUExecutionProvider"]


def test_the_default_reads_what_this_onnx_runtime_offers() -> None:
    offered = onnxruntime.get_available_providers()
    expected = ["CUDAExecutionProvider"] if "CUDAExecutionProvider" in offered else []
    assert execution_providers() == [*expected, "CPUExecutionProvider"]


def test_a_session_runs_on_the_chosen_providers() -> None:
    model = OnnxModel(SHIPPED, threads=1)

    # onnxruntime-gpu on a machine without a usable GPU falls back to the CPU; the CPU build offers nothing else.
    assert model.providers[-1] == "CPUExecutionProvider"
    assert set(model.providers) <= set(execution_providers())
    size = model.session.get_inputs()[0].shape[1]
    features = model(np.zeros((2, size, size, 3), dtype=np.uint8))
    assert features.shape[0] == 2 and np.isfinite(features).all()


def test_an_explicit_list_overrides_the_choice() -> None:
    assert OnnxModel(SHIPPED, threads=1, providers=["CPUExecutionProvider"]).providers == ["CPUExecutionProvider"]
