"""Speed benchmarks of manga-colorize: one subcommand per stage, a table or JSON lines out.

    python tools/benchmark.py build [--images DIR] [--count N] [--workers 1 2 ...] [--json]

Each subcommand is one `bench_*` function returning measurements (dicts); `emit` prints them as a
table, or with --json as one JSON object per line. Times are medians over --repeat runs after a
warm-up. Peak RSS is the high-water mark so far of the benchmark process (the builder's parent),
worker processes not included.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from typing import Callable

import cv2
import numpy as np

from colorize import build, sketch

COLUMNS = ("benchmark", "name", "workers", "images", "images_per_s", "per_worker",
           "vs_recipe", "parent_cpu_ms", "peak_rss_mb")


# --- shared helpers ---------------------------------------------------------------------------


def timed(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    """Median wall time and CPU time of this process of `fn` over `repeat` runs, after a warm-up.

    CPU time shows the cost per image even on a busy machine, where wall time also measures the
    neighbours. With worker processes it is the parent's serial share, which bounds the scaling.
    (Workers are children of the forkserver, so their CPU time is out of reach of getrusage.)
    """
    fn()
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    wall, cpu = (statistics.median(column) for column in zip(*runs))
    return {"seconds": wall, "cpu": cpu}


def measurement(benchmark: str, name: str, *, images: int, timing: dict[str, float],
                workers: int, **extra) -> dict:
    """One result row: images/s in total and per worker, parent CPU ms per image, peak RSS."""
    rate = images / timing["seconds"]
    return {"benchmark": benchmark, "name": name, "workers": workers, "images": images,
            "images_per_s": round(rate, 1), "per_worker": round(rate / workers, 1),
            "parent_cpu_ms": round(1e3 * timing["cpu"] / images, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            **extra}


def emit(rows: list[dict], as_json: bool):
    """Print the rows as JSON lines or as an aligned table of COLUMNS (plus any extra keys)."""
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    columns = [c for c in COLUMNS if any(c in r for r in rows)]
    columns += sorted({k for r in rows for k in r} - set(columns))
    cells = [columns] + [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))


# --- build ------------------------------------------------------------------------------------


def synthetic_images(folder: str, count: int, size: int = 256, seed: int = 0):
    """`count` JPEGs of outlined color ellipses on a tinted background."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        img = np.empty((size, size, 3), np.uint8)
        img[:] = rng.integers(120, 256, 3)
        for _ in range(10):
            center = tuple(int(v) for v in rng.integers(0, size, 2))
            axes = tuple(int(v) for v in rng.integers(8, size // 3, 2))
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(img, center, axes, angle, 0, 360, rng.integers(0, 256, 3).tolist(), -1)
            cv2.ellipse(img, center, axes, angle, 0, 360, (25, 25, 25), int(rng.integers(1, 4)))
        cv2.imwrite(os.path.join(folder, f"{i:05d}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 90])


def recipe(path: str, params: build.BuildParams) -> list[bytes]:
    """The straightforward per-image recipe: imread, the same steps, exact blur, three PNGs."""
    bgr = sketch.resize_and_crop(cv2.imread(path), params.size, params.crop)
    lines = cv2.adaptiveThreshold(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), 255,
                                  cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY,
                                  params.block_size, params.threshold_c)
    sketch.complexity(lines)
    cue = cv2.GaussianBlur(bgr, (0, 0), params.cue_sigma, borderType=cv2.BORDER_REFLECT)
    return [cv2.imencode(".png", image)[1].tobytes() for image in (bgr, lines, cue)]


def _input_folder(args: argparse.Namespace, tmp: str) -> str:
    """A folder of exactly --count images (links), from --images, the real faces or synthetic."""
    real = os.path.join(os.environ.get("COLORIZE_REAL_DATA", ""), "faces")
    source = args.images or (real if os.path.isdir(real) else None)
    folder = os.path.join(tmp, "images")
    os.makedirs(folder)
    if source is None:
        synthetic_images(folder, args.count)
        return folder
    for path, rel in build.find_images([source])[: args.count]:
        os.symlink(os.path.abspath(path), os.path.join(folder, rel.replace(os.sep, "_")))
    return folder


def bench_build(args: argparse.Namespace) -> list[dict]:
    """Images/s of the straightforward recipe (one core) and of `build_dataset` per worker count."""
    cv2.setNumThreads(1)  # one core per process, for the recipe and the in-process 1-worker build
    params = build.BuildParams()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = _input_folder(args, tmp)
        paths = [p for p, _ in build.find_images([folder])]
        timing = timed(lambda: [recipe(p, params) for p in paths], args.repeat)
        base = measurement("build", "recipe", images=len(paths), timing=timing, workers=1,
                           image_size=params.size)
        rows.append(base)
        for workers in args.workers:
            out = os.path.join(tmp, f"out{workers}")
            timing = timed(lambda: build.build_dataset([folder], out, params, workers=workers,
                                                       overwrite=True, progress=False), args.repeat)
            row = measurement("build", "builder", images=len(paths), timing=timing,
                              workers=workers, image_size=params.size)
            row["vs_recipe"] = round(row["per_worker"] / base["images_per_s"], 2)
            rows.append(row)
    return rows


def add_build_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--images", help="input folder (default: $COLORIZE_REAL_DATA/faces when "
                                         "it exists, else synthetic 256x256 JPEGs)")
    parser.add_argument("--count", type=int, default=400, help="images per run")
    parser.add_argument("--workers", type=int, nargs="+",
                        default=sorted({1, build.usable_cores()}),
                        help="worker counts to measure the builder with")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement")


# --- command line -----------------------------------------------------------------------------

# name -> (function returning measurements, argument setup, one-line help)
BENCHMARKS = {
    "build": (bench_build, add_build_arguments, "dataset builder vs the straightforward recipe"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="benchmark", required=True)
    for name, (_, add_arguments, help_text) in BENCHMARKS.items():
        child = sub.add_parser(name, help=help_text)
        add_arguments(child)
        child.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(argv)
    emit(BENCHMARKS[args.benchmark][0](args), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
