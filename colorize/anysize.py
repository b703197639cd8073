"""The any-size method: colorize sketches of any size and aspect ratio with a square model.

In (`model_input`): the sketch and the cue are scaled to fit the model's S x S square with the
aspect ratio kept (long side = S), the sketch is re-binarized with the training recipe (the model
only ever saw binary sketches from an adaptive Gaussian threshold, so gray, anti-aliased or resized
line art is mapped back onto that distribution), and both are centered on white paper.

Out (`composite`): the content window of the output is cropped (no padding is ever shown), the
model's own low-resolution lines are painted over with the neighbouring colors, the flat colors are
upsampled to the input's size, and the input sketch is laid over them at its own resolution with a
"multiply" blend (color x sketch / 255), the way artists put line art over flat colors. So only the
colors are resized: the lines are exactly the input's, as sharp and as dark, and black sketch pixels
stay black.

Everything is TensorFlow ops on one image of dynamic height and width, so the Python API and the
exported SavedModel run the very same graph.
"""

from __future__ import annotations

import cv2
import numpy as np
import tensorflow as tf

# How far colors reach when painting over the model's own lines (Gaussian sigma, model pixels):
# across a 1-3 px line, without mixing the colors of regions further apart.
FILL_SIGMA = 1.5


def fit(height: tf.Tensor, width: tf.Tensor, size: int) -> tuple[tf.Tensor, ...]:
    """(h, w, top, left): the image scaled to fit size x size with its aspect ratio, centered."""
    long_side = tf.cast(tf.maximum(height, width), tf.float32)
    scale = size / long_side
    h = tf.maximum(1, tf.cast(tf.round(tf.cast(height, tf.float32) * scale), tf.int32))
    w = tf.maximum(1, tf.cast(tf.round(tf.cast(width, tf.float32) * scale), tf.int32))
    return h, w, (size - h) // 2, (size - w) // 2


def _gaussian_kernel(ksize: int, sigma: float) -> tf.Tensor:
    """OpenCV's 1-D Gaussian kernel (its fixed tables for small odd sizes when sigma <= 0)."""
    return tf.constant(cv2.getGaussianKernel(ksize, sigma).ravel(), tf.float32)


def _separable(image: tf.Tensor, kernel: tf.Tensor, padding: str = "SAME") -> tf.Tensor:
    """Convolve each channel of (H, W, C) with `kernel` along both axes."""
    channels = tf.shape(image)[-1]
    k = tf.size(kernel)
    rows = tf.tile(tf.reshape(kernel, [k, 1, 1, 1]), [1, 1, channels, 1])  # (k, 1, C, 1)
    cols = tf.tile(tf.reshape(kernel, [1, k, 1, 1]), [1, 1, channels, 1])  # (1, k, C, 1)
    x = tf.nn.depthwise_conv2d(image[None], rows, [1, 1, 1, 1], padding)
    return tf.nn.depthwise_conv2d(x, cols, [1, 1, 1, 1], padding)[0]


def _replicate_pad(image: tf.Tensor, r: int) -> tf.Tensor:
    """Pad (H, W, C) by `r` pixels per side with copies of the edge (OpenCV BORDER_REPLICATE)."""
    image = tf.concat([tf.repeat(image[:1], r, 0), image, tf.repeat(image[-1:], r, 0)], 0)
    return tf.concat([tf.repeat(image[:, :1], r, 1), image, tf.repeat(image[:, -1:], r, 1)], 1)


def adaptive_threshold(gray: tf.Tensor, block_size: int = 7, c: float = 2.0) -> tf.Tensor:
    """`cv2.adaptiveThreshold` (Gaussian, binary) of an integer-valued (H, W, 1) image: 0 or 255.

    Paper where the pixel exceeds its rounded Gaussian-weighted neighbourhood mean minus ceil(c),
    OpenCV's exact rule, so `sketch.sketchify` and this agree pixel for pixel.
    """
    r = block_size // 2
    mean = _separable(_replicate_pad(gray, r), _gaussian_kernel(block_size, 0), "VALID")
    return tf.where(gray > tf.round(mean) - float(np.ceil(c)), 255.0, 0.0)


def model_input(sketch: tf.Tensor, cue: tf.Tensor, size: int, block_size: int = 7,
                c: float = 2.0) -> tf.Tensor:
    """Sketch (H, W, 1) and cue (h, w, 3) uint8 -> the generator's (size, size, 4) input in [-1, 1].

    The cue is stretched onto the sketch's window, so it may have any size (a 1x1 white cue is the
    experiment-A cue); callers check that its aspect ratio matches.
    """
    shape = tf.shape(sketch)
    h, w, top, left = fit(shape[0], shape[1], size)
    gray = tf.image.resize(tf.cast(sketch, tf.float32), [h, w], antialias=True)  # (h, w, 1)
    gray = tf.round(tf.clip_by_value(gray, 0.0, 255.0))  # what an 8-bit resize would give
    lines = adaptive_threshold(gray, block_size, c)
    cue = tf.image.resize(tf.cast(cue, tf.float32), [h, w], antialias=True)  # (h, w, 3)
    x = tf.concat([lines, cue], axis=-1) / 127.5 - 1.0  # (h, w, 4)
    paddings = [[top, size - h - top], [left, size - w - left], [0, 0]]
    x = tf.pad(x, paddings, constant_values=1.0)  # white paper and white cue around the image
    return tf.ensure_shape(x, [size, size, 4])


def fill_lines(colors: tf.Tensor, paper: tf.Tensor, sigma: float = FILL_SIGMA) -> tf.Tensor:
    """Replace the colors (H, W, 3) on line pixels (paper == 0) by the nearby paper pixels' colors.

    Normalized convolution: blur(colors x paper) / blur(paper). Line pixels with no paper within
    reach keep their own color (they lie under thick lines, which stay black anyway).
    """
    kernel = _gaussian_kernel(2 * int(np.ceil(3 * sigma)) + 1, sigma)
    weight = _separable(paper, kernel)
    spread = _separable(colors * paper, kernel) / tf.maximum(weight, 1e-6)
    return tf.where((paper > 0.5) | (weight < 1e-6), colors, spread)


def composite(inputs: tf.Tensor, outputs: tf.Tensor, sketch: tf.Tensor) -> tf.Tensor:
    """Model input (S, S, 4), output (S, S, 3) in [-1, 1], sketch (H, W, 1) -> (H, W, 3) uint8."""
    size = inputs.shape[0]
    shape = tf.shape(sketch)
    h, w, top, left = fit(shape[0], shape[1], size)
    colors = (tf.cast(outputs[top:top + h, left:left + w], tf.float32) + 1.0) / 2.0  # (h, w, 3)
    paper = (inputs[top:top + h, left:left + w, :1] + 1.0) / 2.0  # (h, w, 1): 1 paper, 0 line
    colors = fill_lines(tf.clip_by_value(colors, 0.0, 1.0), paper)
    colors = tf.image.resize(colors, shape[:2], antialias=True)  # (H, W, 3): only colors resized
    rgb = colors * tf.cast(sketch, tf.float32)  # multiply blend, in 0..255
    return tf.cast(tf.round(tf.clip_by_value(rgb, 0.0, 255.0)), tf.uint8)
