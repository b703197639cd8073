"""Line-bounded regions of a sketch, and the paint-bucket fill of hint strokes into them.

A region is a 4-connected set of paper pixels after the lines (ink: darker than INK, three quarters
of the way from black to white, so that faint and anti-aliased pencil lines still close their
regions; binary sketches are cut the same at any level) are thickened by a 3x3 dilation, which
closes gaps of up to two pixels, so a region whose outline has a small gap does not leak into its
neighbour.

The fill (experiment C's "where a stroke's color reaches"): every region that a stroke touches
takes the mean color of the stroke pixels painted in it, as a paint bucket would; the others stay
unfilled. Its mask is 1 in the touched regions, or with `confidence` how much the region's strokes
agree: exp(-spread / SPREAD), the spread being the summed per-channel variance of the region's
painted colors, so that a region whose outline leaks and that holds strokes of several colors
(their mean is mud) says so (1 for one color). Two forms, equal to float rounding
(tests/test_regions.py):
- `fill` / `labels`: TensorFlow ops on one image of dynamic size, which use runs (the Python API,
  the app, the exported SavedModel);
- `fill_np` / `labels_np`: OpenCV's connected components, which training runs inside tf.data
  (several times faster per example), and the reference the graph form is proven against.

The graph labels regions as Shiloach and Vishkin's parallel connected components do: each paper
pixel starts with its own index as label; each step takes the largest label among a pixel and its
4 neighbours, hooks the pixel the label points at onto it, and follows labels to the labels they
point at (pointer jumping), until nothing changes: one label per region, the largest index in it,
the same partition as OpenCV's. Faces at 256 px take 5-6 steps (plain propagation: 30-330).
"""

from __future__ import annotations

import cv2
import numpy as np
import tensorflow as tf

JUMPS = 2  # pointer jumps per step of `labels`
# ink: model-space levels below this (uint8 below 191.25). At the middle gray, faint pencil lines
# (gray 130-190 after `anysize.paper_to_white`) let a region leak into the next: on the shared
# real line art, resized plainly to 256 px, one region held 82-98 % of 14 of the 16 sketches
# (docs/experiment-c.md, "Real line art's regions").
INK = 0.5
# the fill's confidence: exp(-spread / SPREAD); two equal strokes 0.1 apart in every channel of
# model space (a shade) keep 0.69, skin and hair (about 1 apart) under 1e-4
SPREAD = 0.02


def ink_np(sketch: np.ndarray) -> np.ndarray:
    """(S, S) uint8, 1 on the lines of a sketch (S, S[, 1]) in uint8 0-255 or model space
    [-1, 1] (by its dtype): darker than INK."""
    sketch = np.asarray(sketch)
    sketch = sketch[..., 0] if sketch.ndim == 3 else sketch
    return (sketch < (INK if sketch.dtype.kind == "f" else (INK + 1.0) * 127.5)).astype(np.uint8)


def paper_np(sketch: np.ndarray) -> np.ndarray:
    """(S, S) uint8, 1 on region pixels (paper away from the lines: `ink_np` dilated 3x3)."""
    return 1 - cv2.dilate(ink_np(sketch), np.ones((3, 3), np.uint8))


def labels_np(sketch: np.ndarray, paper: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's regions of a sketch: (labels (S, S) int32, 0 on lines; stats, OpenCV's per-label
    x, y, w, h, area). `paper`: the sketch's `paper_np`, where the caller has it already."""
    paper = paper_np(sketch) if paper is None else paper
    _, labels, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    return labels, stats


def fill_np(hints: np.ndarray, sketch: np.ndarray, confidence: bool = False,
            labels: np.ndarray | None = None) -> np.ndarray:
    """(S, S, 4) float32: hint colors and mask (S, S, 4) filled into the regions of `sketch`, each
    touched region its strokes' mean color, mask 1 there or its `confidence` (the reference form
    of `fill`). `labels`: the sketch's `labels_np`, where the caller has them."""
    painted = hints[..., 3] > 0.5
    if not painted.any():  # nothing to fill (a quarter of C's training examples)
        return np.zeros(hints.shape[:2] + (4,), np.float32)
    if labels is None:
        count, labels = cv2.connectedComponents(paper_np(sketch), connectivity=4)
    else:
        count = int(labels.max()) + 1
    flat = np.flatnonzero(painted)  # (P,): gathers by flat index are several times faster
    index = labels.reshape(-1)[flat]  # than boolean masks; the same values in the same order
    values = np.take(hints.reshape(-1, 4), flat, axis=0)  # (P, 4)
    pixels = np.bincount(index, minlength=count)
    table = np.zeros((count, 4), np.float32)  # per region: mean stroke color, and 1 if touched
    spread = np.zeros(count, np.float32)  # ... and its strokes' summed per-channel variance
    for c in range(3):
        channel = values[:, c]
        table[:, c] = np.bincount(index, channel, count) / np.maximum(pixels, 1)
        if confidence:
            spread += np.bincount(index, channel * channel, count) / np.maximum(pixels, 1) \
                - table[:, c] ** 2
    table[:, 3] = (pixels > 0) * (np.exp(-np.maximum(spread, 0.0) / SPREAD) if confidence else 1)
    table[0] = 0.0  # label 0: the lines, never filled
    table[:, :3] *= pixels[:, None] > 0
    return np.take(table, labels, axis=0)  # (S, S, 4); `table[labels]`: 10-25 times longer


def _paper(sketch: tf.Tensor) -> tf.Tensor:
    """(H, W) bool: region pixels of a model-space sketch (H, W, 1) (`paper_np`'s rule)."""
    ink = tf.cast(sketch[..., 0] < INK, tf.float32)[None, ..., None]
    thick = tf.nn.max_pool2d(ink, 3, 1, "SAME")[0, ..., 0]  # the 3x3 dilation
    return thick < 0.5


def labels(sketch: tf.Tensor) -> tf.Tensor:
    """(H, W) int32 region labels of a model-space sketch (H, W, 1): 0 on lines, else the largest
    1-based flat index in the pixel's region (the same partition as `labels_np`)."""
    paper = _paper(sketch)
    shape = tf.shape(paper)
    start = tf.where(paper, tf.reshape(tf.range(1, shape[0] * shape[1] + 1), shape), 0)

    def step(current, _):
        # a label is the 1-based index of a pixel of the same region, at least the pixel's own
        padded = tf.pad(current, [[1, 1], [1, 1]])
        largest = tf.where(paper, tf.reduce_max(tf.stack(
            [current, padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]),
            0), 0)  # (H, W): the largest label among the pixel and its 4 neighbours
        # hook: the pixel each label points at takes the largest label next to any pixel
        # pointing at it (table[L]: the label of pixel L - 1; table[0] = 0, the lines)
        table = tf.concat([[0], tf.reshape(current, [-1])], 0)
        table = tf.tensor_scatter_nd_max(table, tf.reshape(current, [-1, 1]),
                                         tf.reshape(largest, [-1]))
        merged = tf.maximum(tf.gather(table, current), largest)
        for _ in range(JUMPS):  # pointer jumping: follow labels to the labels they point at
            merged = tf.gather(tf.concat([[0], tf.reshape(merged, [-1])], 0), merged)
        return merged, tf.reduce_any(tf.not_equal(merged, current))

    # at a fixed point no neighbour has a larger label: one label per region
    final, _ = tf.while_loop(lambda _, changed: changed, step, [start, tf.constant(True)])
    return final


def fill(hints: tf.Tensor, sketch: tf.Tensor, confidence: bool = False) -> tf.Tensor:
    """Hint colors and mask (H, W, 4) in model space, filled into the regions of the model-space
    sketch (H, W, 1): (H, W, 4), each touched region its strokes' mean color, mask 1 there or
    its `confidence`."""
    regions = tf.reshape(labels(sketch), [-1])
    count = tf.size(regions) + 1
    flat = tf.reshape(hints, [-1, 4])
    painted = tf.cast(flat[:, 3:] > 0.5, tf.float32)  # (N, 1)
    colors = flat[:, :3] * painted
    sums = tf.math.unsorted_segment_sum(  # (N + 1, 4 or 7): colors, pixels (and squares)
        tf.concat([colors, painted] + ([colors * colors] if confidence else []), -1),
        regions, count)
    touched = tf.cast((sums[:, 3:4] > 0.0) & (tf.range(count)[:, None] > 0), tf.float32)
    pixels = tf.maximum(sums[:, 3:4], 1.0)
    mean = sums[:, :3] / pixels
    if confidence:
        spread = tf.reduce_sum(sums[:, 4:] / pixels - mean * mean, -1, keepdims=True)
        sure = tf.exp(-tf.maximum(spread, 0.0) / SPREAD)
    else:
        sure = tf.ones_like(touched)
    table = tf.concat([mean, sure], -1)
    return tf.reshape(tf.gather(table * touched, regions), tf.shape(hints))
