"""Image embedding throughput, end to end (decode + preprocess + model), per backbone and runtime.

    .venv/bin/python benchmarks/embedding_throughput.py [--models resnet50] [--runtimes onnx,torch]
        [--batch-sizes 1,32] [--seconds 5] [--input-size 192]

Each row is img/s on the small catalogue images (60x80) and on the full-size photos, against
plain fp32 PyTorch eager (NCHW) measured in the same run, with the per-image cosine similarity
of the runtime's embeddings to that reference (on the same 32 small + 8 full-size images).

ResNet weights cannot be downloaded offline: models whose weights are missing run with random
weights, labelled "random" (speed does not depend on weight values; the product never does this).
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import numpy as np
import torch
from django.conf import settings
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.machine import describe_machine
from recommendations.embedding.encoder import ImageEncoder
from recommendations.embedding.onnx_model import cpu_threads
from recommendations.offline.backbones import BACKBONES, Backbone, WeightsError, load_backbone, untrained_backbone
from recommendations.offline.export import onnx_model
from recommendations.offline.runtimes import TorchRuntime, torch_encoder

REFERENCE = "torch-eager"


def make_encoder(name: str, backbone: Backbone, cache_dir: Path) -> ImageEncoder:
    if name == REFERENCE:
        return torch_encoder(backbone, channels_last=False)
    if name == "onnx":
        # What serving runs: the exported model in ONNX Runtime.
        runtime = onnx_model(backbone, cache_dir)
        return ImageEncoder(
            version=backbone.version, dim=backbone.dim, preprocessor=backbone.preprocessor, runtime=runtime
        )
    return ImageEncoder(
        version=backbone.version,
        dim=backbone.dim,
        preprocessor=backbone.preprocessor,
        runtime=TorchRuntime(backbone, bf16=name == "torch-bf16"),
    )


def images_per_second(encoder: ImageEncoder, paths: list[Path], batch_size: int, seconds: float) -> float:
    """Time one encode() call over as many images as fit in about ``seconds`` (after a warm-up batch)."""
    started = time.perf_counter()
    encoder.encode(paths[:batch_size], batch_size)
    estimate = batch_size / (time.perf_counter() - started)
    count = int(min(len(paths), max(batch_size, estimate * seconds // batch_size * batch_size)))
    started = time.perf_counter()
    result = encoder.encode(paths[:count], batch_size)
    elapsed = time.perf_counter() - started
    if result.errors:
        raise SystemExit(f"Unexpected decoding errors: {result.errors}")
    return count / elapsed


def decode_per_second(encoder: ImageEncoder, paths: list[Path]) -> float:
    started = time.perf_counter()
    for path in paths:
        encoder.preprocessor(path)
    return len(paths) / (time.perf_counter() - started)


def gflops_per_image(backbone: Backbone) -> float:
    """Counted by PyTorch (2 FLOPs per multiply-add) on one image."""
    size = backbone.preprocessor.size
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        backbone.module(torch.zeros((1, size, size, 3), dtype=torch.uint8))
    return counter.get_total_flops() / 1e9


def sgemm_gflops(size: int = 4096, repeat: int = 3) -> float:
    """A practical FLOP ceiling for this CPU: numpy's (OpenBLAS) fp32 matrix multiply on all cores.

    On the AMD machines measured, OpenBLAS beat PyTorch's MKL, so it is the better estimate of the peak.
    """
    a, b = np.ones((size, size), dtype=np.float32), np.ones((size, size), dtype=np.float32)
    a @ b
    started = time.perf_counter()
    for _ in range(repeat):
        a @ b
    return 2 * size**3 * repeat / (time.perf_counter() - started) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(BACKBONES))
    parser.add_argument("--runtimes", default="torch,torch-bf16,onnx", help=f"besides {REFERENCE}, always run")
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--small-images", type=int, default=2000, help="upper bound; --seconds decides")
    parser.add_argument("--seconds", type=float, default=4.0, help="timed run length per row and data set")
    parser.add_argument("--input-size", type=int, default=None, help="instead of each model's native size")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/embedding-benchmark-onnx"))
    parser.add_argument(
        "--catalogue",
        type=Path,
        default=Path(settings.CATALOG_DATASET_DIR),
        help="holds images/ (default CATALOG_DATASET_DIR)",
    )
    parser.add_argument(
        "--photos", type=Path, help="full-size photos (default: fashion-product-images-hires beside the catalogue)"
    )
    args = parser.parse_args()

    photos = args.photos or args.catalogue.parent / "fashion-product-images-hires"
    small = sorted((args.catalogue / "images").glob("*.jpg"))[: args.small_images]
    hires = sorted(photos.glob("*.jpg"))
    if not small or not hires:
        raise SystemExit(f"No catalogue images in {args.catalogue / 'images'} or no photos in {photos}.")
    agreement_paths = small[:32] + hires[:8]
    batch_sizes = [int(size) for size in args.batch_sizes.split(",")]
    runtimes = [REFERENCE, *(name for name in args.runtimes.split(",") if name != REFERENCE)]
    torch.set_num_threads(cpu_threads())

    print(f"Image embedding throughput, img/s end to end (decode + preprocess + model), {cpu_threads()} threads")
    print(f"Machine: {describe_machine()}; PyTorch CPU kernels: {torch.backends.cpu.get_cpu_capability()}")
    print(f"Load average before: {os.getloadavg()[0]:.2f}")
    ceiling = sgemm_gflops()
    print(f"fp32 SGEMM ceiling measured now: {ceiling:.0f} GFLOP/s")
    width = max(len(model) for model in args.models.split(",")) + 2
    header = (
        f"{'model':<{width}}{'weights':<9}{'runtime':<12}{'batch':>6}{'small':>8}{'x eager':>8}"
        f"{'full-size':>10}{'x eager':>8}{'cos min':>9}{'cos mean':>9}{'%SGEMM':>8}"
    )
    print(header)
    for model in args.models.split(","):
        try:
            backbone = load_backbone(model, download=False, input_size=args.input_size)
            weights = "real"
        except WeightsError:
            backbone = untrained_backbone(model, input_size=args.input_size)
            weights = "random"
        gflops = gflops_per_image(backbone)
        reference_vectors = None
        eager: dict[int, tuple[float, float]] = {}
        for runtime_name in runtimes:
            encoder = make_encoder(runtime_name, backbone, args.cache_dir)
            vectors = encoder.encode(agreement_paths, 32).vectors
            if reference_vectors is None:
                reference_vectors = vectors
            cosines = np.sum(vectors * reference_vectors, axis=1)
            for batch_size in batch_sizes:
                speeds = (
                    images_per_second(encoder, small, batch_size, args.seconds),
                    images_per_second(encoder, hires, batch_size, args.seconds),
                )
                eager.setdefault(batch_size, speeds)
                ratios = [speed / base for speed, base in zip(speeds, eager[batch_size], strict=True)]
                print(
                    f"{model:<{width}}{weights:<9}{runtime_name:<12}{batch_size:>6}{speeds[0]:>8.1f}{ratios[0]:>8.2f}"
                    f"{speeds[1]:>10.1f}{ratios[1]:>8.2f}{cosines.min():>9.5f}{cosines.mean():>9.5f}"
                    f"{100 * speeds[0] * gflops / ceiling:>7.0f}%",
                    flush=True,
                )
        decode = decode_per_second(encoder, small[:500]), decode_per_second(encoder, hires)
        print(
            f"{model:<{width}}{'':<9}{'decode only':<12}{1:>6}{decode[0]:>8.1f}{'':>8}{decode[1]:>10.1f}"
            f"{'':>34}  ({gflops:.2f} GFLOP/image at {backbone.preprocessor.size}px)"
        )
    print(f"Load average after: {os.getloadavg()[0]:.2f}. 'decode only' is one thread, without the model.")


if __name__ == "__main__":
    main()
