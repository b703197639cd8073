"""The any-size method: colorize sketches of any size and aspect ratio with a square model.

In (`model_input`): the sketch and the cue are scaled to fit the model's S x S square with the
aspect ratio kept (long side = S), the sketch is re-binarized with the training recipe when the
model only ever saw the paper's binary threshold sketches (gray, anti-aliased or resized line art
is mapped back onto that distribution) or, for a model trained on several sketch styles, read as
drawn with its levels stretched from paper (white) to ink (black); both are centered on white
paper.

Out (`composite`): the content window of the output is cropped (no padding is ever shown) and
brought to the input's size in one of three ways (`LINES`; docs/inference.md measures them):
- "model": the generator's own picture, its lines included, upsampled (bicubic). At the model's
  size this is exactly the generator's output.
- "guided": two layers from the generator's picture, mixed at the input's resolution by the input
  sketch: flat colors (the model's lines painted over with the neighbouring paper colors) where the
  sketch is paper, the model's own line colors (paper painted over with the neighbouring line
  colors) where it has lines, in proportion to its darkness. Colored lines keep their color, and
  edges are as sharp as the input sketch instead of blurred by the upsampling.
- "keep": the artist's lines exactly: flat colors upsampled, and the input sketch laid over them
  with a "multiply" blend (color x sketch / 255), the way artists put line art over flat colors.
  Lines are as sharp and as dark as the input's, and black sketch pixels stay black. `layers`
  returns its layers too (the flat colors and the sketch's gray), for layered files.
"auto" (the default) decides per input, in the graph: "keep" for colored line art
(`is_colored_line_art`) unless the sketch is exactly S x S, and, for a model that reads line art
as drawn (`drawn`: trained on several sketch styles), for line art drawn in gray levels at any
size (`has_gray_lines`: pencil, scans, anti-aliased inking); else "model" when the sketch is not
resized (its long side is S) and "guided" when it is.

The sketch may be gray (H, W, 1) or RGB (H, W, 3) uint8; RGB is turned to gray in the graph
(`to_gray`, OpenCV's luma), so colored line art reaches "auto" with its colors. Everything is
TensorFlow ops on one image of dynamic height and width, so the Python API and the exported
SavedModel run the very same graph.
"""

from __future__ import annotations

import cv2
import numpy as np
import tensorflow as tf

from colorize.lines import LINES  # noqa: F401 (anysize.LINES: the ways of `composite`)

# How far colors reach when painting over the model's own lines (Gaussian sigma, model pixels):
# across a 1-3 px line, without mixing the colors of regions further apart.
FILL_SIGMA = 1.5
# OpenCV's COLOR_RGB2GRAY of uint8 images: (R, G, B) . weights / 2^15, rounded (fixed point)
GRAY_WEIGHTS = (9798, 19235, 3735)
PAPER = 224  # gray levels from here up are paper: the other pixels of a sketch are inked
COLORED_LINES_CHROMA = 24  # mean chroma (max - min of RGB) of the inked pixels of colored line art
MIN_INK = 0.001  # a sketch with fewer inked pixels than this share is blank, never colored
INK_BLACK = 32  # `has_gray_lines`: inked levels from here up (to PAPER) are gray, not black
PAPER_PERCENTILE = 0.9  # `paper_to_white`: this share of a sketch's pixels is at most paper
MIN_LINE_CONTRAST = 32.0  # `paper_to_white`: levels darker than the paper by this much are lines


def to_gray(sketch: tf.Tensor) -> tf.Tensor:
    """(H, W, 1) uint8 of a gray (H, W, 1) or RGB (H, W, 3) uint8 sketch: gray passes through,
    RGB is OpenCV's COLOR_RGB2GRAY pixel for pixel (`sketch.to_gray`)."""
    channels = tf.shape(sketch)[-1]

    def luma():
        # exact in float32: every product and sum is an integer below 2^24
        x = tf.cast(sketch, tf.float32)
        r, g, b = GRAY_WEIGHTS
        y = x[..., 0:1] * r + x[..., 1:2] * g + x[..., 2:3] * b
        return tf.cast(tf.floor((y + 2.0 ** 14) / 2.0 ** 15), tf.uint8)  # rounded, as OpenCV

    check = tf.debugging.assert_equal(
        tf.reduce_any(tf.equal(channels, [1, 3])), True,
        message="the sketch must be a gray (H, W, 1) or RGB (H, W, 3) uint8 image")
    with tf.control_dependencies([check]):
        gray = tf.cond(tf.equal(channels, 3), luma, lambda: sketch)
    return tf.ensure_shape(gray, [None, None, 1])


def is_colored_line_art(sketch: tf.Tensor) -> tf.Tensor:
    """Whether a (H, W, 1 or 3) uint8 sketch's inked pixels are colored rather than black or gray:
    a scalar bool, True for an RGB sketch whose inked pixels (gray below PAPER, at least MIN_INK of
    them) have a mean chroma of at least COLORED_LINES_CHROMA; a gray sketch never is.

    Measured on real illustrations (docs/inference.md), such line art keeps more of the picture
    with lines="keep" than with "guided" at sizes other than the model's.
    """

    def colored():
        inked, count, enough = _inked(to_gray(sketch))
        r, g, b = sketch[..., 0], sketch[..., 1], sketch[..., 2]
        chroma = tf.maximum(tf.maximum(r, g), b) - tf.minimum(tf.minimum(r, g), b)
        total = tf.reduce_sum(tf.where(inked, tf.cast(chroma, tf.int64), 0))
        # integers: mean chroma >= threshold exactly, whatever the number of inked pixels
        return enough & (total >= COLORED_LINES_CHROMA * count)

    return tf.cond(tf.equal(tf.shape(sketch)[-1], 3), colored, lambda: tf.constant(False))


def _inked(gray: tf.Tensor) -> tuple[tf.Tensor, ...]:
    """A gray (H, W, 1) uint8 sketch's inked pixels (below PAPER) as an (H, W) mask, their count
    (int64), and whether they are at least MIN_INK of the pixels (else the sketch is blank)."""
    inked = gray[..., 0] < PAPER
    count = tf.reduce_sum(tf.cast(inked, tf.int64))
    share = tf.cast(count, tf.float64) / tf.cast(tf.size(inked, tf.int64), tf.float64)
    return inked, count, share >= MIN_INK


def has_gray_lines(sketch: tf.Tensor) -> tf.Tensor:
    """Whether a (H, W, 1 or 3) uint8 sketch is drawn in gray levels rather than in black and
    white alone: a scalar bool, True when at least half of its inked pixels (gray below PAPER, at
    least MIN_INK of them) are gray (INK_BLACK or lighter).

    Pencil, scanned and anti-aliased line art is (77-100 % of the inked pixels of the 16 real
    sketches of ../shared/anime/lineart); the paper's threshold sketch and XDoG, binary, are not
    (0-1 %, saved as JPEG at quality 75 too). A model of several sketch styles draws such lines
    only faintly itself, so "auto" lays the sketch's own over its colors ("keep",
    docs/inference.md "Which lines: measured").
    """
    gray = to_gray(sketch)
    inked, count, enough = _inked(gray)
    light = tf.reduce_sum(tf.cast(inked & (gray[..., 0] >= INK_BLACK), tf.int64))
    return enough & (2 * light >= count)  # integers: exactly half or more


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


def halve_keeping_lines(gray: tf.Tensor, height, width) -> tf.Tensor:
    """A gray sketch (H, W, 1) halved by a 2x2 minimum (the darkest pixel wins) while it is at
    least 1.5 times (height, width), so that a resize to that size keeps its lines drawn.

    Line art drawn at 1000 px has 1-3 px lines; a plain antialiased resize to the model's 256 px
    fades them to light gray dashes, which neither look like the 1-2 px lines of training's
    sketches nor close the regions the strokes fill. A minimum halving keeps a 1 px line 1 px wide
    and as dark at every level (a mipmap of the ink)."""
    def halve(g):
        return [-tf.nn.max_pool2d(-g[None], 2, 2, "SAME")[0]]

    def large(g):
        shape = tf.cast(tf.shape(g), tf.float32)
        return (shape[0] >= 1.5 * tf.cast(height, tf.float32)) & (
            shape[1] >= 1.5 * tf.cast(width, tf.float32))

    return tf.while_loop(large, halve, [gray],
                         shape_invariants=[tf.TensorShape([None, None, 1])])[0]


def paper_to_white(gray: tf.Tensor) -> tf.Tensor:
    """An integer-valued gray sketch (h, w, 1) with its levels stretched as one does to a scanned
    drawing: the paper (the PAPER_PERCENTILE of its levels: line art is mostly paper) to white and
    its darkest pixel to black, linearly between. Tinted or dim paper then reads as the white
    paper of training, and faint pencil as the gray-to-black lines a model of several sketch styles
    trained on; a black-on-white sketch is unchanged."""
    values = tf.sort(tf.reshape(gray, [-1]))
    paper = values[tf.cast(tf.cast(tf.size(values) - 1, tf.float32) * PAPER_PERCENTILE, tf.int32)]
    # a sketch without lines darker than its paper by MIN_LINE_CONTRAST (blank paper, say) only
    # has its paper brought to white
    ink = tf.where(paper - values[0] >= MIN_LINE_CONTRAST, values[0], 0.0)
    stretched = (gray - ink) * 255.0 / tf.maximum(paper - ink, 1.0)
    return tf.round(tf.clip_by_value(stretched, 0.0, 255.0))


def model_input(sketch: tf.Tensor, condition: tf.Tensor, size: int, conditioning,
                block_size: int = 7, c: float = 2.0, binarize: bool = True) -> tf.Tensor:
    """Sketch (H, W, 1 or 3) and the experiment's condition image (h, w, k) uint8 -> the
    generator's (size, size, C) input in [-1, 1].

    binarize: the sketch is re-binarized by the paper's threshold (block_size, c), for a model
    trained on those sketches alone; else (a model trained on several sketch styles) it is read
    as drawn, gray levels and all, its levels stretched from paper to ink (`paper_to_white`).

    The condition is mapped onto the sketch's window by `conditioning.user_condition` (and
    completed by `conditioning.complete` from the model's sketch, C's strokes filled), so it may
    have any size (a 1x1 white cue is "no cue"); callers check that its aspect ratio matches.
    Around the window: white paper, and the conditioning's `pad_value`.
    """
    shape = tf.shape(sketch)
    h, w, top, left = fit(shape[0], shape[1], size)
    gray = tf.cast(to_gray(sketch), tf.float32)
    if not binarize:  # read as drawn: thin lines must reach the model's size still drawn
        gray = halve_keeping_lines(gray, h, w)
    gray = tf.image.resize(gray, [h, w], antialias=True)  # (h, w, 1)
    gray = tf.round(tf.clip_by_value(gray, 0.0, 255.0))  # what an 8-bit resize would give
    if binarize:
        lines = adaptive_threshold(gray, block_size, c) / 127.5 - 1.0  # (h, w, 1)
    else:
        lines = paper_to_white(gray) / 127.5 - 1.0
    cond = conditioning.user_condition(condition, h, w)  # (h, w, k)
    cond = conditioning.complete(cond, lines)  # (h, w, C - 1): and what the sketch adds
    paddings = [[top, size - h - top], [left, size - w - left], [0, 0]]
    x = tf.concat([tf.pad(lines, paddings, constant_values=1.0),  # white paper around the image
                   tf.pad(cond, paddings, constant_values=conditioning.pad_value)], axis=-1)
    return tf.ensure_shape(x, [size, size, conditioning.input_channels])


def fill_lines(colors: tf.Tensor, paper: tf.Tensor, sigma: float = FILL_SIGMA) -> tf.Tensor:
    """Replace the colors (H, W, 3) on line pixels (paper == 0) by the nearby paper pixels' colors.

    Normalized convolution: blur(colors x paper) / blur(paper). Line pixels with no paper within
    reach keep their own color (they lie under thick lines, which stay black anyway).
    """
    kernel = _gaussian_kernel(2 * int(np.ceil(3 * sigma)) + 1, sigma)
    weight = _separable(paper, kernel)
    spread = _separable(colors * paper, kernel) / tf.maximum(weight, 1e-6)
    return tf.where((paper > 0.5) | (weight < 1e-6), colors, spread)


def _upsample(image: tf.Tensor, shape) -> tf.Tensor:
    """(h, w, 3) -> (H, W, 3): bicubic, and exactly `image` when the size does not change.

    Antialiasing changes nothing but rounding when enlarging, and its kernel is much slower: so it
    is used only when shrinking. The two agree to one uint8 level (tests/test_infer.py)."""
    size = tf.shape(image)[:2]
    same = tf.reduce_all(tf.equal(size, shape))
    enlarge = tf.reduce_all(tf.greater_equal(shape, size))
    resize = lambda antialias: tf.image.resize(image, shape, method="bicubic", antialias=antialias)
    return tf.cond(same, lambda: image,
                   lambda: tf.cond(enlarge, lambda: resize(False), lambda: resize(True)))


def _to_uint8(unit: tf.Tensor) -> tf.Tensor:
    return tf.cast(tf.round(tf.clip_by_value(unit * 255.0, 0.0, 255.0)), tf.uint8)


def _window(inputs: tf.Tensor, outputs: tf.Tensor, sketch: tf.Tensor) -> tuple[tf.Tensor, ...]:
    """(gray (H, W, 1) uint8, its shape, h, w, the model's colors (h, w, 3) in [0, 1], its paper
    (h, w, 1): 1 paper, 0 line): the content window of the model's input and output."""
    size = inputs.shape[0]
    gray = to_gray(sketch)
    shape = tf.shape(gray)[:2]
    h, w, top, left = fit(shape[0], shape[1], size)
    colors = (tf.cast(outputs[top:top + h, left:left + w], tf.float32) + 1.0) / 2.0  # (h, w, 3)
    colors = tf.clip_by_value(colors, 0.0, 1.0)
    paper = (inputs[top:top + h, left:left + w, :1] + 1.0) / 2.0  # (h, w, 1): 1 paper, 0 line
    return gray, shape, h, w, colors, paper


def _ink(gray: tf.Tensor) -> tf.Tensor:
    """(H, W, 1) float: how dark the sketch is, 0 on white paper, 1 on black lines."""
    return 1.0 - tf.cast(gray, tf.float32) / 255.0


def _flat(colors: tf.Tensor, paper: tf.Tensor, shape) -> tf.Tensor:
    """"keep"'s flat colors (H, W, 3) in [0, 1]: the model's colors with its own lines painted
    over by the nearby paper colors, resized to the input's size."""
    return tf.image.resize(fill_lines(colors, paper), shape, antialias=True)


def layers(inputs: tf.Tensor, outputs: tf.Tensor, sketch: tf.Tensor) -> tuple[tf.Tensor, ...]:
    """Model input (S, S, C), output (S, S, 3) in [-1, 1], sketch (H, W, 1 or 3) uint8 -> the
    layers of "keep" at the sketch's size, uint8: the flat colors (H, W, 3), the sketch's gray
    (H, W, 1) that the multiply blend lays over them, and the "keep" picture (H, W, 3), flat x
    gray / 255 (the very picture of `composite(..., lines="keep")`)."""
    gray, shape, _, _, colors, paper = _window(inputs, outputs, sketch)
    flat = _flat(colors, paper, shape)
    return _to_uint8(flat), gray, _to_uint8(flat * (1.0 - _ink(gray)))


def reach(inputs: tf.Tensor, sketch: tf.Tensor, fill_at: int) -> tf.Tensor:
    """Model input (S, S, C) whose channels fill_at..fill_at + 3 are the strokes' fill (colors in
    [-1, 1], then its mask), sketch (H, W, 1 or 3) uint8 -> (H, W, 3) uint8: where the strokes'
    colors reach, as the generator is told. The fill's colors where its mask is (blended towards
    white where the mask says the strokes disagree), white paper elsewhere, enlarged to the
    sketch's size by nearest neighbour (a region keeps its edge) under the sketch's lines laid
    over by a multiply blend. A region flooded through an open outline shows as one color."""
    gray = to_gray(sketch)
    shape = tf.shape(gray)[:2]
    h, w, top, left = fit(shape[0], shape[1], inputs.shape[0])
    fill = inputs[top:top + h, left:left + w, fill_at:fill_at + 4]  # (h, w, 4)
    mask = fill[..., 3:]
    view = (fill[..., :3] + 1.0) / 2.0 * mask + (1.0 - mask)  # (h, w, 3) in [0, 1]
    view = tf.image.resize(view, shape, method="nearest")  # (H, W, 3)
    return _to_uint8(view * (1.0 - _ink(gray)))


def composite(inputs: tf.Tensor, outputs: tf.Tensor, sketch: tf.Tensor,
              lines: str = "auto", drawn: bool = False) -> tf.Tensor:
    """Model input (S, S, C), output (S, S, 3) in [-1, 1], sketch (H, W, 1 or 3) uint8 ->
    (H, W, 3) uint8, in the way `lines` (one of LINES; the caller checks it). `drawn`: the model
    reads line art as drawn (`model_input`'s binarize=False), which "auto" takes into account."""
    size = inputs.shape[0]
    gray, shape, h, w, colors, paper = _window(inputs, outputs, sketch)

    def ink():  # (H, W, 1): how dark the input sketch is. Made in each way's own branch, so that
        # Grappler rounds a way chosen by "auto" exactly as the way chosen by name
        return _ink(gray)

    def keep():
        return _to_uint8(_flat(colors, paper, shape) * (1.0 - ink()))  # multiply blend

    def guided():
        dark = ink()
        flat = _upsample(fill_lines(colors, paper), shape)  # the model's colors without its lines
        line_colors = _upsample(fill_lines(colors, 1.0 - paper), shape)  # ... and of its lines
        return _to_uint8(flat * (1.0 - dark) + line_colors * dark)

    ways = {"model": lambda: _to_uint8(_upsample(colors, shape)), "keep": keep, "guided": guided}
    if lines != "auto":
        return ways[lines]()
    resized = tf.logical_not(tf.logical_and(tf.equal(h, shape[0]), tf.equal(w, shape[1])))
    square = tf.reduce_all(tf.equal(shape, size))  # exactly S x S: colored lines get "model" too
    kept = tf.logical_and(tf.logical_not(square), is_colored_line_art(sketch))
    if drawn:  # gray line art at any size: the model of several styles draws its lines faintly
        kept = tf.logical_or(kept, has_gray_lines(gray))
    return tf.cond(kept, keep, lambda: tf.cond(resized, guided, ways["model"]))
