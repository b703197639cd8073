"""Speed benchmarks of manga-colorize: one subcommand per stage, a table or JSON lines out.

    python tools/benchmark.py train    [--precisions float32 mixed_bfloat16] [--kernels fused keras]
    python tools/benchmark.py kernels  [--dtypes bfloat16 float32]
    python tools/benchmark.py infer    [--precision auto]
    python tools/benchmark.py pipeline [--records DIR]
    python tools/benchmark.py build    [--images DIR] [--count N] [--workers 1 2 ...] [--no-beam]
    python tools/benchmark.py chapter  [--run RUN_DIR] [--pages 20] [--width 1100] [--height 1600]
    python tools/benchmark.py app      [--run RUN_DIR] [--size 1024] [--canvas 512] [--chromium PATH]
    python tools/benchmark.py app-load [--run RUN_DIR] [--requests 200] [--clients 4]
    python tools/benchmark.py all      (each of the above with its defaults)

Each subcommand is one `bench_*` function returning measurements (dicts); `emit` prints them as a
table, or with --json as one JSON object per line. Times are medians over --repeat runs after a
warm-up. The model benchmarks also report the model's FLOPs per image (TensorFlow's profiler),
the GFLOP/s achieved, and this machine's own matmul peak in float32 and bfloat16, measured in the
same run, so every figure reads as a fraction of what the hardware can do. Each training precision
runs in a fresh process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import queue
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Callable

import cv2
import numpy as np

from colorize import build, sketch
from colorize.config import KERNELS
from colorize.experiments import EXPERIMENTS
from colorize.experiments.base import over

COLUMNS = ("benchmark", "name", "precision", "kernels", "batch", "image_size", "workers", "images",
           "ms", "images_per_s", "per_worker", "vs_recipe", "vs_builder", "vs_float32",
           "vs_keras_float32", "gflop_per_image", "gflop_s", "peak_fraction", "parent_cpu_ms",
           "peak_rss_mb", "rss_vs_float32")


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


# --- the machine's limit ----------------------------------------------------------------------


def matmul_peak(dtype: str, n: int = 4096, repeat: int = 5) -> float:
    """GFLOP/s of an n x n matrix product in `dtype`: this machine's practical peak."""
    import tensorflow as tf

    a = tf.random.uniform((n, n), dtype=tf.float32)
    a = tf.cast(a, dtype)
    matmul = tf.function(lambda x: tf.matmul(x, x))
    timing = timed(lambda: matmul(a).numpy(), repeat)
    return 2 * n ** 3 / timing["seconds"] / 1e9


def peaks() -> dict[str, float]:
    return {"float32": round(matmul_peak("float32"), 1),
            "bfloat16": round(matmul_peak("bfloat16"), 1)}


def _peak_for(precision: str, machine: dict[str, float]) -> float:
    return machine["bfloat16"] if "bfloat16" in precision else machine["float32"]


# --- models -----------------------------------------------------------------------------------


def forward_gflop(model, input_shapes) -> float:
    """GFLOP of one forward pass of `model` on inputs of the given shapes (TF profiler count)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2_as_graph)

    specs = [tf.TensorSpec(shape, tf.float32) for shape in input_shapes]
    fn = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False))
    frozen, _ = convert_variables_to_constants_v2_as_graph(fn.get_concrete_function(*specs))
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(graph=frozen.graph, options=options)
    return profile.total_float_ops / 1e9


def train_gflop_per_image(cfg) -> float:
    """Generator + two discriminator passes, forward and backward (backward ~ 2x forward), of
    the stock layers (the recipe's arithmetic, whichever kernels compute it)."""
    from colorize.models import build_discriminator, build_generator

    size, channels = cfg.image_size, cfg.conditioning.input_channels
    cfg = cfg.replace(kernels="keras")
    gen = forward_gflop(build_generator(cfg), [(1, size, size, channels)])
    disc = forward_gflop(build_discriminator(cfg),
                         [(1, size, size, channels), (1, size, size, 3)])
    return 3 * (gen + 2 * disc)


def _train_child(args: argparse.Namespace) -> dict:
    """Images/s of the project's own train step (colorize.pix2pix.Pix2Pix) in one precision with
    one kernel set (colorize.kernels, or the stock Keras layers and Adam)."""
    import tensorflow as tf

    from colorize import runtime
    from colorize.config import preset
    from colorize.pix2pix import Pix2Pix

    precision = runtime.resolve_precision(args.precision)
    cfg = preset(args.experiment, image_size=args.image_size, batch_size=args.batch_size,
                 precision=precision, jit=args.jit, kernels=args.kernel_set)
    model = Pix2Pix(cfg)
    shape = (args.batch_size, args.image_size, args.image_size)
    batch = (tf.random.uniform(shape + (cfg.conditioning.input_channels,), -1, 1),
             tf.random.uniform(shape + (3,), -1, 1))
    step = lambda: [float(model.train_step(batch)["gen_total_loss"]) for _ in range(args.steps)]
    timing = timed(step, args.repeat)
    images = args.steps * args.batch_size
    return measurement("train", "train step" + (" (XLA)" if args.jit else ""), images=images,
                       timing=timing, workers=1, experiment=args.experiment,
                       upsample=cfg.upsample, precision=precision,
                       kernels=args.kernel_set, batch=args.batch_size,
                       image_size=args.image_size,
                       ms=round(1e3 * timing["seconds"] / args.steps, 1))


def bench_train(args: argparse.Namespace) -> list[dict]:
    """The train step in each precision and kernel set, each in a fresh process.

    vs_float32 and rss_vs_float32 compare with float32 on the same kernels, vs_keras_float32 with
    float32 on the stock Keras layers and Adam (the textbook recipe's path).
    """
    from colorize.config import preset

    if args.child:
        return [_train_child(args)]
    runs: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.rounds):  # interleaved, so a machine that drifts slows every variant
        for kernel_set in args.kernels:
            for precision in args.precisions:
                cmd = [sys.executable, os.path.abspath(__file__), "train", "--child", "--json",
                       "--experiment", args.experiment,
                       "--precision", precision, "--kernel-set", kernel_set, "--batch-size",
                       str(args.batch_size), "--image-size", str(args.image_size), "--steps",
                       str(args.steps), "--repeat", str(args.repeat)]
                if args.jit:
                    cmd.append("--jit")
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                runs.setdefault((kernel_set, precision), []).append(
                    json.loads(out.strip().splitlines()[-1]))
    rows = []
    for variant in runs.values():  # the round with the median step time
        row = sorted(variant, key=lambda r: r["ms"])[len(variant) // 2]
        rows.append({**row, "rounds": len(variant)})
    machine = peaks()
    gflop = train_gflop_per_image(preset(args.experiment, image_size=args.image_size))

    def float32_row(kernel_set: str) -> dict | None:
        return next((r for r in rows if r["precision"] == "float32"
                     and r["kernels"] == kernel_set), None)

    for row in rows:  # ratios of step times, which are not rounded like images_per_s
        row["gflop_per_image"] = round(gflop, 1)
        row["gflop_s"] = round(gflop * row["batch"] * 1e3 / row["ms"], 1)
        row["peak_fraction"] = round(row["gflop_s"] / _peak_for(row["precision"], machine), 3)
        base, keras_base = float32_row(row["kernels"]), float32_row("keras")
        if base:
            row["vs_float32"] = round(base["ms"] / row["ms"], 2)
            row["rss_vs_float32"] = round(row["peak_rss_mb"] / base["peak_rss_mb"], 2)
        if keras_base:
            row["vs_keras_float32"] = round(keras_base["ms"] / row["ms"], 2)
        row["machine_peak_gflop_s"] = machine
    return rows


def add_train_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--experiment", default="B", choices=list(EXPERIMENTS),
                        help="whose networks (C: nine input channels and the resize decoder)")
    parser.add_argument("--precisions", nargs="+", default=["float32", "mixed_bfloat16"])
    parser.add_argument("--kernels", nargs="+", default=list(KERNELS), choices=KERNELS,
                        help="fused: colorize.kernels (the default); keras: stock Keras layers")
    parser.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--kernel-set", default="fused", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5, help="train steps per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement")
    parser.add_argument("--jit", action="store_true", help="XLA-compile the train step")
    parser.add_argument("--rounds", type=int, default=1,
                        help="fresh processes per variant, interleaved; the median is reported")


def bench_kernels(args: argparse.Namespace) -> list[dict]:
    """Each convolution of the full-size models, alone: TensorFlow's forward, input-gradient and
    weight-gradient kernels, the weight gradient as one matmul over patches (colorize.kernels),
    and the weight-gradient route training takes. All three passes have the same FLOPs."""
    import tensorflow as tf
    from keras import layers

    from colorize import kernels
    from colorize.config import TrainConfig
    from colorize.models import build_discriminator, build_generator

    cfg = TrainConfig(image_size=args.image_size)
    rows = []
    for model in (build_generator(cfg), build_discriminator(cfg)):
        for layer in model.layers:
            if not isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose)):
                continue
            # Every pass is written in terms of the convolution from `big` to `small`: a
            # transposed convolution is that convolution's input gradient, and its weight
            # gradient is that convolution's weight gradient.
            transposed = isinstance(layer, layers.Conv2DTranspose)
            big, small = layer.input.shape[1:], layer.output.shape[1:]
            if transposed:
                big, small = small, big
            k, s, padding = layer.kernel_size[0], layer.strides[0], layer.padding.upper()
            positions = small[0] * small[1]
            gflop = 2 * args.batch_size * positions * k * k * big[-1] * small[-1] / 1e9
            for dtype in args.dtypes:
                x = tf.cast(tf.random.normal((args.batch_size, *big)), dtype)
                dy = tf.cast(tf.random.normal((args.batch_size, *small)), dtype)
                w = tf.cast(tf.random.normal(layer.kernel.shape), dtype)
                strides = [1, s, s, 1]
                conv = tf.function(lambda x=x, w=w, st=strides, p=padding:
                                   tf.nn.conv2d(x, w, st, p))
                conv_t = tf.function(lambda x=x, w=w, dy=dy, st=strides, p=padding:
                                     tf.raw_ops.Conv2DBackpropInput(
                                         input_sizes=x.shape, filter=w, out_backprop=dy,
                                         strides=st, padding=p))
                weight_tf = tf.function(lambda x=x, w=w, dy=dy, st=strides, p=padding:
                                        tf.raw_ops.Conv2DBackpropFilter(
                                            input=x, filter_sizes=w.shape, out_backprop=dy,
                                            strides=st, padding=p))
                weight_patch = tf.function(lambda x=x, dy=dy, k=k, s=s, p=padding:
                                           kernels.patch_weight_gradient(x, dy, k, s, p))
                forward, input_grad = (conv_t, conv) if transposed else (conv, conv_t)
                ms = {name: 1e3 * timed(lambda fn=fn: fn().numpy(), args.repeat)["seconds"]
                      for name, fn in (("forward", forward), ("input_grad", input_grad),
                                       ("weight_grad_tf", weight_tf),
                                       ("weight_grad_patch", weight_patch))}
                fastest = min(ms["forward"], ms["input_grad"], ms["weight_grad_tf"])
                rows.append({"benchmark": "kernels", "name": layer.name, "precision": dtype,
                             "batch": args.batch_size, "positions": positions,
                             "gflop": round(gflop, 2),
                             **{f"{name}_ms": round(value, 2) for name, value in ms.items()},
                             "best_tf_gflop_s": round(gflop / fastest * 1e3),
                             "takes": "patch" if kernels.use_patch_gradient(layer, positions)
                             else "tensorflow"})
    return rows


def add_kernels_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--dtypes", nargs="+", default=["bfloat16", "float32"],
                        choices=["bfloat16", "float16", "float32"],
                        help="compute types of the convolutions (default: bfloat16 float32)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement")


def bench_infer(args: argparse.Namespace) -> list[dict]:
    """Generator forward latency: plain float32 vs the inference mode of `colorize predict`
    (deterministic, batch norm folded into the convolutions, --precision auto)."""
    import tensorflow as tf

    from colorize import runtime
    from colorize.config import preset
    from colorize.models import build_generator, fold_batch_norm

    cfg = preset(args.experiment, image_size=args.image_size, kernels="keras")  # as use builds it
    generator = build_generator(cfg)
    channels = cfg.conditioning.input_channels
    gflop = forward_gflop(generator, [(1, args.image_size, args.image_size, channels)])
    precision = runtime.resolve_precision(args.precision)
    modes = {"plain float32": ("float32", tf.function(lambda x: generator(x, training=False))),
             "folded": (precision, tf.function(fold_batch_norm(generator, precision)))}
    machine = peaks()
    rows = []
    for batch in args.batches:
        x = tf.random.uniform((batch, args.image_size, args.image_size, channels), -1, 1)
        base = None
        for name, (mode_precision, fn) in modes.items():
            timing = timed(lambda: [fn(x).numpy() for _ in range(args.steps)], args.repeat)
            row = measurement("infer", name, images=batch * args.steps, timing=timing, workers=1,
                              experiment=args.experiment, upsample=cfg.upsample,
                              precision=mode_precision, batch=batch, image_size=args.image_size,
                              ms=round(1e3 * timing["seconds"] / args.steps, 1),
                              gflop_per_image=round(gflop, 1))
            row["gflop_s"] = round(gflop * row["images_per_s"], 1)
            row["peak_fraction"] = round(row["gflop_s"] / _peak_for(mode_precision, machine), 3)
            base = base or row
            row["vs_float32"] = round(row["images_per_s"] / base["images_per_s"], 2)
            row["machine_peak_gflop_s"] = machine
            rows.append(row)
    return rows


def add_infer_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--experiment", default="B", choices=list(EXPERIMENTS),
                        help="whose generator (C: nine input channels and the resize decoder)")
    parser.add_argument("--precision", default="auto", help="of the folded inference mode")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10, help="forward passes per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement")


def _records_folder(args: argparse.Namespace, tmp: str) -> str:
    """--records, or demo illustrations built into records in `tmp`."""
    if args.records:
        return args.records
    from colorize import demo

    images = os.path.join(tmp, "images")
    demo.generate(images, args.count, size=max(args.image_size, 256))
    out = os.path.join(tmp, "records")
    build.build_dataset([images], out, build.BuildParams(size=args.image_size, test_fraction=0),
                        progress=False)
    return out


def bench_pipeline(args: argparse.Namespace) -> list[dict]:
    """Images/s of the tf.data input pipeline alone: read, decode, jitter, batch; with the process
    tuned as training tunes it (`runtime.tune_input_pipeline`)."""
    from colorize import runtime
    from colorize.config import preset
    from colorize.data import make_dataset

    runtime.tune_input_pipeline()

    with tempfile.TemporaryDirectory() as tmp:
        records = _records_folder(args, tmp)
        rows = []
        for experiment in args.experiments:
            for styles in args.sketch_styles:
                cfg = preset(experiment, image_size=args.image_size, batch_size=args.batch_size,
                             jitter=not args.no_jitter, sketch_styles=styles)
                iterator = iter(make_dataset(cfg, records, "train", training=True, repeat=True))

                def consume():  # each batch dropped on arrival, as a train step drops it
                    for _ in range(args.batches):  # (keeping them all held GBs of fresh pages)
                        next(iterator)
                timing = timed(consume, args.repeat)
                rows.append(measurement(
                    "pipeline", f"decode+{'jitter+' * cfg.jitter}{cfg.conditioning.name}+batch",
                    images=args.batches * args.batch_size, timing=timing,
                    workers=len(os.sched_getaffinity(0)), batch=args.batch_size,
                    image_size=args.image_size, sketch_styles=cfg.sketch_styles))
    return rows


def add_pipeline_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--records", help="a records folder (default: demo data built on the fly)")
    parser.add_argument("--count", type=int, default=300, help="demo images to build")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--batches", type=int, default=250, help="batches per timed run")
    parser.add_argument("--experiments", nargs="+", default=list(EXPERIMENTS), choices=EXPERIMENTS,
                        help="whose generator inputs to make (default: all)")
    parser.add_argument("--no-jitter", action="store_true", help="without the pix2pix jitter")
    parser.add_argument("--sketch-styles", nargs="+", default=["auto"], metavar="STYLES",
                        help="sketch style mixes to measure per experiment (default: auto, each "
                             "experiment's own)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement")


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
    """Images/s of the straightforward recipe (one core), and of the local builder and the Beam
    pipeline (DirectRunner, multi_processing) per worker count, on the same inputs."""
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
            if not args.no_beam:
                rows.append(_bench_beam(folder, out, params, workers, len(paths), row, args))
    return rows


def _bench_beam(folder: str, out: str, params: build.BuildParams, workers: int, images: int,
                local: dict, args: argparse.Namespace) -> dict:
    """Images/s of `colorize build --runner beam` on the DirectRunner with `workers` processes."""
    from colorize.build import beam as beam_build

    beam_args = [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
    timing = timed(lambda: beam_build.build_dataset([folder], out, params, beam_args=beam_args,
                                                    overwrite=True), args.repeat)
    row = measurement("build", "beam-direct", images=images, timing=timing, workers=workers,
                      image_size=params.size)
    row["vs_builder"] = round(row["images_per_s"] / local["images_per_s"], 2)
    return row


def add_build_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--images", help="input folder (default: $COLORIZE_REAL_DATA/faces when "
                                         "it exists, else synthetic 256x256 JPEGs)")
    parser.add_argument("--count", type=int, default=400, help="images per run")
    parser.add_argument("--workers", type=int, nargs="+",
                        default=sorted({1, build.usable_cores()}),
                        help="worker counts to measure the builder with")
    parser.add_argument("--no-beam", action="store_true",
                        help="skip the Beam pipeline (which needs the beam extra)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement")


def chapter_pages(folder: str, count: int, width: int, height: int) -> list[str]:
    """`count` line-art pages (width x height PNGs): the recipe's sketches of demo illustrations,
    two per page side by side, as a manga page's panels."""
    from colorize import demo

    paths = []
    for i in range(count):
        half = [sketch.sketchify(demo.render(i, k, height)) for k in range(2)]
        page = np.full((height, width), 255, np.uint8)
        for k, lines in enumerate(half):
            panel = cv2.resize(lines, (width // 2, height), interpolation=cv2.INTER_AREA)
            page[:, k * (width // 2):(k + 1) * (width // 2)] = panel
        paths.append(os.path.join(folder, f"page-{i + 1:03d}.png"))
        cv2.imwrite(paths[-1], page)
    return paths


def bench_chapter(args: argparse.Namespace) -> list[dict]:
    """Pages/s of `colorize predict` on a chapter: a .cbz of --pages line-art pages to a .cbz of
    colorized PNG pages, and to a folder of layered PSD files (reading, colorizing, encoding and
    writing every page, as the command does, the progress bar aside). The model: --run, or an
    untrained full-size generator of --experiment, saved as a .keras file (`--model`)."""
    import zipfile

    from colorize import predict_chapter, predict_cli, runtime
    from colorize.config import preset
    from colorize.models import build_generator

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "pages")
        os.makedirs(folder)
        cbz = os.path.join(tmp, "chapter.cbz")
        with zipfile.ZipFile(cbz, "w") as out:
            for path in chapter_pages(folder, args.pages, args.width, args.height):
                out.write(path, os.path.basename(path), zipfile.ZIP_STORED)
        model = ["--run", args.run]
        if not args.run:
            cfg = preset(args.experiment, image_size=args.image_size, kernels="keras")
            build_generator(cfg).save(os.path.join(tmp, "generator.keras"))
            model = ["--model", os.path.join(tmp, "generator.keras")]
        parser = argparse.ArgumentParser()
        predict_cli.add_arguments(parser)
        common = ["--sketch", cbz, "--precision", args.precision, *model]
        colorizer = None
        for name, extra in [("cbz of png pages", ["--out", os.path.join(tmp, "out.cbz")]),
                            ("folder of psd files", ["--out", os.path.join(tmp, "psd"),
                                                     "--format", "psd"])]:
            command = parser.parse_args(common + extra)
            colorizer = colorizer or predict_cli.load_colorizer(command)

            def chapter():
                chapter_, output, cues = predict_chapter.plan(command)
                with chapter_:
                    predict_chapter.process(command, chapter_, output, cues, colorizer,
                                            progress=False)
                if os.path.isdir(command.out):
                    import shutil

                    shutil.rmtree(command.out)
                else:
                    os.remove(command.out)

            with contextlib.redirect_stdout(io.StringIO()):
                timing = timed(chapter, args.repeat)  # the warm-up traces the model's graphs
            rows.append(measurement(
                "chapter", name, images=args.pages, timing=timing, workers=1,
                ms=round(1e3 * timing["seconds"] / args.pages), image_size=colorizer.image_size,
                precision=runtime.resolve_precision(args.precision),
                page=f"{args.width}x{args.height}", pages_per_s=round(args.pages /
                                                                      timing["seconds"], 2)))
    return rows


def add_chapter_arguments(parser: argparse.ArgumentParser):
    add_served_model_arguments(parser, experiment="B")
    parser.add_argument("--pages", type=int, default=20, help="pages of the chapter")
    parser.add_argument("--width", type=int, default=1100, help="page width in pixels")
    parser.add_argument("--height", type=int, default=1600, help="page height in pixels")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per measurement")


def _app_choices(args: argparse.Namespace) -> dict:
    """The app's model choices: --run, else an untrained full-size generator of --experiment."""
    from colorize.app.choices import Choice, load_choices
    from colorize.config import preset
    from colorize.infer import Colorizer
    from colorize.models import build_generator

    if args.run:
        return load_choices([args.run], [], args.precision, test_modes=("deterministic",))
    cfg = preset(args.experiment, image_size=args.image_size)  # the paper's width 64
    colorizer = Colorizer(build_generator(cfg), conditioning=cfg.conditioning,
                          precision=args.precision, experiment=cfg.experiment)
    label = f"{cfg.experiment} · untrained {args.image_size} px"
    return {label: Choice(label, cfg.experiment, {"deterministic": colorizer})}


def _app_inputs(size: int, line_art: str = "binary") -> tuple[np.ndarray, np.ndarray]:
    """A size x size demo sketch (the recipe's binary one, or "gray": it anti-aliased, as pencil
    and scans are, which a run of several styles hands back through "keep") and a hint layer with
    three opaque strokes."""
    from colorize import demo

    lines = sketch.sketchify(demo.render(0, 0, size))
    if line_art == "gray":
        lines = cv2.GaussianBlur(lines, (5, 5), 0)
    hints = np.zeros((size, size, 4), np.uint8)
    for i, color in enumerate([(230, 30, 30), (30, 60, 230), (240, 192, 32)]):
        y = size * (i + 1) // 4
        cv2.line(hints, (size // 8, y), (7 * size // 8, y + size // 16), (*color, 255), size // 40)
    return lines, hints


def _browser_stroke_to_picture(args, choices, lines: np.ndarray) -> list[tuple[float, ...]]:
    """Per mouse stroke in headless Chromium: seconds from its end to the page's request reaching
    the handler, the handler's own time, and seconds from its end to the new picture loaded."""
    import socket

    from PIL import Image
    from playwright.sync_api import sync_playwright

    from colorize.app import cli, handlers

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    calls = []  # (entered, returned) perf_counter of each handler call, in this process
    handler = handlers.colorize_page

    def timed_handler(*a):
        entered = time.perf_counter()
        out = handler(*a)
        calls.append((entered, time.perf_counter()))
        return out

    handlers.colorize_page = timed_handler
    page_app = cli.serve(choices, "127.0.0.1", port, block=False, canvas=args.canvas)
    times = []
    try:
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
            path = os.path.join(tmp, "sketch.png")
            Image.fromarray(lines).save(path)
            browser = p.chromium.launch(executable_path=args.chromium, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            with page.expect_file_chooser() as chooser:
                page.click("#open-sketch")
            chooser.value.set_files(path)
            wait = ("prev => { const img = document.querySelector('#output img');"
                    " return img && img.complete && img.naturalWidth > 0 && img.src !== prev; }")
            page.wait_for_function(wait, arg=None, timeout=120_000)
            box = page.locator("#editor canvas").first.bounding_box()
            cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            for i in range(args.strokes + 1):  # the first one warms up
                src = page.locator("#output img").get_attribute("src")
                y = cy - 100 + 200 * i / args.strokes
                page.mouse.move(cx - 80, y)
                page.mouse.down()
                page.mouse.move(cx + 80, y + 10, steps=8)
                start = time.perf_counter()
                page.mouse.up()
                page.wait_for_function(wait, arg=src, timeout=120_000)
                done = time.perf_counter()
                entered, returned = calls[-1]
                times.append((entered - start, returned - entered, done - start))
            browser.close()
    finally:
        page_app.close()
        handlers.colorize_page = handler
    return times[1:]


def bench_app(args: argparse.Namespace) -> list[dict]:
    """`colorize app`: the server's colorization of a sketch + hint layer (the page's handler),
    and from the end of a stroke to the new picture in a real browser."""
    from colorize.app import handlers

    choices = _app_choices(args)
    (choice,) = choices.values()
    colorizer = choice.colorizers["deterministic"]
    lines, hints = _app_inputs(args.size, args.line_art)
    # as the page: the editor paints on the canvas copy; the sketch stays full size on the server
    sketch_ = handlers.Sketch.of(lines, args.canvas)
    shown = cv2.resize(hints, sketch_.canvas.shape[::-1], interpolation=cv2.INTER_NEAREST)
    value = handlers.editor_value(sketch_.canvas, shown)
    timing = timed(lambda: [handlers.colorize_page(colorizer, value, None, sketch_)
                            for _ in range(args.steps)], args.repeat)
    from colorize import runtime

    common = dict(precision=runtime.resolve_precision(args.precision),
                  image_size=colorizer.image_size, size=args.size, canvas=args.canvas,
                  line_art=args.line_art, model=choice.label)
    rows = [measurement("app", "server: sketch + hints -> picture", images=args.steps,
                        timing=timing, workers=1, ms=round(1e3 * timing["seconds"] / args.steps, 1),
                        goal_ms=150, **common)]
    if args.chromium:
        times = _browser_stroke_to_picture(args, choices, lines)
        to_handler, in_handler, total = (statistics.median(column) for column in zip(*times))
        rows.append(measurement("app", "browser: stroke end -> new picture", images=len(times),
                                timing={"seconds": sum(t[-1] for t in times), "cpu": 0.0},
                                workers=1, ms=round(1e3 * total, 1),
                                max_ms=round(1e3 * max(t[-1] for t in times), 1),
                                to_handler_ms=round(1e3 * to_handler, 1),
                                handler_ms=round(1e3 * in_handler, 1),
                                goal_ms=600, **common))
    return rows


def add_served_model_arguments(parser: argparse.ArgumentParser, experiment: str = "C"):
    """The model a benchmark serves: a run, or an untrained generator of this shape."""
    parser.add_argument("--run", help="a run to serve (default: an untrained full-size generator)")
    parser.add_argument("--experiment", default=experiment, choices=list(EXPERIMENTS),
                        help=f"of the untrained generator (default {experiment})")
    parser.add_argument("--image-size", type=int, default=256, help="of the untrained generator")
    parser.add_argument("--precision", default="auto", help="of the folded generator")


def add_app_arguments(parser: argparse.ArgumentParser):
    import shutil

    add_served_model_arguments(parser)
    parser.add_argument("--size", type=int, default=1024, help="sketch side in pixels")
    parser.add_argument("--line-art", choices=("binary", "gray"), default="binary",
                        help="the sketch: the recipe's binary one, or it anti-aliased (gray)")
    parser.add_argument("--canvas", type=int, default=512,
                        help="the page's painting canvas side (colorize app --canvas)")
    parser.add_argument("--steps", type=int, default=10, help="pictures per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement")
    parser.add_argument("--strokes", type=int, default=10, help="strokes timed in the browser")
    debian = "/usr/lib/chromium/chromium"  # the binary behind Debian's /usr/bin/chromium script
    parser.add_argument("--chromium", default=debian if os.path.isfile(debian) else
                        shutil.which("chromium"), help="the browser binary (default: the system "
                        "Chromium; without one, no browser measurement)")


# --- the app under load -----------------------------------------------------------------------


class AppClient:
    """The page's server endpoints over plain HTTP, as its browser-side code calls them (Gradio 6:
    files to `upload`, the call to `queue/join`, its result from the session's `queue/data`
    stream). Each call is a fresh session, so the page's `sketch` state is empty: the editor's
    background is the sketch at full size."""

    def __init__(self, url: str, timeout: float = 300):
        import requests

        self.http, self.timeout = requests.Session(), timeout
        self.root = url.rstrip("/")
        config = self.http.get(f"{self.root}/config", timeout=timeout).json()
        self.api = self.root + config.get("api_prefix", "/gradio_api")
        self.components = {c["id"]: c for c in config["components"]}
        self.dependencies = config["dependencies"]

    def element(self, elem_id: str) -> dict:
        return next(c for c in self.components.values() if c["props"].get("elem_id") == elem_id)

    def endpoint(self, input_elem_id: str, output_elem_id: str | None = None) -> int:
        """The fn_index of the (first) server step that reads the element with `input_elem_id`
        (and writes the one with `output_elem_id`)."""
        takes = self.element(input_elem_id)["id"]
        gives = self.element(output_elem_id)["id"] if output_elem_id else None
        return next(d["id"] for d in self.dependencies if d.get("backend_fn") and
                    takes in d["inputs"] and (gives is None or gives in d["outputs"]))

    def colorize_endpoint(self) -> int:
        """The page's colorize step: the one reading the reference and writing the picture."""
        return self.endpoint("reference", "output")

    def upload(self, name: str, data: bytes) -> dict:
        """A file uploaded as the page uploads one: its FileData."""
        reply = self.http.post(f"{self.api}/upload", files=[("files", (name, data, "image/png"))],
                               timeout=self.timeout)
        reply.raise_for_status()
        return {"path": reply.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    def call(self, fn_index: int, data: list) -> tuple[bool, object]:
        """(True, the step's outputs) or (False, the error the page would show)."""
        session = uuid.uuid4().hex
        joined = self.http.post(f"{self.api}/queue/join", timeout=self.timeout, json={
            "data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
            "trigger_id": None})
        joined.raise_for_status()
        with self.http.get(f"{self.api}/queue/data", params={"session_hash": session},
                           stream=True, timeout=self.timeout) as stream:
            for line in stream.iter_lines():
                if not line.startswith(b"data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if message.get("success"):
                        return True, output.get("data")
                    return False, output.get("error") or output.get("title") or repr(message)
                if message.get("msg") == "unexpected_error":
                    return False, message.get("message") or repr(message)
        return False, "the result stream ended without a result"

    def download(self, file: dict) -> bytes:
        if file.get("__type__") == "update":  # the picture step sets the panel's label too
            file = file["value"]
        reply = self.http.get(file["url"], timeout=self.timeout)
        reply.raise_for_status()
        return reply.content


@dataclasses.dataclass
class LoadJob:
    """One request to the page's colorize step: files by role ("background", "layer",
    "composite", "reference": (name, PNG bytes)), and the one-line error a bad upload must get
    (None: a picture of `size` x `size`)."""

    size: int
    files: dict
    expect: str | None = None


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA) if image.ndim == 3
                        else image, [cv2.IMWRITE_PNG_COMPRESSION, 1])[1].tobytes()


def _editor_files(size: int) -> dict:
    """What the page's editor sends for a size x size sketch with three strokes: the background
    (RGBA), the hint layer and the composite, as PNGs."""
    lines, hints = _app_inputs(size)
    background = np.dstack([np.repeat(lines[..., None], 3, -1), np.full_like(lines, 255)])
    composite = background.copy()
    composite[..., :3] = over(hints, background[..., :3])
    return {"background": (f"sketch{size}.png", _png(background)),
            "layer": (f"hints{size}.png", _png(hints)),
            "composite": (f"composite{size}.png", _png(composite))}


def load_jobs(count: int, sizes: list[int], bad_every: int = 10, oversize: int = 12000,
              seed: int = 0) -> list[LoadJob]:
    """`count` colorize requests of sketches of `sizes` (in equal shares, shuffled); every
    `bad_every`-th a bad upload, in turn: a corrupt file, an `oversize` px square background or
    reference (a few KB of PNG; over the page's pixel cap), a truncated PNG."""
    from colorize.app.uploads import MAX_PIXELS

    rng = np.random.default_rng(seed)
    editor = {size: _editor_files(size) for size in sorted({*sizes, 256})}
    huge = ("huge.png", _png(np.zeros((oversize, oversize), np.uint8)))
    over = (f"huge.png: {oversize}x{oversize} is over the {MAX_PIXELS / 1e6:.1f} megapixel "
            "limit for a ")
    plain = editor[256]
    background = plain["background"][1]
    bad = [({"background": ("corrupt.png", b"\x89PNG\r\n\x1a\nnot an image")},
            "corrupt.png: not a readable image (unknown image format)"),
           ({"background": huge}, over + "sketch"),
           ({"reference": huge}, over + "reference"),
           ({"background": ("truncated.png", background[:len(background) * 2 // 3])},
            "truncated.png: not a readable image (OSError)")]
    good = count - count // bad_every
    order = iter(rng.permutation(np.resize(sizes, good)))
    jobs = []
    for i in range(count):
        if (i + 1) % bad_every == 0:
            files, expect = bad[(i // bad_every) % len(bad)]
            jobs.append(LoadJob(256, {**plain, **files}, expect))
        else:
            size = int(next(order))
            jobs.append(LoadJob(size, editor[size]))
    return jobs


@dataclasses.dataclass
class LoadResult:
    job: LoadJob
    seconds: float  # from the first upload to the picture downloaded (or the error)
    ok: bool
    message: str  # the error, or "WxH" of the picture

    @property
    def as_expected(self) -> bool:
        if self.job.expect is None:
            return self.ok and self.message == f"{self.job.size}x{self.job.size}"
        return not self.ok and self.message == self.job.expect


def colorize_request(client: AppClient, fn_index: int, label: str, job: LoadJob) -> LoadResult:
    """One colorize request as the page makes it: the files uploaded, the step called, the
    picture downloaded (its size read from its header)."""
    from PIL import Image

    start = time.perf_counter()
    try:
        files = {role: client.upload(*file) for role, file in job.files.items()}
        value = {"background": files["background"],
                 "layers": [files["layer"]] if "layer" in files else [],
                 "composite": files.get("composite"), "id": None}
        ok, out = client.call(fn_index, [label, "deterministic", value, files.get("reference"),
                                         None, False])  # no sketch state; the picture
        if ok:
            with Image.open(io.BytesIO(client.download(out[0]))) as picture:
                out = "{}x{}".format(*picture.size)
    except Exception as err:  # a failed HTTP request counts as an unexpected failure
        ok, out = False, f"{type(err).__name__}: {err}"
    return LoadResult(job, time.perf_counter() - start, ok, str(out))


def drive_app(url: str, jobs: list[LoadJob], clients: int = 4,
              after: tuple[int, Callable[[], object]] | None = None) -> list[LoadResult]:
    """`jobs` sent in order by `clients` concurrent clients; `after` = (n, fn): fn() runs once
    when n requests have finished (the load benchmark reads the server's RSS there)."""
    pending = queue.SimpleQueue()
    for job in jobs:
        pending.put(job)
    results, lock = [], threading.Lock()

    def client_loop():
        client = AppClient(url)
        fn_index, label = client.colorize_endpoint(), client.element("model")["props"]["value"]
        while True:
            try:
                job = pending.get_nowait()
            except queue.Empty:
                return
            result = colorize_request(client, fn_index, label, job)
            with lock:
                results.append(result)
                if after and len(results) == after[0]:
                    after[1]()

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _proc_status_mb(pid: int, field: str) -> float:
    """VmRSS / VmHWM (peak RSS) of a process, in MB."""
    with open(f"/proc/{pid}/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith(field + ":"))
    return round(int(kb) / 1024, 1)


def _proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve_app_child(args: argparse.Namespace) -> list[dict]:
    """The page, served by this process until it is killed (the load benchmark's server)."""
    from colorize.app.cli import serve

    choices = _app_choices(args)
    for choice in choices.values():  # traced now, not on the first request (as load_choices)
        for colorizer in choice.colorizers.values():
            colorizer.colorize(np.full((8, 8), 255, np.uint8))
    serve(choices, "127.0.0.1", args.port, block=True)
    return []


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def bench_app_load(args: argparse.Namespace) -> list[dict]:
    """`colorize app` under load: --requests colorize requests from --clients concurrent clients
    on 127.0.0.1 against a server in its own process (sketches of --sizes, every --bad-every-th a
    bad upload): latency per size, failures, and the server's RSS at the start, after the first
    --warmup requests and at the end."""
    if args.serve:
        return _serve_app_child(args)
    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    child = [sys.executable, os.path.abspath(__file__), "app-load", "--serve", "--port",
             str(port), "--experiment", args.experiment, "--image-size", str(args.image_size),
             "--precision", args.precision] + (["--run", args.run] if args.run else [])
    jobs = load_jobs(args.requests, args.sizes, args.bad_every, args.oversize, args.seed)
    url = f"http://127.0.0.1:{port}/"
    load_before = os.getloadavg()[0]  # the neighbours' share of this machine, before the run
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(child, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 600
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError("the app server did not start:\n" + log.read()[-3000:])
                try:
                    if requests.get(url + "config", timeout=5).ok:
                        break
                except requests.ConnectionError:
                    pass
                time.sleep(0.5)
            rss = {"start": _proc_status_mb(server.pid, "VmRSS")}
            cpu = _proc_cpu_seconds(server.pid)
            after = (args.warmup, lambda: rss.update(warm=_proc_status_mb(server.pid, "VmRSS")))
            wall = time.perf_counter()
            results = drive_app(url, jobs, args.clients, after)
            wall = time.perf_counter() - wall
            rss["end"] = _proc_status_mb(server.pid, "VmRSS")
            cpu = _proc_cpu_seconds(server.pid) - cpu
            peak = _proc_status_mb(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(timeout=60)
    unexpected = [r for r in results if not r.as_expected]
    for r in unexpected[:10]:
        print(f"app-load: unexpected: {r.job.size} px, expected {r.job.expect or 'a picture'}: "
              f"{r.message}", file=sys.stderr)
    common = dict(benchmark="app-load", clients=args.clients, model=args.run or
                  f"untrained {args.experiment} {args.image_size} px")

    def row(name: str, group: list[LoadResult], **extra) -> dict:
        """Latency of a group of requests; errors: error replies; failed: not as expected (a
        good request without its picture, a bad upload without its one-line message)."""
        ms = [1e3 * r.seconds for r in group]
        return {**common, "name": name, "requests": len(group),
                "p50_ms": round(_percentile(ms, 50)), "p95_ms": round(_percentile(ms, 95)),
                "max_ms": round(max(ms, default=0)), "errors": sum(not r.ok for r in group),
                "failed": sum(not r.as_expected for r in group), **extra}

    good = [r for r in results if r.job.expect is None]
    rows = [row(f"{size} px sketch", [r for r in good if r.job.size == size], size=size,
                **({"goal_p95_ms": 2000} if size == 1024 else {}))
            for size in sorted({r.job.size for r in good})]
    rows.append(row("bad uploads", [r for r in results if r.job.expect is not None]))
    rows.append(row("all", results, requests_per_s=round(len(results) / wall, 2),
                    server_cpu_ms=round(1e3 * cpu / len(results)),  # per request, under any load
                    rss_start_mb=rss["start"], **{f"rss_after_{args.warmup}_mb": rss.get("warm")},
                    rss_end_mb=rss["end"], rss_end_vs_after_warmup=round(
                        rss["end"] / rss["warm"], 3) if rss.get("warm") else None,
                    goal_rss_end_vs_after_warmup=1.15, server_peak_rss_mb=peak,
                    load_1min_before=round(load_before, 2),
                    load_1min_after=round(os.getloadavg()[0], 2)))
    return rows


def add_app_load_arguments(parser: argparse.ArgumentParser):
    add_served_model_arguments(parser)
    parser.add_argument("--requests", type=int, default=200, help="requests in all")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048],
                        help="sketch sides in pixels, in equal shares")
    parser.add_argument("--bad-every", type=int, default=10,
                        help="every N-th request is a bad upload (default 1 in 10)")
    parser.add_argument("--oversize", type=int, default=12000,
                        help="side of the oversized uploads (gray PNGs: 614 KB at 12000)")
    parser.add_argument("--warmup", type=int, default=20,
                        help="requests after which the server's RSS is the baseline")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=7860, help=argparse.SUPPRESS)


# --- command line -----------------------------------------------------------------------------

# name -> (function returning measurements, argument setup, one-line help)
# (build first: under `all`, its workers start before TensorFlow is imported)
BENCHMARKS = {
    "build": (bench_build, add_build_arguments, "dataset builder vs the straightforward recipe"),
    "train": (bench_train, add_train_arguments, "the train step, per precision"),
    "kernels": (bench_kernels, add_kernels_arguments,
                "each convolution's three passes; weight gradient: TensorFlow vs patch matmul"),
    "infer": (bench_infer, add_infer_arguments, "generator inference, plain vs folded"),
    "pipeline": (bench_pipeline, add_pipeline_arguments, "the tf.data input pipeline"),
    "chapter": (bench_chapter, add_chapter_arguments,
                "colorize predict on a chapter: pages/s, to a .cbz of PNGs and to PSD files"),
    "app": (bench_app, add_app_arguments, "colorize app: server picture and browser stroke latency"),
    "app-load": (bench_app_load, add_app_load_arguments,
                 "colorize app: concurrent clients over HTTP: latency, failures, server RSS"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="benchmark", required=True)
    for name, (_, add_arguments, help_text) in BENCHMARKS.items():
        child = sub.add_parser(name, help=help_text)
        add_arguments(child)
        child.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.add_parser("all", help="every benchmark with its defaults").add_argument(
        "--json", action="store_true", help="one JSON object per line")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if args.benchmark == "all" else [args.benchmark]
    for name in names:
        own = args if name == args.benchmark else parser.parse_args([name])
        emit(BENCHMARKS[name][0](own), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
