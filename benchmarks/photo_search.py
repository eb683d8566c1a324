"""Search by photo with the full-size catalogue photos: recall and end-to-end time.

    .venv/bin/python benchmarks/photo_search.py [--photos DIR] [--details 0,48,60,80,100,128]

Each photo in DIR is named ``<product id>.jpg``. A search is right when its first card is that
product or a byte-identical copy of its image (the catalogue lists some images under several ids).

1. Recall@1 and @5 for each level of detail a photo is reduced to before it is embedded
   (``SEARCH_PHOTO_DETAIL``: the longer side in pixels; 0 keeps the decoded photo as it is).
2. Recall and time with the whole photo alone, with its parts (``SEARCH_PHOTO_PARTS``), and with its parts,
   zoomed-out and sharpened copies (``SEARCH_PHOTO_ZOOM_OUTS``, ``SEARCH_PHOTO_SHARPEN``), on the photos as
   taken and spoilt as the evaluation spoils them: close-up crops, out of focus, on a busy scene.
3. Median end-to-end time of one search with the configured settings: the multipart upload
   through Django's full stack to the rendered results page and to the API's JSON, against a
   baseline measured in the same run (the admin login page).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from rest_framework.throttling import ScopedRateThrottle  # noqa: E402

from benchmarks.machine import describe_machine  # noqa: E402
from recommendations.offline.perturbations import perturb  # noqa: E402
from recommendations.photo_search.photos import open_photo  # noqa: E402
from recommendations.photo_search.services import search_by_photo  # noqa: E402
from shop.models import Product  # noqa: E402

DEFAULT_PHOTOS = Path(settings.CATALOG_DATASET_DIR).parent / "fashion-product-images-hires"


def recall(photos: list[Path], shas: dict[int, str], spoil: str = "original") -> tuple[int, int, float]:
    """Hits at 1 and at 5, and the median time of a search (decoding, spoiling, embedding and query)."""
    at_1 = at_5 = 0
    timings = []
    for photo in photos:
        truth = shas[int(photo.stem)]
        started = time.perf_counter()
        with photo.open("rb") as handle:
            image = perturb(open_photo(handle), spoil, seed=0, photo_id=int(photo.stem))
            items = search_by_photo(image, k=5)
        timings.append((time.perf_counter() - started) * 1000)
        hits = [item.product.image_sha256 == truth for item in items]
        at_1 += bool(hits and hits[0])
        at_5 += any(hits)
    return at_1, at_5, statistics.median(timings)


def upload_ms(client: Client, url: str, photos: list[Path], expected: str) -> float:
    timings = []
    for photo in [photos[0], *photos]:  # the first request warms up
        with photo.open("rb") as handle:
            started = time.perf_counter()
            response = client.post(url, {"image": handle})
            timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200 or expected not in response.content.decode():
            raise SystemExit(f"{url} answered {response.status_code} for {photo.name}")
    return statistics.median(timings[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--details", default="0,48,60,80,100,128", help="SEARCH_PHOTO_DETAIL values to compare.")
    parser.add_argument("--end-to-end-only", action="store_true", help="Skip the recall sections (1 and 2).")
    args = parser.parse_args()

    photos = sorted(args.photos.glob("*.jpg"))
    shas = dict(Product.objects.filter(pk__in=[int(p.stem) for p in photos]).values_list("pk", "image_sha256"))
    missing = [p.name for p in photos if int(p.stem) not in shas]
    if missing:
        raise SystemExit(f"Not in the catalogue: {', '.join(missing[:10])}. Import the full catalogue first.")

    print(f"Search by photo: {len(photos)} full-size photos, {Product.objects.count():,} products")
    print(f"Machine: {describe_machine()}")
    if not args.end_to_end_only:
        recall_sections(photos, shas, args.details)
    end_to_end(photos)


def recall_sections(photos: list[Path], shas: dict[int, str], details: str) -> None:
    print(f"{'detail (px)':<14}{'recall@1':>10}{'recall@5':>10}{'median ms':>12}")
    for detail in [int(value) for value in details.split(",")]:
        with override_settings(SEARCH_PHOTO_DETAIL=detail):
            at_1, at_5, ms = recall(photos, shas)
        marker = "  <- configured" if detail == settings.SEARCH_PHOTO_DETAIL else ""
        print(f"{detail or 'full':<14}{at_1 / len(photos):>10.2f}{at_5 / len(photos):>10.2f}{ms:>12.1f}{marker}")

    print(f"\n{'searched':<28}{'spoilt':<22}{'recall@1':>10}{'recall@5':>10}{'median ms':>12}")
    variants = {
        "whole photo alone": {"SEARCH_PHOTO_PARTS": [], "SEARCH_PHOTO_ZOOM_OUTS": [], "SEARCH_PHOTO_SHARPEN": False},
        "+ parts": {"SEARCH_PHOTO_ZOOM_OUTS": [], "SEARCH_PHOTO_SHARPEN": False},
        "+ zoomed out, sharpened": {},
    }
    for name, overrides in variants.items():
        for spoil in ("original", "centre_crop", "offset_crop", "blur", "cluttered_background"):
            with override_settings(**overrides):
                at_1, at_5, ms = recall(photos, shas, spoil)
            print(f"{name:<28}{spoil:<22}{at_1 / len(photos):>10.2f}{at_5 / len(photos):>10.2f}{ms:>12.1f}")
    print(
        f"(configured: parts {settings.SEARCH_PHOTO_PARTS}, zoom-outs {settings.SEARCH_PHOTO_ZOOM_OUTS}, "
        f"sharpened {settings.SEARCH_PHOTO_SHARPEN})"
    )


def end_to_end(photos: list[Path]) -> None:
    # A hundred searches in a row would be throttled (API_PHOTO_SEARCH_RATE): this measures the search itself.
    ScopedRateThrottle.THROTTLE_RATES = {**ScopedRateThrottle.THROTTLE_RATES, "photo-search": None}
    client = Client()
    client.get("/admin/login/")
    baseline = statistics.median(_get_ms(client, "/admin/login/") for _ in range(len(photos)))
    page = upload_ms(client, reverse("recommendations:photo-search"), photos, "card--similar")
    api = upload_ms(client, "/api/search/photo/", photos, '"results"')
    print(f"\nEnd to end, median of {len(photos)} uploads (SEARCH_PHOTO_DETAIL={settings.SEARCH_PHOTO_DETAIL})")
    print(f"{'request':<32}{'ms':>8}{'x baseline':>12}")
    print(f"{'baseline (admin login)':<32}{baseline:>8.1f}{1:>12.1f}")
    print(f"{'POST /search/photo/ (page)':<32}{page:>8.1f}{page / baseline:>12.1f}")
    print(f"{'POST /api/search/photo/ (JSON)':<32}{api:>8.1f}{api / baseline:>12.1f}")


def _get_ms(client: Client, url: str) -> float:
    started = time.perf_counter()
    client.get(url)
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
