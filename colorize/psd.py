"""Layered Photoshop files (PSD) of a colorization, for finishing it in a painting program.

Bottom to top, every layer at the sketch's full size (`LAYERS`):
- "flat colors": the model's colors with its own lines painted over, opaque: the flat colors of
  `--lines keep` (`Colorizer.colorize_layers`);
- "line art": the sketch in Multiply mode with the paper transparent: black ink whose opacity is
  the sketch's darkness (255 - gray). Over any colors it gives colors x gray / 255, `--lines
  keep`'s blend, and on its own it looks like the sketch;
- "hints": the hint layer (hidden), empty when none was given: paint on it, save it as a PNG and
  it is `colorize predict --hints`.
The file's composite (what viewers and a program's flattened preview show) is the layers as they
are shown, which is the `--lines keep` picture to within one level (the flat colors are stored in
8 bits before the blend instead of after).

Written with psd-tools (the `psd` extra), which also renders that composite, and atomically.
"""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image

from colorize import fileio
from colorize.errors import ColorizeError

EXTENSION = ".psd"
LAYERS = ("flat colors", "line art", "hints")  # bottom to top


def require():
    """psd_tools' PSDImage, PixelLayer and BlendMode; a one-line error when it is missing."""
    try:
        from psd_tools import PSDImage
        from psd_tools.api.layers import PixelLayer
        from psd_tools.constants import BlendMode
    except ImportError:
        raise ColorizeError('writing PSD files needs psd-tools: pip install "manga-colorize[psd]" '
                            '(or, in a clone, pip install -e ".[psd]")',
                            reason="missing_dependency") from None
    return PSDImage, PixelLayer, BlendMode


def ink_layer(gray: np.ndarray) -> np.ndarray:
    """(H, W, 4) RGBA of a gray sketch (H, W): black, as opaque as the sketch is dark."""
    rgba = np.zeros((*gray.shape, 4), np.uint8)
    rgba[..., 3] = 255 - gray
    return rgba


def hint_layer(hints: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """The hint layer (RGBA) at the sketch's size `shape` (enlarged or shrunk nearest, as the app
    does), or a transparent one when there is none."""
    if hints is None:
        return np.zeros((*shape, 4), np.uint8)
    hints = np.asarray(hints, np.uint8)
    if hints.shape[:2] != tuple(shape):
        hints = np.asarray(Image.fromarray(hints, "RGBA").resize(shape[::-1], Image.NEAREST))
    return hints


def document(layers, hints: np.ndarray | None = None):
    """The PSDImage of a `Colorizer.colorize_layers` result and the hint layer (RGBA) if any."""
    PSDImage, PixelLayer, BlendMode = require()
    flat, gray, picture = layers
    shape = gray.shape
    # an RGB document with transparency (RGBA), so that the layers keep theirs (an RGB one would
    # turn a layer's alpha into a layer mask); the composite until psd-tools renders the layers
    psd = PSDImage.frompil(Image.fromarray(picture, "RGB").convert("RGBA"))
    PixelLayer.frompil(Image.fromarray(flat, "RGB"), psd, LAYERS[0])
    lines = PixelLayer.frompil(Image.fromarray(ink_layer(gray), "RGBA"), psd, LAYERS[1])
    lines.blend_mode = BlendMode.MULTIPLY
    strokes = PixelLayer.frompil(Image.fromarray(hint_layer(hints, shape), "RGBA"), psd,
                                 LAYERS[2])
    strokes.visible = False
    return psd


def encode(layers, hints: np.ndarray | None = None) -> bytes:
    """The PSD file's bytes (psd-tools renders its composite from the layers)."""
    buffer = io.BytesIO()
    document(layers, hints).save(buffer)
    return buffer.getvalue()


def write_psd(path: str | os.PathLike, layers, hints: np.ndarray | None = None) -> None:
    """Write the layered file atomically; ColorizeError "write_failed" when that fails."""
    data = encode(layers, hints)
    try:
        fileio.write_bytes(path, data)
    except OSError as err:
        raise ColorizeError(f"{os.fspath(path)}: could not write ({err.strerror or err})",
                            reason="write_failed") from None
