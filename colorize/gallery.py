"""Figures for the notebooks: the paper's data figures and result galleries, made with the package.

The notebooks only choose their inputs and call these: helpers that gather inputs (images, runs,
records, cues) and functions that return matplotlib Figures. TensorFlow is imported only by the
ones that read records or run a model.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from colorize import build, demo, sketch


def recipe(records_dir: str = "", size: int = 256) -> build.BuildParams:
    """The build parameters of a records folder (its manifest), or the defaults at `size` px."""
    if records_dir:
        return build.BuildParams.of_records(records_dir)
    return build.BuildParams.for_size(size)


def source_images(records_dir: str = "", count: int = 100, size: int = 256) -> list[np.ndarray]:
    """Up to `count` (size, size, 3) color images: a records folder's sources (from its manifest),
    cropped like the builder does, or procedural demo images when `records_dir` is empty."""
    if not records_dir:
        return [demo.render(0, i, size) for i in range(count)]
    with open(os.path.join(records_dir, build.MANIFEST)) as f:
        inputs = json.load(f)["inputs"]
    images = []
    for path, _ in build.find_images(inputs):
        try:
            images.append(sketch.resize_and_crop(sketch.load_image(path), size))
        except sketch.ImageError:
            continue  # the builder rejected it too
        if len(images) == count:
            break
    return images


def image_grid(rows: Sequence[Sequence[np.ndarray]], column_titles: Sequence[str] = (),
               row_titles: Sequence[str] = (), cell: float = 2.0) -> Figure:
    """A grid of uint8 images (gray or RGB), one list per row, with optional titles."""
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(cell * n_cols, cell * n_rows),
                             squeeze=False, layout="constrained")
    for r, row in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(row):
                ax.imshow(row[c], cmap="gray", vmin=0, vmax=255)
            else:
                ax.axis("off")
            if r == 0 and c < len(column_titles):
                ax.set_title(column_titles[c], fontsize=9)
        if r < len(row_titles):
            axes[r][0].set_ylabel(row_titles[r], fontsize=9)
    return fig


def block_size_sweep(rgb: np.ndarray, block_sizes: Sequence[int] = (3, 5, 7, 9, 11, 13),
                     c: float = 2.0) -> Figure:
    """The sketch of one image at several adaptive-threshold block sizes, with their complexity."""
    sketches = [sketch.sketchify(rgb, b, c) for b in block_sizes]
    titles = [f"blockSize {b}: {sketch.complexity(s):.1f} %" for b, s in zip(block_sizes, sketches)]
    return image_grid([[rgb, *sketches]], ["color", *titles])


def complexities(images: Sequence[np.ndarray], params: build.BuildParams) -> np.ndarray:
    """Percent of line pixels of each image's sketch, by the builder's recipe."""
    return np.array([sketch.complexity(sketch.sketchify(im, params.block_size, params.threshold_c))
                     for im in images])


def complexity_histogram(values: np.ndarray, cut: float = build.BuildParams.max_complexity,
                         bin_percent: float = build.HISTOGRAM_BIN) -> Figure:
    """Histogram of sketch complexity with the builder's cut (sketches above it are rejected)."""
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    ax.hist(values, bins=np.arange(0, 100 + bin_percent, bin_percent), color="tab:blue")
    kept = int((values <= cut).sum())
    ax.axvline(cut, color="tab:red", linestyle="--",
               label=f"cut at {cut:g} %: {kept} kept, {len(values) - kept} rejected")
    ax.set_xlabel("complexity (% of sketch pixels that are lines)")
    ax.set_ylabel("images")
    ax.legend()
    return fig


def cue_examples(images: Sequence[np.ndarray], params: build.BuildParams) -> Figure:
    """Rows of color | sketch | color cue, made as the builder makes them."""
    rows = [[im, sketch.sketchify(im, params.block_size, params.threshold_c),
             sketch.color_cue(im, params.cue_sigma)] for im in images]
    return image_grid(rows, ["color", "sketch", f"cue (sigma {params.cue_sigma:g} px)"])


def newest_run(roots: Sequence[str] = ("runs", os.path.join("..", "runs"))) -> str:
    """The most recently changed run folder with checkpoints under one of `roots` (by default
    ./runs, where `colorize train` puts them, or ../runs, seen from the notebooks/ folder)."""
    runs = [os.path.dirname(os.path.dirname(p)) for root in roots
            for p in glob.glob(os.path.join(root, "*", "checkpoints", "checkpoint"))]
    if not runs:
        raise FileNotFoundError(f"no trained run under {' or '.join(roots)} "
                                "(train one with `colorize train`)")
    return max(runs, key=os.path.getmtime)


def held_out(records_dir: str, split: str = "test", count: int = 6) -> list[dict]:
    """The first `count` triplets of a split, decoded."""
    from colorize.records import read_records

    examples = []
    for example in read_records(records_dir, split):
        examples.append(example)
        if len(examples) == count:
            break
    return examples


def results_gallery(colorizers: dict, examples: Sequence[dict]) -> Figure:
    """Rows of sketch | cue | one output per named Colorizer | ground truth.

    Each model gets what its experiment takes from the example, as in training (B: the stored
    cue; A: nothing, a white cue).
    """
    rows = []
    for ex in examples:
        lines = ex["sketch"][..., 0]
        outputs = [c.colorize(lines, **c.conditioning.example_hints(ex))
                   for c in colorizers.values()]
        rows.append([lines, ex["cue"], *outputs, ex["color"]])
    return image_grid(rows, ["sketch", "cue", *colorizers, "ground truth"])


def hint_layer(shape: tuple[int, int], strokes: Sequence[tuple[tuple[int, int, int], tuple]]
               ) -> np.ndarray:
    """A (H, W, 4) RGBA hint layer: transparent, with broad filled-ellipse strokes like highlighter
    marks, each (color, (cx, cy, rx, ry)) in fractions of the image size."""
    import cv2

    height, width = shape
    layer = np.zeros((height, width, 4), np.uint8)
    for color, (cx, cy, rx, ry) in strokes:
        cv2.ellipse(layer, (round(cx * width), round(cy * height)),
                    (round(rx * width), round(ry * height)), 0, 0, 360, (*color, 255), -1)
    return layer


def stroke_gallery(colorizer, example: dict, counts: Sequence[int] = (0, 2, 8, 32),
                   seed: int = 0) -> Figure:
    """One held-out sketch colorized with 0, 2, 8, 32 strokes simulated from its ground truth
    (experiment C's training recipe): rows of the strokes over the sketch, and the output."""
    from colorize.experiments.base import over
    from colorize.experiments.strokes import simulated_hint_layer

    lines = example["sketch"][..., 0]
    layers = [simulated_hint_layer(example["color"], n, seed=seed) for n in counts]
    shown = [over(layer, lines) for layer in layers]  # the strokes over the line art
    outputs = [colorizer.colorize(lines, hints=layer) for layer in layers]
    return image_grid([shown, outputs], [f"{n} strokes" for n in counts], ["hints", "output"])


def control_gallery(colorizer, lines: np.ndarray, cues: dict) -> Figure:
    """One sketch colorized with each named cue: rows of cue over output."""
    outputs = [colorizer.colorize(lines, cue) for cue in cues.values()]
    return image_grid([list(cues.values()), outputs], list(cues), ["cue", "output"])


def control_cues(colorizer, examples: Sequence[dict]) -> dict:
    """Cues that show control over the first example: its own, none, red and blue hint layers,
    and the second example's colors."""
    shape = examples[0]["sketch"].shape[:2]
    big = (0.5, 0.5, 0.35, 0.35)  # one broad stroke over the middle
    return {
        "its own cue": examples[0]["cue"],
        "no cue (white)": np.full((*shape, 3), 255, np.uint8),
        "red hint": colorizer.cue_from_hints(hint_layer(shape, [((230, 30, 30), big)])),
        "blue hint": colorizer.cue_from_hints(hint_layer(shape, [((30, 60, 230), big)])),
        "another image's cue": examples[1 % len(examples)]["cue"],
    }


def stroke_layer(shape: tuple[int, int], strokes: Sequence[dict]) -> np.ndarray:
    """A (H, W, 4) RGBA hint layer of highlighter strokes, each {"color": RGB, "width": fraction
    of the long side, "points": [(x, y) fractions of the width and height, ...]}, later strokes
    over earlier ones. Each stroke is opaque in its own color where its antialiased outline
    covers at least half a pixel (the app's rule for a painted pixel): blending the color into
    the transparent layer would give the stroke a rim of darker colors."""
    import cv2

    height, width = shape
    layer = np.zeros((height, width, 4), np.uint8)
    for stroke in strokes:
        points = np.rint(np.asarray(stroke["points"]) * (width, height)).astype(np.int32)
        thickness = max(1, round(stroke["width"] * max(height, width)))
        cover = np.zeros((height, width), np.uint8)
        cv2.polylines(cover, [points], False, 255, thickness, cv2.LINE_AA)
        layer[cover >= 128] = (*stroke["color"], 255)
    return layer


def lineart_examples(sketch_dir: str, strokes_file: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, sketch (H, W, 3) uint8, hint layer) for each sketch named in `strokes_file` (JSON:
    file name -> strokes, as `stroke_layer` takes them) that `sketch_dir` holds."""
    with open(strokes_file) as f:
        spec = json.load(f)
    examples = []
    for name, strokes in spec.items():
        path = os.path.join(sketch_dir, name)
        if name.startswith("_") or not os.path.exists(path):
            continue
        image = sketch.load_image(path)
        examples.append((name, image, stroke_layer(image.shape[:2], strokes)))
    return examples


def lineart_gallery(colorizer, examples: Sequence[tuple[str, np.ndarray, np.ndarray]],
                    cell: float = 3.0) -> Figure:
    """Real line art colorized by a run that reads strokes (`colorize predict`'s picture): one
    row per sketch, the sketch, the strokes over it, the picture without hints and with them."""
    from colorize.experiments.base import over

    rows = []
    for _, image, layer in examples:
        gray = image.mean(axis=2).astype(np.uint8)
        rows.append([image, over(layer, gray), colorizer.colorize(image),
                     colorizer.colorize(image, hints=layer)])
    return image_grid(rows, ["line art", "strokes", "no hints", "with the strokes"],
                      [name for name, _, _ in examples], cell=cell)
