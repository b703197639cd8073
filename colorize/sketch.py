"""Image operations shared by the dataset builder, the notebooks and inference.

Plain functions on uint8 numpy arrays (RGB order, (H, W, 3) or gray (H, W)), so every stage of the
project computes sketches and cues with exactly the same code. OpenCV and Pillow only: importing
this module never pulls in TensorFlow, which keeps builder worker processes light.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, ImageOps

CROPS = ("auto", "center")
# Pixels per image above which decoding is refused: Pillow's MAX_IMAGE_PIXELS, above which it warns
# of a possible decompression bomb (it refuses twice as many itself).
MAX_PIXELS = 89_478_485
# A pixel counts as colored when max(R, G, B) - min(R, G, B) reaches this level (0-255). JPEG noise
# and a paper tint stay below it (measured: at most 21 on JPEG'd gray pages tinted by chroma 16).
CHROMA_LEVEL = 24
# Default minimum percent of colored pixels; the least colorful real illustration measured: 3.7 %.
MIN_COLOR_PERCENT = 1.0


class ImageError(Exception):
    """An input that cannot become a training triplet; `reason` is a short machine-friendly tag."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def load_image(source: str | os.PathLike | bytes | BinaryIO, *, min_size: int = 1,
               draft_size: int | None = None, max_pixels: int | None = None) -> np.ndarray:
    """Decode a file (path, bytes or file object) to (H, W, 3) uint8 RGB.

    EXIF orientation is applied, alpha is flattened onto white, and palette, gray, 16-bit and CMYK
    inputs are converted. `draft_size` lets JPEG decoding downscale by 1/2, 1/4 or 1/8 while keeping
    both sides at least that large (much faster for big pages). Raises `ImageError` with reason
    "undecodable", "too_large" (more than `max_pixels`; by default MAX_PIXELS and whatever Pillow
    warns of as a decompression bomb) or "too_small" (short side < `min_size`).
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        with warnings.catch_warnings():
            # refuse what Pillow warns of, unless the caller set its own limit
            warnings.simplefilter("error" if max_pixels is None else "ignore",
                                  Image.DecompressionBombWarning)
            with Image.open(source) as im:
                width, height = im.size
                if width * height > (MAX_PIXELS if max_pixels is None else max_pixels):
                    raise ImageError("too_large", f"{width}x{height} pixels")
                if min(width, height) < min_size:
                    raise ImageError("too_small", f"{width}x{height}, short side below {min_size}")
                if draft_size is not None:
                    im.draft("RGB", (draft_size, draft_size))
                ImageOps.exif_transpose(im, in_place=True)
                return _to_rgb(im)
    except ImageError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as err:
        raise ImageError("too_large", str(err)) from err
    except Image.UnidentifiedImageError as err:  # its message holds a varying object address
        raise ImageError("undecodable", "unknown image format") from err
    except Exception as err:  # Pillow's decoders raise many types (OSError, SyntaxError, ...).
        raise ImageError("undecodable", f"{type(err).__name__}: {err}") from err


def _to_rgb(im: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a decoded image of any mode."""
    if im.mode.startswith("I"):  # 16/32-bit gray: scale 0..65535 to 0..255 (Pillow would clip)
        gray = np.clip(np.asarray(im), 0, 65535) / 257.0
        return cv2.cvtColor(np.rint(gray).astype(np.uint8), cv2.COLOR_GRAY2RGB)
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info:
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, im.convert("RGBA"))
    if im.mode == "L":
        return cv2.cvtColor(np.asarray(im), cv2.COLOR_GRAY2RGB)
    return np.asarray(im if im.mode == "RGB" else im.convert("RGB"))


def resize_and_crop(rgb: np.ndarray, size: int = 256, crop: str = "auto") -> np.ndarray:
    """Scale the short side to `size`, then cut a size x size window along the long side.

    "auto" puts the window at the top of portrait images (heads are at the top) and in the middle
    of landscape ones; "center" always centers it. INTER_AREA shrinks, INTER_CUBIC enlarges.
    """
    if crop not in CROPS:
        raise ValueError(f"crop must be one of {CROPS}, got {crop!r}")
    height, width = rgb.shape[:2]
    scale = size / min(height, width)
    new_h, new_w = max(size, round(height * scale)), max(size, round(width * scale))
    if (new_h, new_w) != (height, width):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        rgb = cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
    top = 0 if crop == "auto" else (new_h - size) // 2
    left = (new_w - size) // 2
    return np.ascontiguousarray(rgb[top:top + size, left:left + size])  # (size, size, C)


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W) uint8 luma of an RGB image; gray images pass through."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def sketchify(image: np.ndarray, block_size: int = 7, c: float = 2) -> np.ndarray:
    """Binary line art, (H, W) uint8: 0 = line, 255 = paper (Gaussian adaptive threshold)."""
    return cv2.adaptiveThreshold(to_gray(image), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                 cv2.THRESH_BINARY, block_size, c)


def fitted_size(height: int, width: int, side: int) -> tuple[int, int] | None:
    """(width, height), as OpenCV and Pillow take sizes, of an image shrunk to fit `side` x `side`
    with its aspect ratio (`anysize.fit`'s rounding); None when it fits already."""
    scale = side / max(height, width)
    if scale >= 1:
        return None
    return max(1, round(width * scale)), max(1, round(height * scale))


def sketchify_at_scale(image: np.ndarray, size: int, block_size: int = 7,
                       c: float = 2) -> np.ndarray:
    """`sketchify` as the builder applies it, at the scale of a `size` px model, for a picture of
    any size: (H, W) uint8, 0 = line, 255 = paper.

    The threshold's 7 px block sees a picture's edges at the scale it runs at: on a 1000 px
    picture it marks every fine texture, far busier line art than the model trained on (the
    builder thresholds the picture fit to `size`). So the picture's long side is fit to `size`
    (area resize), thresholded there, and brought back to (H, W) with a linear resize
    re-thresholded at half gray: the model's own sketch, with smooth binary lines. A picture no
    larger than `size` is thresholded at its own size, as before.
    """
    height, width = image.shape[:2]
    fitted = fitted_size(height, width, size)
    if fitted is None:
        return sketchify(image, block_size, c)
    small = cv2.resize(to_gray(image), fitted, interpolation=cv2.INTER_AREA)
    lines = cv2.resize(sketchify(small, block_size, c), (width, height),
                       interpolation=cv2.INTER_LINEAR)
    return np.where(lines < 128, 0, 255).astype(np.uint8)


def complexity(sketch: np.ndarray) -> float:
    """Percent of sketch pixels that are lines (value 0)."""
    return 100.0 * (1.0 - cv2.countNonZero(sketch) / sketch.size)


def color_cue_exact(rgb: np.ndarray, sigma: float = 20.0) -> np.ndarray:
    """The reference cue: a full-resolution Gaussian blur with reflected borders."""
    return cv2.GaussianBlur(rgb, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def color_cue(rgb: np.ndarray, sigma: float = 20.0) -> np.ndarray:
    """The color cue: `color_cue_exact` computed on a grid `factor` times coarser (~50x faster).

    Area-downsampling by `factor` and bilinear upsampling blur by box and tent kernels of variance
    factor**2 / 12 and factor**2 / 6; the coarse Gaussian's sigma is reduced so that the three add
    up to sigma**2. Stays within a mean absolute difference of 1.0 (0-255) of the exact blur, for
    any image size.
    """
    factor = int(sigma // 5)  # keeps the coarse sigma near 5 px, well resolved
    height, width = rgb.shape[:2]
    if factor <= 1 or min(height, width) < 2 * factor:
        return color_cue_exact(rgb, sigma)
    small_w, small_h = round(width / factor), round(height / factor)
    small = cv2.resize(rgb, (small_w, small_h), interpolation=cv2.INTER_AREA).astype(np.float32)
    step = (width / small_w + height / small_h) / 2  # input pixels per coarse pixel
    small_sigma = math.sqrt(max((sigma / step) ** 2 - 1 / 12 - 1 / 6, 0.25))
    small = cv2.GaussianBlur(small, (0, 0), small_sigma, borderType=cv2.BORDER_REFLECT)
    cue = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.convertScaleAbs(cue)  # rounds and saturates to uint8


def color_percent(rgb: np.ndarray, level: int = CHROMA_LEVEL) -> float:
    """Percent of pixels whose chroma, max(R, G, B) - min(R, G, B), is at least `level`."""
    r, g, b = cv2.split(rgb)
    chroma = cv2.subtract(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))
    return 100.0 * cv2.countNonZero(cv2.compare(chroma, level, cv2.CMP_GE)) / chroma.size


def is_gray(rgb: np.ndarray, min_color_percent: float = MIN_COLOR_PERCENT) -> bool:
    """Whether an image is essentially gray: fewer than `min_color_percent` % colored pixels."""
    return color_percent(rgb) < min_color_percent
