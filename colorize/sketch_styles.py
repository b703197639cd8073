"""Sketch styles: the kinds of line art a model trains on, each made from the colored picture.

The paper's sketch is an adaptive threshold (block 7, C 2) of the colored picture itself: it marks
the dark side of every color and shading edge and keeps textures, so a model trained on it alone
reads color information no artist's line art carries. Line art people draw is clean lines,
pencil or ink, black, gray or colored. Colorizers artists use train on several extractors for
this reason (Tag2Pix: sketchKeras, XDoG and simplification; AlacGAN: one of three per example;
PaintsChainer: two, and binarization). The styles here, all TensorFlow ops on one image so that
tf.data draws them per example (and a test proves them equal eagerly and inside tf.data):

- "threshold": the paper's sketch, as the builder stored it (this module does not make it);
- "xdog": eXtended difference of Gaussians (Winnemoeller et al. 2012) with the field's settings,
  sigma drawn in 0.3-0.5 px (at 256 px and below; scaled up with larger images), k 4.5, tau 0.95,
  epsilon -0.1, phi 1e9 (binary);
- "lines": drawn lines only: thin dark strokes, found as a morphological black-hat (a gray
  closing minus the picture), which is high on lines narrower than its 5x5 element and zero on
  flat regions, on the far side of a color or shading edge and inside dark areas (no shading, no
  color edges, single lines);
- "pencil": soft gray lines on tinted, grainy paper, not binarized (a continuous black-hat),
  kept out of every default training mix so that the style sweep always shows a style the run
  never saw.

Every drawn style but the threshold then gets the variations artists' line art has
(`vary`): line width (thinner or thicker by a 3x3 erosion or dilation), darkness (gray lines) and
anti-aliasing (a slight blur) versus binary.

Sketches are (S, S, 1) float32 in [-1, 1]: -1 line, 1 paper, as the model sees them.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import tensorflow as tf

STYLES = ("threshold", "xdog", "lines", "pencil")
PAPER_STYLE = "threshold:1"  # the paper's recipe: A and B, the reproduction
# C's default mix ("pencil" held out): 4/5 the paper's threshold, which measured better on it than
# a third, a half or 3/5 (and, in the deterministic test mode, as good as a threshold-only run),
# at about the same on the other styles (docs/experiment-c.md)
MIXED_STYLES = "threshold:8,xdog:1,lines:1"

# XDoG, the field's settings (Tag2Pix, AlacGAN)
XDOG_SIGMA = (0.3, 0.5)
XDOG_K, XDOG_TAU, XDOG_EPSILON, XDOG_PHI = 4.5, 0.95, -0.1, 1e9
# "lines": the black-hat's element (at 256 px) and how much darker than its surroundings a
# pixel must be to be a line
LINES_ELEMENT = 5
LINES_CONTRAST = 0.12


def parse(spec: str) -> tuple[tuple[str, float], ...]:
    """'threshold:1,xdog:2' (a bare name weighs 1) -> ((name, weight), ...) in STYLES order, with
    positive weights; ValueError naming the problem."""
    weights: dict[str, float] = {}
    for part in (p.strip() for p in str(spec).split(",")):
        if not part:
            continue
        name, _, weight = part.partition(":")
        name = name.strip()
        if name not in STYLES:
            raise ValueError(f"unknown sketch style {name!r} (styles: {', '.join(STYLES)})")
        try:
            value = float(weight) if weight.strip() else 1.0
        except ValueError:
            raise ValueError(f"sketch style {name}: weight {weight!r} is not a number") from None
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"sketch style {name}: weight must be positive, not {weight}")
        if name in weights:
            raise ValueError(f"sketch style {name} given twice")
        weights[name] = value
    if not weights:
        raise ValueError("no sketch style given")
    return tuple((name, weights[name]) for name in STYLES if name in weights)


def canonical(spec: str) -> str:
    """The one spelling of a style mix: 'threshold:1,xdog:1' (STYLES order, weights as %g)."""
    return ",".join(f"{name}:{weight:g}" for name, weight in parse(spec))


def only_threshold(spec: str) -> bool:
    """Whether a mix is the paper's threshold alone (its users' line art is binarized the same
    way before the model sees it)."""
    return [name for name, _ in parse(spec)] == ["threshold"]


# -- building blocks (one image (S, S, C), float32) ----------------------------------------------

def _gray(color: tf.Tensor) -> tf.Tensor:
    """(S, S, 3) in [-1, 1] -> (S, S, 1) luma in [0, 1] (OpenCV's RGB2GRAY weights)."""
    unit = (color + 1.0) / 2.0
    return tf.reduce_sum(unit * tf.constant([0.299, 0.587, 0.114]), axis=-1, keepdims=True)


def _gaussian_blur(image: tf.Tensor, sigma: tf.Tensor, radius: int) -> tf.Tensor:
    """(S, S, 1) blurred by a Gaussian of (tensor) `sigma`, `radius` taps per side, edges
    reflected."""
    x = tf.range(-radius, radius + 1, dtype=tf.float32)
    kernel = tf.exp(-0.5 * tf.square(x / sigma))
    kernel /= tf.reduce_sum(kernel)
    padded = tf.pad(image[None], [[0, 0], [radius, radius], [radius, radius], [0, 0]], "REFLECT")
    rows = tf.nn.conv2d(padded, tf.reshape(kernel, [-1, 1, 1, 1]), 1, "VALID")
    return tf.nn.conv2d(rows, tf.reshape(kernel, [1, -1, 1, 1]), 1, "VALID")[0]


def _dilate(image: tf.Tensor, size: int) -> tf.Tensor:
    """Gray dilation (the maximum) over a size x size square, (S, S, C)."""
    return tf.nn.max_pool2d(image[None], size, 1, "SAME")[0]


def _erode(image: tf.Tensor, size: int) -> tf.Tensor:
    return -_dilate(-image, size)


def _black_hat(gray: tf.Tensor, size: int) -> tf.Tensor:
    """Closing minus the image: how much darker each pixel is than the structures around it, high
    on dark features narrower than size x size only."""
    return _erode(_dilate(gray, size), size) - gray


def _size(image: tf.Tensor) -> int:
    """The size (S) that the styles' pixel scales follow: the long side, so that a user's picture
    of any aspect ratio gets a 256 px square's lines at the same relative width."""
    return max(image.shape[0], image.shape[1])


def _element(image_size: int) -> int:
    """The black-hat's element at this size: 5 at 256 px, odd, at least 3."""
    return max(3, int(round(LINES_ELEMENT * image_size / 256.0)) | 1)


DRAWS = 16  # uniforms per example and seed: the styles' and the variations' random choices


def _draws(seed) -> tf.Tensor:
    """(DRAWS,) uniforms in [0, 1) of a stateless seed: every random choice of one style (or of
    `vary`) is one of them, so that the OpenCV form gets the very same choices (`_fast`)."""
    return tf.random.stateless_uniform([DRAWS], seed)


def _ranged(u, lo: float, hi: float):
    """A uniform in [0, 1) -> [lo, hi), in float32 (the same in TensorFlow and numpy)."""
    return u * (np.float32(hi) - np.float32(lo)) + np.float32(lo)


def _uniform(seed, i: int, lo: float = 0.0, hi: float = 1.0) -> tf.Tensor:
    return _ranged(_draws(seed)[i], lo, hi)


# -- the styles ----------------------------------------------------------------------------------

def xdog(color: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """XDoG line art of a color image (S, S, 3) in [-1, 1]: (S, S, 1) in {-1, 1}.

    D = G_sigma * g - tau G_{k sigma} * g on the gray g in [0, 1]; paper where D >= epsilon, else
    1 + tanh(phi (D - epsilon)), which phi = 1e9 makes 0 (ink). sigma is drawn per example.
    """
    # scaled up with images larger than 256 px, never down: at 0.3 px the two blurs barely differ
    # already, and smaller ones would leave nothing but paper
    scale = max(1.0, _size(color) / 256.0)
    sigma = _uniform(seed, 0, *XDOG_SIGMA) * scale
    radius = max(1, int(math.ceil(3 * XDOG_SIGMA[1] * XDOG_K * scale)))
    gray = _gray(color)
    d = _gaussian_blur(gray, sigma, radius) - XDOG_TAU * _gaussian_blur(gray, XDOG_K * sigma, radius)
    e = tf.where(d >= XDOG_EPSILON, 1.0, 1.0 + tf.tanh(XDOG_PHI * (d - XDOG_EPSILON)))
    return tf.clip_by_value(e, 0.0, 1.0) * 2.0 - 1.0


def lines(color: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Drawn lines only: (S, S, 1) in {-1, 1}, ink where the black-hat exceeds LINES_CONTRAST
    (its threshold jittered by +-25 % per example)."""
    contrast = LINES_CONTRAST * _uniform(seed, 1, 0.75, 1.25)
    ink = _black_hat(_gray(color), _element(_size(color))) > contrast
    return tf.where(ink, -1.0, 1.0)


def pencil(color: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Soft gray pencil lines on tinted, grainy paper: (S, S, 1) in [-1, 1], not binary.

    Ink is the black-hat scaled (x 2.5-4) and clipped, at 55-85 % darkness; the paper is 85-97 %
    white with grain (Gaussian noise, 2 %); a slight blur softens the strokes.
    """
    size = _size(color)
    strength = tf.clip_by_value(_black_hat(_gray(color), _element(size)) * _uniform(seed, 2, 2.5, 4.0),
                                0.0, 1.0)
    paper = _uniform(seed, 3, 0.85, 0.97)
    grain = 0.02 * tf.random.stateless_normal(
        [color.shape[0], color.shape[1], 1], tf.random.experimental.stateless_fold_in(seed, 4))
    value = paper * (1.0 - strength * _uniform(seed, 5, 0.55, 0.85)) + grain
    value = _gaussian_blur(value, tf.constant(0.6 * size / 256.0), max(1, int(round(2 * size / 256))))
    return tf.clip_by_value(value, 0.0, 1.0) * 2.0 - 1.0


def vary(sketch: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Line art's variations, each drawn per example: width (15 % thicker by a 3x3 dilation of
    the ink, 15 % thinner by a 3x3 erosion that keeps every line at least where it was darkest),
    darkness (30 %: lines at 0-50 % gray) and anti-aliasing (40 %: a 0.5-0.8 px blur)."""
    size = sketch.shape[0]

    def thinner():  # the ink's erosion (paper, the maximum, spreads one pixel), but lines
        # narrower than 3 px, which it would erase, stay as they are (where the ink's opening,
        # which has no ink narrower than 3 px, lost them)
        opened = _erode(_dilate(sketch, 3), 3)
        return tf.minimum(_dilate(sketch, 3), tf.where(opened > sketch, sketch, 1.0))

    width = _uniform(seed, 10)  # only the drawn variation is computed (switch_case, cond)
    which = tf.where(width < 0.15, 0, tf.where(width > 0.85, 1, 2))
    x = tf.switch_case(which, [lambda: _erode(sketch, 3),  # ink (the minimum) spreads one pixel
                               thinner, lambda: sketch])
    gray_level = _uniform(seed, 11, 0.0, 0.5) * 2.0 - 1.0  # the lines' value in [-1, 0]
    x = tf.where(_uniform(seed, 12) < 0.3, tf.maximum(x, gray_level), x)
    sigma = _uniform(seed, 13, 0.5, 0.8) * size / 256.0
    x = tf.cond(_uniform(seed, 14) < 0.4,
                lambda: _gaussian_blur(x, sigma, max(1, int(round(2 * size / 256)))), lambda: x)
    return tf.ensure_shape(tf.clip_by_value(x, -1.0, 1.0), sketch.shape)


MAKERS = {"xdog": xdog, "lines": lines, "pencil": pencil}


def make(style: str, color: tf.Tensor, seed: tf.Tensor, stored: tf.Tensor | None = None,
         variations: bool = False) -> tf.Tensor:
    """The sketch (S, S, 1) in [-1, 1] of one style for a color image (S, S, 3) in [-1, 1];
    "threshold" is the `stored` sketch. With `variations`, drawn styles get `vary`."""
    if style == "threshold":
        if stored is None:
            raise ValueError("the threshold style is the builder's stored sketch: pass it")
        return stored
    sketch = MAKERS[style](color, seed)
    return vary(sketch, tf.random.experimental.stateless_fold_in(seed, 7)) if variations else sketch


def draw(spec: str, color: tf.Tensor, stored: tf.Tensor, seed: tf.Tensor,
         fast: bool = True) -> tf.Tensor:
    """One sketch of a weighted mix, the style drawn per example from the stateless `seed` (2,):
    (S, S, 1) in [-1, 1]. A mix of one style is that style without a draw.

    fast: made by OpenCV in one numpy step (`_fast`, several times faster inside tf.data) with the
    very same random choices; equal to the TensorFlow ops (fast=False) but for float rounding
    (tests/test_sketch_styles.py)."""
    mix = parse(spec)
    seed = tf.cast(seed, tf.int64)
    if len(mix) == 1:
        index = tf.constant(0, tf.int32)
    else:
        logits = tf.math.log(tf.constant([[w for _, w in mix]], tf.float32))
        index = tf.cast(tf.random.stateless_categorical(
            logits, 1, tf.random.experimental.stateless_fold_in(seed, 99))[0, 0], tf.int32)
    names = [name for name, _ in mix]
    if names == ["threshold"]:
        return stored
    if fast:
        return _fast(names, color, stored, seed, index)
    branches = [lambda name=name: make(name, color, seed, stored, variations=name != "threshold")
                for name in names]
    if len(branches) == 1:
        return branches[0]()
    return tf.ensure_shape(tf.switch_case(index, branches), stored.shape)


# -- the fast path: the same styles by OpenCV, in one numpy step per example ---------------------

def _fast(names: list[str], color: tf.Tensor, stored: tf.Tensor, seed: tf.Tensor,
          index: tf.Tensor) -> tf.Tensor:
    """`draw`'s sketch of style names[index], made by `_draw_np` from TensorFlow's random draws."""
    size = color.shape[0]
    grain = (tf.random.stateless_normal([size, size, 1],
                                        tf.random.experimental.stateless_fold_in(seed, 4))
             if "pencil" in names else tf.zeros([1, 1, 1]))  # pencil's paper grain
    varied = tf.random.experimental.stateless_fold_in(seed, 7)  # `make`'s seed of `vary`
    out = tf.numpy_function(
        lambda *args: _draw_np(names, *args),
        [color, stored, index, _draws(seed), _draws(varied), grain], tf.float32, stateful=False)
    return tf.ensure_shape(out, stored.shape)


def _blur_np(image: np.ndarray, sigma, radius: int) -> np.ndarray:
    """`_gaussian_blur` by OpenCV: the same kernel, reflected edges (REFLECT is BORDER_REFLECT_101)."""
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    kernel = np.exp(np.float32(-0.5) * np.square(x / np.float32(sigma)))
    kernel /= kernel.sum()
    return cv2.sepFilter2D(image, cv2.CV_32F, kernel, kernel, borderType=cv2.BORDER_REFLECT_101)


def _black_hat_np(gray: np.ndarray, size: int) -> np.ndarray:
    """`_black_hat` by OpenCV (max and min ignore the border, as max_pool2d's SAME padding)."""
    element = np.ones((size, size), np.uint8)
    return cv2.erode(cv2.dilate(gray, element), element) - gray


def _draw_np(names, color, stored, index, u, v, grain) -> np.ndarray:
    """(S, S, 1) float32: style names[index] of `color` (S, S, 3) with the draws `u`, varied
    with the draws `v` (`make`, `vary`), or the `stored` threshold sketch."""
    name = names[int(index)]
    if name == "threshold":
        return stored
    size = color.shape[0]
    unit = (color + np.float32(1.0)) / np.float32(2.0)
    gray = (unit[..., 0] * np.float32(0.299) + unit[..., 1] * np.float32(0.587)
            + unit[..., 2] * np.float32(0.114))  # (S, S)
    if name == "xdog":
        scale = max(1.0, size / 256.0)
        sigma = _ranged(u[0], *XDOG_SIGMA) * np.float32(scale)
        radius = max(1, int(math.ceil(3 * XDOG_SIGMA[1] * XDOG_K * scale)))
        d = _blur_np(gray, sigma, radius) - np.float32(XDOG_TAU) * _blur_np(
            gray, np.float32(XDOG_K) * sigma, radius)
        sketch = np.where(d >= XDOG_EPSILON, 1.0, 1.0 + np.tanh(
            np.float32(XDOG_PHI) * (d - np.float32(XDOG_EPSILON))))
        sketch = np.clip(sketch, 0.0, 1.0).astype(np.float32) * 2.0 - 1.0
    elif name == "lines":
        contrast = np.float32(LINES_CONTRAST) * _ranged(u[1], 0.75, 1.25)
        sketch = np.where(_black_hat_np(gray, _element(size)) > contrast, -1.0, 1.0)
    else:  # pencil
        strength = np.clip(_black_hat_np(gray, _element(size)) * _ranged(u[2], 2.5, 4.0), 0, 1)
        value = _ranged(u[3], 0.85, 0.97) * (1.0 - strength * _ranged(u[5], 0.55, 0.85)) \
            + np.float32(0.02) * grain[..., 0]
        value = _blur_np(value.astype(np.float32), np.float32(0.6 * size / 256.0),
                         max(1, int(round(2 * size / 256))))
        sketch = np.clip(value, 0.0, 1.0) * 2.0 - 1.0
    return _vary_np(sketch.astype(np.float32), v)[..., None]


def _vary_np(sketch: np.ndarray, v) -> np.ndarray:
    """`vary` by OpenCV, (S, S) float32, with its draws `v`."""
    size = sketch.shape[0]
    element = np.ones((3, 3), np.uint8)
    if v[10] < 0.15:
        x = cv2.erode(sketch, element)  # ink spreads one pixel
    elif v[10] > 0.85:  # thinner (`vary`'s rule)
        thick = cv2.dilate(sketch, element)
        opened = cv2.erode(thick, element)
        x = np.minimum(thick, np.where(opened > sketch, sketch, np.float32(1.0)))
    else:
        x = sketch
    if v[12] < 0.3:
        x = np.maximum(x, _ranged(v[11], 0.0, 0.5) * np.float32(2.0) - np.float32(1.0))
    if v[14] < 0.4:
        x = _blur_np(x, _ranged(v[13], 0.5, 0.8) * np.float32(size / 256.0),
                     max(1, int(round(2 * size / 256))))
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def sketch_of(style: str, color: np.ndarray, stored: np.ndarray | None = None,
              seed: int = 0) -> np.ndarray:
    """A user-side sketch (H, W) uint8 (0 line, 255 paper) of a uint8 color image (H, W, 3) in one
    style, without variations, as the style sweep gives it to `Colorizer` (fixed seed); the pixel
    scales follow the long side. "threshold" is `stored`, the recipe's sketch."""
    if style == "threshold":
        return np.asarray(stored if stored.ndim == 2 else stored[..., 0])
    model = tf.constant(color, tf.float32) / 127.5 - 1.0
    out = make(style, model, tf.constant([seed, 0], tf.int64))
    return np.clip(np.rint((out.numpy()[..., 0] + 1.0) * 127.5), 0, 255).astype(np.uint8)
