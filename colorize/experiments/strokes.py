"""Experiment C (this project's extension): simulated highlighter strokes with a hint mask.

Training draws strokes from the ground truth (`simulate_hints`); at use time the artist's hint layer
takes their place. Unpainted means "no hint", not white.
"""

from __future__ import annotations

import dataclasses
import functools

import cv2
import numpy as np
import tensorflow as tf

from colorize import regions
from colorize.errors import ColorizeError
from colorize.experiments.base import Conditioning, check_aspect, check_rgba
from colorize.sketch_styles import MIXED_STYLES


@dataclasses.dataclass(frozen=True)
class StrokeOptions:
    """Experiment C's training options: how many strokes training simulates."""

    hint_free_share: float = dataclasses.field(
        default=0.25, metadata={"help": "the share of examples trained without any "
                                        "stroke, in [0, 1]"})
    hint_mean_strokes: float = dataclasses.field(
        default=8.0, metadata={"help": "the mean of the other examples' geometric "
                                       "stroke count (capped at 32), at least 1"})
    hint_early_mean_strokes: float = dataclasses.field(
        default=0.0, metadata={"help": "a curriculum of denser hints early: the first epoch's "
                                       "mean stroke count, falling linearly to "
                                       "--hint-mean-strokes by the middle of training (0: "
                                       "--hint-mean-strokes throughout)"})
    hint_region_share: float = dataclasses.field(
        default=0.75, metadata={"help": "the share of hinted examples whose strokes are painted "
                                       "as a person paints them (one inside each of some "
                                       "line-bounded regions, in the region's color), the "
                                       "others at random, in [0, 1]"})

    hint_fill: bool = dataclasses.field(
        default=True, metadata={"help": "also give the generator each stroke's color filled "
                                        "into the line-bounded region it is painted in (a paint "
                                        "bucket, colorize.regions), as four more input channels"})
    hint_fill_confidence: bool = dataclasses.field(
        default=False, metadata={"help": "the fill's mask says how much the strokes in each "
                                         "region agree (1: one color; near 0: several, their "
                                         "mean is mud), instead of 1 in every touched region"})
    hint_fill_loss: float = dataclasses.field(
        default=0.0, metadata={"help": "extra weight of the L1 loss where the fill reaches: "
                                       "there it counts 1 + this, elsewhere 1 (0: the paper's "
                                       "uniform L1)"})

    def __post_init__(self):
        if not 0.0 <= self.hint_free_share <= 1.0 or self.hint_mean_strokes < 1.0:
            raise ValueError("hint_free_share must be in [0, 1] and hint_mean_strokes at least 1")
        if self.hint_early_mean_strokes and self.hint_early_mean_strokes < 1.0:
            raise ValueError("hint_early_mean_strokes must be 0 (off) or at least 1")
        if not 0.0 <= self.hint_region_share <= 1.0:
            raise ValueError("hint_region_share must be in [0, 1]")
        if self.hint_fill_loss < 0.0 or (self.hint_fill_loss and not self.hint_fill):
            raise ValueError("hint_fill_loss must be >= 0, and needs hint_fill")


@dataclasses.dataclass(frozen=True)
class StrokeRecipe:
    """How training simulates an artist's hint strokes, at 256 px (scaled with the image size).

    Count: none for `p_none` of the examples (the model must also work without hints), else
    Geometric(1 / mean_count) (mean 8, a long tail), capped at `max_count`. Each stroke is a thick
    polyline of 1-3 segments, `width` and total `length` in px drawn uniformly, starting anywhere
    in the image, and one flat color: the per-channel median of the ground truth at `samples`
    points along it (a stroke that crosses a line or a region edge takes the majority's color
    instead of mixing two regions into mud). Later strokes cover earlier ones.
    """

    p_none: float = 0.25
    mean_count: float = 8.0
    max_count: int = 32
    width: tuple[float, float] = (6.0, 24.0)
    length: tuple[float, float] = (10.0, 100.0)
    max_segments: int = 3
    samples: int = 33


def stroke_count(seed: tf.Tensor, recipe: StrokeRecipe = StrokeRecipe()) -> tf.Tensor:
    """How many strokes `simulate_strokes` draws for `seed`: 0 with p_none, else geometric
    (inverse CDF) with mean `mean_count`, capped at `max_count` (a float scalar)."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 8)
    u0, u1 = (tf.random.stateless_uniform([], seeds[i]) for i in (0, 1))
    geometric = tf.math.floor(tf.math.log(1.0 - u0) / tf.math.log(1.0 - 1.0 / recipe.mean_count))
    return tf.where(u1 < recipe.p_none, 0.0, tf.minimum(geometric + 1.0, float(recipe.max_count)))


def simulate_strokes(color: tf.Tensor, seed: tf.Tensor, recipe: StrokeRecipe = StrokeRecipe(),
                     count: int | None = None) -> tuple[tf.Tensor, tf.Tensor]:
    """Hint strokes over a ground-truth color image (S, S, 3) in [-1, 1], deterministic in the
    stateless `seed` (2,): (colors (S, S, 3) in [-1, 1], zero where unpainted; mask (S, S, 1)).
    `count`: exactly this many strokes (at most max_count) instead of the recipe's random count."""
    hints = simulate_hints(color, seed, recipe, count)
    return hints[..., :3], hints[..., 3:]


def simulate_hints(color: tf.Tensor, seed: tf.Tensor, recipe: StrokeRecipe = StrokeRecipe(),
                   count: int | None = None, input_sketch: tf.Tensor | None = None,
                   fill: bool = False, fill_confidence: bool = False) -> tf.Tensor:
    """`simulate_strokes`'s colors and mask as one (S, S, 4) tensor (splitting and joining
    channels copies a few bytes per pixel at a time). With the generator's `input_sketch`
    (S, S, 1), C's whole generator input, made in the same numpy step (`_numpy_strokes`): the
    sketch, the strokes, and with `fill` the strokes filled into the sketch's regions, (S, S, 5)
    or (S, S, 9)."""
    size = color.shape[0]
    scale = size / 256.0
    n, k = recipe.max_count, recipe.max_segments
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 8)
    u = lambda i, shape, lo=0.0, hi=1.0: tf.random.stateless_uniform(shape, seeds[i], lo, hi)
    drawn = stroke_count(seed, recipe) if count is None else tf.constant(float(min(count, n)))
    # polylines: a start point, then k segments of a random heading that turns a little
    segments = tf.cast(tf.floor(u(2, [n], 1.0, k + 1.0 - 1e-6)), tf.float32)  # 1..k per stroke
    total = u(3, [n], *recipe.length) * scale
    width = u(4, [n], *recipe.width) * scale
    heading = u(5, [n, 1], 0.0, 2 * np.pi) + tf.cumsum(u(6, [n, k], -0.8, 0.8), axis=1)
    used = tf.cast(tf.range(k)[None] < tf.cast(segments[:, None], tf.int32), tf.float32)  # (n, k)
    step = (total / segments)[:, None] * used  # (n, k): unused segments have length 0
    start = u(7, [n, 2], 0.0, float(size))  # (n, 2) as (y, x)
    moves = tf.stack([tf.sin(heading), tf.cos(heading)], -1) * step[..., None]  # (n, k, 2)
    points = tf.concat([start[:, None], start[:, None] + tf.cumsum(moves, axis=1)], axis=1)
    points = tf.clip_by_value(points, 0.0, size - 1.0)  # (n, k + 1, 2): strokes stay inside
    # where each stroke's color is read: `samples` points evenly along it
    along = tf.linspace(0.0, 1.0, recipe.samples)  # (m,)
    seg_of = tf.minimum(tf.cast(along[None] * segments[:, None], tf.int32), k - 1)  # (n, m)
    frac = along[None] * segments[:, None] - tf.cast(seg_of, tf.float32)
    p0 = tf.gather(points[:, :-1], seg_of, batch_dims=1)  # (n, m, 2): segment starts
    p1 = tf.gather(points[:, 1:], seg_of, batch_dims=1)  # ... and ends
    at = tf.cast(tf.round(p0 + frac[..., None] * (p1 - p0)), tf.int32)  # (n, m, 2) as (y, x)
    # color and rasterize in one numpy step (OpenCV's thick polylines): per-pixel gathers and a
    # small sort are several times slower as TensorFlow ops inside tf.data
    return _numpy_strokes(lambda *a: (_draw_strokes(*a), None),
                          [color, points, segments, width, at, drawn], size, input_sketch, fill,
                          fill_confidence)


def _numpy_strokes(draw, args: list, size: int, input_sketch: tf.Tensor | None = None,
                   fill: bool = False, fill_confidence: bool = False) -> tf.Tensor:
    """The strokes `draw(*args)` draws (S, S, 4); with an `input_sketch` (S, S, 1), the generator
    input `generator_input_np` makes of them, (S, S, 5) or with `fill` (S, S, 9), in the same
    numpy step (one per example: joining the sketch to the step's output in TensorFlow copied
    the whole input once more). `draw` returns the strokes and the regions it found, if any
    (`_Found`), which the fill reuses when they are the input sketch's."""
    if input_sketch is None:
        hints = tf.numpy_function(lambda *a: draw(*a)[0], args, tf.float32, stateful=False)
        return tf.ensure_shape(hints, [size, size, 4])
    step = lambda *a: generator_input_np(*draw(*a[:-1]), a[-1], fill, fill_confidence)
    inputs = tf.numpy_function(step, [*args, input_sketch], tf.float32, stateful=False)
    return tf.ensure_shape(inputs, [size, size, 9 if fill else 5])


@dataclasses.dataclass(frozen=True, eq=False)
class _Found:
    """The line-bounded regions a stroke simulation found: the sketch and its `line_regions`."""

    sketch: np.ndarray
    labels: np.ndarray
    stats: np.ndarray
    dist: np.ndarray


def generator_input_np(hints: np.ndarray, found: _Found | None, lines: np.ndarray, fill: bool,
                       fill_confidence: bool = False) -> np.ndarray:
    """C's generator input from the strokes (S, S, 4) and the sketch `lines` (S, S, 1), float32:
    the sketch, the strokes and with `fill` their fill into the sketch's regions
    (`regions.fill_np`: OpenCV, several times faster per example than the graph form
    `regions.fill` that use runs, and equal to it, tests/test_regions.py), (S, S, 5) or (S, S, 9).

    The same numbers as `np.concatenate`, cheaper: the channels are interleaved by OpenCV's
    `mixChannels` (about 2.4 times faster than numpy's strided copies) into a buffer aligned to
    64 bytes, which `tf.numpy_function` takes as its tensor without copying it again; and where
    the strokes' regions were found in this very sketch (C's threshold examples), the fill
    reuses their labels."""
    parts = [lines, hints]
    if fill:
        same = found is not None and np.array_equal(found.sketch, lines)
        parts.append(regions.fill_np(hints, lines, fill_confidence,
                                     labels=found.labels if same else None))
    out = _aligned_empty((*lines.shape[:2], sum(part.shape[-1] for part in parts)))
    # (from, to) channel pairs: the parts' channels, counted across them, in order
    cv2.mixChannels(parts, [out], [i for channel in range(out.shape[-1]) for i in (channel,) * 2])
    return out


def _aligned_empty(shape: tuple[int, ...], align: int = 64) -> np.ndarray:
    """An uninitialized float32 array whose data starts on an `align`-byte boundary (TensorFlow
    copies a numpy_function's result that is not aligned for its kernels, 64 bytes at most)."""
    size = int(np.prod(shape)) * 4
    buffer = np.empty(size + align, np.uint8)
    start = -buffer.ctypes.data % align
    return buffer[start:start + size].view(np.float32).reshape(shape)


def _draw_strokes(color, points, segments, width, at, count) -> np.ndarray:
    """(S, S, 4) float32: each stroke's color (the per-channel median of `color` at its sample
    points `at`) and 1 where drawn, later strokes over earlier ones; 0 where unpainted (the numpy
    side of simulate_strokes)."""
    size = color.shape[0]
    canvas = np.zeros((size, size, 4), np.float32)
    count = int(count)
    samples = color[at[:count, :, 0], at[:count, :, 1]]  # (count, m, 3)
    median = np.sort(samples, axis=1)[:, samples.shape[1] // 2]  # (count, 3)
    for i in range(count):
        xy = np.rint(points[i, :int(segments[i]) + 1, ::-1]).astype(np.int32)  # (y, x) -> (x, y)
        cv2.polylines(canvas, [xy], False, (*map(float, median[i]), 1.0),
                      max(1, int(round(width[i]))), cv2.LINE_8)
    return canvas


def to_hint_layer(colors: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Model-space hint colors (H, W, 3) and mask (H, W, 1) -> an RGBA uint8 hint layer."""
    rgb = np.clip(np.rint((np.asarray(colors) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    alpha = (np.asarray(mask) > 0.5).astype(np.uint8) * 255
    return np.concatenate([rgb * (alpha > 0), alpha], axis=-1)


def simulated_hint_layer(color: np.ndarray, strokes: int, seed: int = 0,
                         recipe: StrokeRecipe = StrokeRecipe()) -> np.ndarray:
    """An RGBA hint layer of exactly `strokes` strokes simulated from a square uint8 color image
    (S, S, 3), as training simulates them (fixed seed: the same strokes for every model)."""
    color = tf.constant(color, tf.float32) / 127.5 - 1.0
    colors, mask = simulate_strokes(color, tf.constant([seed, strokes], tf.int64), recipe,
                                    count=strokes)
    return to_hint_layer(colors, mask)


HINT_CHANNELS = ("hint_r", "hint_g", "hint_b", "hint_mask")
FILL_CHANNELS = ("fill_r", "fill_g", "fill_b", "fill_mask")


class HintStrokes(Conditioning):
    """Experiment C (this project's extension): sketch, hint colors (RGB, 0 where unpainted) and a
    hint mask (1 where painted); strokes simulated from the ground truth in training, an artist's
    hint layer at use time. Unpainted means "no hint", not white. With `fill` (the default since
    issue #33), four more channels: the strokes' colors filled into the line-bounded regions of
    the sketch they are painted in, and where (`colorize.regions`), so that the generator is told
    how far a stroke's color reaches."""

    name = "C"
    description = "simulated highlighter strokes: hint colors and a hint mask"
    input_name = "sketch_and_hints"
    serving_input = "hints"
    serving_channels = 4
    pad_value = 0.0  # around the image: no hint
    page_note = "C run: the strokes are hints where they are painted."
    # the artist's model reads the line art people draw, and paints flat areas without the
    # transposed convolutions' checkerboard (docs/experiment-c.md measures both)
    sketch_styles = MIXED_STYLES
    upsample = "resize"
    # the same strokes give the same picture, as an artist painting hints expects (the app has
    # always shown this mode); and it measured 0.9-1.5 dB better than the paper's random test
    # mode on held-out faces (docs/experiment-c.md, "Round four")
    test_mode = "deterministic"
    Options = StrokeOptions

    def __init__(self, strokes: StrokeRecipe = StrokeRecipe(), region_share: float = 0.75,
                 fill: bool = True, fill_confidence: bool = False, fill_loss: float = 0.0,
                 early_mean: float = 0.0):
        self.strokes = strokes  # how training simulates them
        self.early_mean = early_mean  # the first epoch's mean count (0: the recipe's throughout)
        self.region_share = region_share  # ... and how many as a person paints them
        self.fill = fill  # whether the generator also gets the strokes filled into regions
        self.fill_confidence = fill_confidence  # ... with the regions' agreement as its mask
        self.fill_loss = fill_loss  # extra L1 weight where the fill reaches (training only)
        self.channels = HINT_CHANNELS + (FILL_CHANNELS if fill else ())  # after the sketch
        if fill:
            self.page_note = ("C run: the strokes are hints where they are painted, and each "
                              "one's color is offered to the region of the line art it is in.")

    def configured(self, options: StrokeOptions):
        """C with a run's strokes: --hint-free-share, --hint-mean-strokes, --hint-region-share,
        --hint-fill, --hint-fill-confidence, --hint-fill-loss, --hint-early-mean-strokes."""
        recipe = dataclasses.replace(self.strokes, p_none=options.hint_free_share,
                                     mean_count=options.hint_mean_strokes)
        mine = (recipe, options.hint_region_share, options.hint_fill,
                options.hint_fill_confidence, options.hint_fill_loss,
                options.hint_early_mean_strokes)
        if mine == (self.strokes, self.region_share, self.fill, self.fill_confidence,
                    self.fill_loss, self.early_mean):
            return self
        return HintStrokes(*mine)

    def for_epoch(self, epoch: int, epochs: int):
        """With `early_mean`, the curriculum: epoch 0 draws `early_mean` strokes on average,
        falling linearly to the recipe's mean by the middle epoch (epochs // 2), the recipe's
        after. Only the count changes; at use an artist's strokes are what they are."""
        half = epochs // 2
        if not self.early_mean or epoch >= half:
            return self
        mean = self.early_mean + (self.strokes.mean_count - self.early_mean) * epoch / half
        return HintStrokes(dataclasses.replace(self.strokes, mean_count=mean), self.region_share,
                           self.fill, self.fill_confidence, self.fill_loss)

    def variants(self):
        """C with and without the fill channels (runs before issue #33 have none)."""
        return (self, HintStrokes(self.strokes, self.region_share, not self.fill,
                                  self.fill_confidence))

    def training_input(self, example):
        """(S, S, 5): the sketch, then random strokes or, for `region_share` of the examples,
        strokes inside the line-bounded regions of the paper's sketch (`paper_sketch` where the
        input sketch is of another style), each in its region's color. With `fill`, (S, S, 9):
        and the strokes filled into the regions of the input sketch, as use fills an artist's
        (`complete`). Made in one numpy step per example (`_numpy_strokes`)."""
        color, seed = example["color"], example["seed"]
        made = dict(input_sketch=example["sketch"], fill=self.fill,
                    fill_confidence=self.fill_confidence)
        randomly = lambda: simulate_hints(color, seed, self.strokes, **made)
        if self.region_share <= 0.0:
            return randomly()
        paper = example.get("paper_sketch", example["sketch"])
        per_region = lambda: simulate_region_hints(color, paper, seed, self.strokes, **made)
        if self.region_share >= 1.0:
            return per_region()
        pick = tf.random.stateless_uniform(
            [], tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int64), 23))
        return tf.cond(pick < self.region_share, per_region, randomly)

    def l1_weights(self, inputs):
        """With `fill_loss`: 1 + fill_loss where the fill reaches (its mask), so that the colors
        the strokes give count more than those the model must guess."""
        if not self.fill_loss:
            return None
        mask = self.fill_at + 3  # the fill's colors, then its mask
        return 1.0 + self.fill_loss * tf.cast(inputs[..., mask:mask + 1], tf.float32)

    def user_input(self, shape, *, cue=None, hints=None, cue_sigma=None):
        if cue is not None:
            raise ColorizeError("an experiment-C model takes a hint layer (strokes on a "
                                "transparent layer), not a cue", reason="unsupported_condition")
        if hints is None:
            return np.zeros((1, 1, 4), np.uint8)  # nothing painted
        hints = check_rgba(hints)
        check_aspect(hints, shape, "hint layer")
        return hints

    def user_condition(self, image, height, width):
        """RGBA -> colors x mask and mask at (height, width): opaque pixels (alpha >= 128) are
        strokes; resized by area so that a stroke's color stays its own (no mixing with white)."""
        opaque = image[..., 3:] >= 128  # (h, w, 1)
        # (h, w, 4): colors in [-1, 1] and 1 where painted, 0 elsewhere, in one pass over all
        # four channels (slicing and joining channels costs more than the arithmetic at 1024 px)
        is_mask = tf.constant([False, False, False, True])
        values = tf.where(is_mask, 1.0, tf.cast(image, tf.float32) / 127.5 - 1.0)
        both = tf.image.resize(tf.where(opaque, values, 0.0), [height, width], antialias=True,
                               method="area")
        coverage = both[..., 3:]
        painted = tf.cast(coverage >= 0.5, tf.float32)
        colors = both[..., :3] / tf.maximum(coverage, 1e-6) * painted
        return tf.concat([colors, painted], axis=-1)

    def complete(self, condition, lines):
        """With `fill`: the strokes (h, w, 4) and their fill into the regions of the model's
        sketch `lines` (h, w, 1), computed in the graph (`regions.fill`)."""
        if not self.fill:
            return condition
        return tf.concat([condition, regions.fill(condition, lines, self.fill_confidence)],
                         axis=-1)

    def example_hints(self, example, strokes: int = 8, seed: int = 0):
        """A held-out example's hints: `strokes` strokes simulated from its colors, fixed seed."""
        return {"hints": simulated_hint_layer(example["color"], strokes, seed, self.strokes)}

    def grid_columns(self, inputs):
        inputs = np.asarray(inputs)
        mask = inputs[..., 4:5]
        shown = inputs[..., 1:4] * mask + (1.0 - mask)  # the strokes on white paper
        columns = [("sketch", inputs[..., :1]), ("hints", shown)]
        if self.fill:
            at = self.fill_at
            filled = inputs[..., at + 3:at + 4]
            columns.append(("hints filled", inputs[..., at:at + 3] * filled + (1.0 - filled)))
        return columns




# -- strokes a person paints: one inside each line-bounded region, in the region's own color -----

MIN_REGION = 24  # px at 256 px: smaller regions (specks between hatching lines) get no stroke


def line_regions(sketch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The line-bounded regions of a sketch (S, S) or (S, S, 1), ink below `regions.INK` (uint8
    0-255 or model space [-1, 1], by its dtype): (labels (S, S) int32, 0 on lines, stats
    (OpenCV's per-label x, y, w, h, area), distance of each pixel to the nearest line (float32)).

    The regions of `colorize.regions` (the fill's): the lines are first thickened by a 3x3
    dilation, which closes gaps of up to two pixels, so a region whose outline has a small gap
    does not leak into its neighbour.
    """
    free = regions.paper_np(sketch)
    labels, stats = regions.labels_np(sketch, free)
    dist = cv2.distanceTransform(free, cv2.DIST_L2, 3)
    return labels, stats, dist


def find_regions(sketch: np.ndarray) -> _Found:
    """`line_regions` of a sketch, kept with it (`_Found`)."""
    return _Found(sketch, *line_regions(sketch))


@functools.lru_cache(maxsize=2)
def _pixel_index(height: int, width: int) -> np.ndarray:
    """(height, width) read-only: each pixel's flat index. A region's pixels, in row-major order
    (as boolean indexing visits them), are `_pixel_index(...)[crop][mask]`: one boolean index,
    and the gathers and writes by flat index that follow are several times faster than boolean
    masks over crops of the picture (tests/test_experiment_c.py). Kept for the last two sizes
    (training's one; a user's pages can be large: 48 MB for 12 megapixels)."""
    index = np.arange(height * width, dtype=np.int32).reshape(height, width)
    index.flags.writeable = False
    return index


_T = np.linspace(0.0, 1.0, 9)[:, None]  # (9, 1): the points of a region stroke's curve
_BEZIER = ((1 - _T) ** 2, 2 * (1 - _T) * _T, _T ** 2)  # its quadratic Bezier weights


def _median_color(color: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """(3,): `np.median` of the colors (H, W, 3) at flat `pixels`, per channel, the same numbers in
    about a fifth of the time for a large region: each channel is partitioned once at the middle
    (numpy's median partitions twice for an even count), and the largest value below the middle
    is its other half (tests/test_experiment_c.py)."""
    values = np.take(color.reshape(-1, 3), pixels, axis=0).T.copy()  # (3, P)
    half = values.shape[1] // 2
    values.partition(half, axis=1)
    if values.shape[1] % 2:
        return values[:, half]
    return (values[:, :half].max(axis=1) + values[:, half]) / 2


@dataclasses.dataclass(frozen=True, eq=False)
class _Region:
    """What a region stroke needs of its region: its box (x, y, w, h), its pixels in the box
    (uint8 mask), its innermost point (x, y) in the box and that point's distance to the lines,
    its per-channel median color, and its pixels' covariance (2, 2) in (x, y)."""

    box: tuple[int, int, int, int]
    mask: np.ndarray
    centre: tuple[int, int]
    depth: np.float32
    color: np.ndarray
    cov: np.ndarray


def _region(color, found: _Found, index: np.ndarray, region: int) -> _Region:
    """`_Region` of label `region` of the regions `found`. The innermost point is the first
    maximum of the distance in row-major order (OpenCV's `minMaxLoc` under the mask, numpy's
    `argmax` rule, tests/test_experiment_c.py; one call instead of a masked copy and a search);
    the covariance comes from OpenCV's central moments."""
    x, y, w, h, _ = found.stats[region]
    inside = found.labels[y:y + h, x:x + w] == region  # (h, w)
    mask = inside.view(np.uint8)
    dist = found.dist[y:y + h, x:x + w]
    _, _, _, (cx, cy) = cv2.minMaxLoc(dist, mask)
    m = cv2.moments(mask, binaryImage=True)
    cov = (np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / (m["m00"] - 1.0)
           if m["m00"] > 2 else np.eye(2))
    return _Region((x, y, w, h), mask, (cx, cy), dist[cy, cx],
                   _median_color(color, index[y:y + h, x:x + w][inside]), cov)


def _region_curves(chosen: list[_Region], draws: np.ndarray, scale: float,
                   recipe: StrokeRecipe) -> tuple[np.ndarray, np.ndarray]:
    """Each region's stroke, all at once: a gentle curve through the region's innermost point
    along its long axis (the covariance's main eigenvector turned a little at random), `draws`
    (k, 4 uniforms) picking its length, width, bend and the turn: (curves (k, 9, 2) int32 as
    (x, y) in the regions' boxes, widths (k,) int)."""
    _, evecs = np.linalg.eigh(np.stack([region.cov for region in chosen]))  # (k, 2, 2)
    angle = np.arctan2(evecs[:, 1, -1], evecs[:, 0, -1]) + (draws[:, 3] - 0.5) * 0.8  # (k,)
    along = np.stack([np.cos(angle), np.sin(angle)], -1)  # (k, 2)
    across = np.stack([-along[:, 1], along[:, 0]], -1)
    length = (recipe.length[0] + draws[:, 0] * (recipe.length[1] - recipe.length[0])) * scale
    width = (recipe.width[0] + draws[:, 1] * (recipe.width[1] - recipe.width[0])) * scale
    depth = np.array([region.depth for region in chosen])
    widths = np.maximum(1, np.rint(np.minimum(width, 2.0 * depth))).astype(int)  # (k,)
    centre = np.array([region.centre for region in chosen], np.float32)  # (k, 2)
    bend = ((draws[:, 2] - 0.5) * 0.4 * length)[:, None]
    length = length[:, None]
    # a quadratic Bezier through three points (k, 1, 2): its ends and its middle
    p0, p1, p2 = (point[:, None] for point in (centre - along * length / 2, centre + across * bend,
                                               centre + along * length / 2))
    curve = _BEZIER[0] * p0 + _BEZIER[1] * (2 * p1 - (p0 + p2) / 2) + _BEZIER[2] * p2
    return np.rint(curve).astype(np.int32), widths


def draw_region_strokes(color: np.ndarray, sketch: np.ndarray, count: int, draws: np.ndarray,
                        largest_first: bool, recipe: StrokeRecipe = StrokeRecipe(),
                        found: _Found | None = None) -> np.ndarray:
    """(S, S, 4) float32 in color's units: `count` strokes, one per line-bounded region of
    `sketch`, each in its region's median color (mask 1 where painted), later strokes over
    earlier ones: a gentle curve through the region's innermost point along its long axis,
    clipped to the region (`_region_curves`). Regions of at least MIN_REGION px: the largest
    first, or drawn with probability in proportion to their area (Gumbel top-k on
    `draws[:, 0]`). draws: (max_count, 5) uniforms in [0, 1). A picture that is not square,
    (H, W), gets (H, W, 4), its strokes scaled with the long side. `found`: the sketch's regions
    (`find_regions`), where the caller has them.

    The regions are read, and the strokes' geometry computed, for all strokes at once, and the
    pixels read and written by flat index (`_pixel_index`): the same canvas as the plain
    per-stroke form in tests/test_experiment_c.py, in about two thirds of its time, fewer calls
    holding Python's lock (docs/performance.md)."""
    scale = max(color.shape[:2]) / 256.0
    canvas = np.zeros((*color.shape[:2], 4), np.float32)
    if count <= 0:
        return canvas
    found = find_regions(sketch) if found is None else found
    areas = found.stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    valid = np.nonzero(areas >= MIN_REGION * scale * scale)[0]
    if not len(valid):
        return canvas
    if largest_first:
        order = valid[np.argsort(-areas[valid], kind="stable")]
    else:
        u = np.resize(draws[:, 0], len(valid))  # (more regions than draws reuse them)
        gumbel = -np.log(-np.log(np.clip(u, 1e-9, 1 - 1e-9)))
        order = valid[np.argsort(-(np.log(areas[valid]) + gumbel), kind="stable")]
    index = _pixel_index(*canvas.shape[:2])
    chosen = [_region(color, found, index, region + 1) for region in order[:count]]
    curves, widths = _region_curves(chosen, draws[:len(chosen), 1:], scale, recipe)
    flat = canvas.reshape(-1, 4)
    for region, curve, width in zip(chosen, curves, widths):
        x, y, w, h = region.box
        stroke = np.zeros((h, w), np.uint8)
        cv2.polylines(stroke, [curve], False, 1, int(width), cv2.LINE_8)
        stroke &= region.mask
        stroke[region.centre[1], region.centre[0]] = 1  # at least the innermost point
        flat[index[y:y + h, x:x + w][stroke.view(bool)]] = (*region.color, 1.0)
    return canvas


def simulate_region_hints(color: tf.Tensor, sketch: tf.Tensor, seed: tf.Tensor,
                          recipe: StrokeRecipe = StrokeRecipe(), count: int | None = None,
                          largest_first: bool = False, input_sketch: tf.Tensor | None = None,
                          fill: bool = False, fill_confidence: bool = False) -> tf.Tensor:
    """Strokes as a person paints them, inside tf.data: (S, S, 4) hint colors and mask of the
    recipe's stroke count (or `count`), one per region of the paper's `sketch` (S, S, 1), in
    [-1, 1]; deterministic in `seed`. With an `input_sketch`, the generator input (S, S, 5)
    or with `fill` (S, S, 9), as `simulate_hints`."""
    size, n = color.shape[0], recipe.max_count
    drawn = stroke_count(seed, recipe) if count is None else tf.constant(float(min(count, n)))
    draws = tf.random.stateless_uniform(
        [max(n, 4 * n), 5], tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int64), 17))

    def draw(color, sketch, count, draws):
        found = find_regions(sketch) if count > 0 else None  # (none: an example without strokes)
        return draw_region_strokes(color, sketch, int(count), draws, bool(largest_first), recipe,
                                   found), found

    return _numpy_strokes(draw, [color, sketch, drawn, draws], size, input_sketch, fill,
                          fill_confidence)


def region_hint_layer(color: np.ndarray, sketch: np.ndarray, strokes: int, seed: int = 0,
                      recipe: StrokeRecipe = StrokeRecipe()) -> np.ndarray:
    """An RGBA hint layer of one stroke inside each of the `strokes` largest line-bounded regions
    of a sketch (H, W[, 1]) uint8, each in its region's median color of the uint8 color image
    (H, W, 3): the hint sweep's "one per region" protocol, what a person paints."""
    draws = np.random.default_rng([seed, strokes]).random((max(recipe.max_count, strokes) * 4, 5))
    hints = draw_region_strokes(np.asarray(color, np.float32), np.asarray(sketch), strokes, draws,
                                largest_first=True, recipe=recipe)
    return np.concatenate([np.rint(hints[..., :3]).astype(np.uint8) * (hints[..., 3:] > 0),
                           (hints[..., 3:] > 0).astype(np.uint8) * 255], axis=-1)
