"""The page's logic, numpy in and numpy out (tested without a browser).

An ImageEditor value is {"background": the line art (RGBA), "layers": [the hint layer (RGBA)],
"composite": ...}; its layers are the hint layer of `colorize predict --hints` (opaque pixels are
strokes). The sketch stays on the server at its full size (a `Sketch`); the editor paints on a copy
whose longest side is at most the page's canvas side, and the strokes are enlarged back to the
sketch before colorizing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os

import numpy as np
from PIL import Image

from colorize import fileio
from colorize.app.choices import Choice
from colorize.app.limits import CANVAS_SIDE
from colorize.app.uploads import check_pixels, read_hint_upload, read_upload
from colorize.errors import ColorizeError
from colorize.experiments.base import check_aspect
from colorize.sketch import fitted_size


def editor_value(background: np.ndarray, hints: np.ndarray | None = None) -> dict:
    """An ImageEditor value: the line art as background (RGBA), one hint layer (empty if none)."""
    rgb = np.repeat(background[..., None], 3, -1) if background.ndim == 2 else background[..., :3]
    rgba = np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 255, np.uint8)], -1)
    if hints is None:
        hints = np.zeros_like(rgba)
    return {"background": rgba, "layers": [hints], "composite": None}


@dataclasses.dataclass(frozen=True, eq=False)  # arrays: compared by identity
class Sketch:
    """The line art at full size, kept on the server, and the smaller copy the editor shows."""

    lines: np.ndarray  # (H, W) uint8
    canvas: np.ndarray  # (h, w) uint8: `lines` shrunk (area average) to fit the canvas side

    @classmethod
    def of(cls, image: np.ndarray, side: int = CANVAS_SIDE) -> Sketch:
        lines = gray_of(image)
        size = fitted_size(*lines.shape, side)
        if size is None:
            return cls(lines, lines)
        return cls(lines, np.asarray(Image.fromarray(lines).resize(size, Image.BOX)))

    def shown_by(self, background: np.ndarray) -> bool:
        """Whether an editor background (H, W[, 3|4]) is this sketch's canvas copy, within the
        rounding of the browser's round trip (not the previous sketch, while the editor swaps)."""
        gray = gray_of(background)
        return (gray.shape == self.canvas.shape and
                np.abs(gray.astype(np.int16) - self.canvas).mean() < 1.0)


def gray_of(image: np.ndarray) -> np.ndarray:
    """(H, W) uint8 of a gray, RGB or RGBA image (the mean of the colors, alpha dropped)."""
    image = np.asarray(image)
    return image if image.ndim == 2 else channel_mean(image[..., :3])


_THIRDS = ((np.arange(3 * 255 + 1) + 1) // 3).astype(np.uint8)  # sum of 3 channels -> rounded mean


def channel_mean(rgb: np.ndarray) -> np.ndarray:
    """(H, W) uint8: the rounded mean of the 3 channels, in integers (faster than numpy's float
    mean; a third never rounds a tie)."""
    total = rgb[..., 0].astype(np.uint16)
    total += rgb[..., 1]
    total += rgb[..., 2]
    return _THIRDS[total]


def in_between(value: dict | None, sketch: Sketch | None) -> bool:
    """Whether the editor shows something other than the page's sketch (a value read while it
    swaps one sketch for the next): the page then keeps its last picture."""
    if sketch is None or not value or value.get("background") is None:
        return False
    return not sketch.shown_by(np.asarray(value["background"]))


def page_lines(value: dict, sketch: Sketch | None) -> np.ndarray:
    """The line art an editor value stands for: the full-size sketch when the editor shows its
    canvas copy, else the editor's own background (a value from a caller without a sketch)."""
    background = np.asarray(value["background"])
    check_pixels(background, "sketch")
    if sketch is not None and sketch.shown_by(background):
        return sketch.lines
    return gray_of(background)


def open_sketch(choice: Choice, path: str, from_color: bool, side: int = CANVAS_SIDE
                ) -> tuple[dict, Sketch]:
    """An uploaded file as the page's sketch (line art, or a colored picture sketchified) and the
    editor value that shows its canvas copy."""
    rgb = read_upload(path)
    if from_color:
        colorizer = next(iter(choice.colorizers.values()))
        rgb = colorizer.sketchify(rgb)
    sketch = Sketch.of(rgb, side)
    return editor_value(sketch.canvas), sketch


def merge_layers(layers: list, shape: tuple[int, int]) -> np.ndarray | None:
    """The editor's layers laid over one another (alpha over) as one RGBA hint layer at `shape`,
    or None when nothing is painted."""
    out = None
    for layer in layers or []:
        layer = np.asarray(layer)
        if layer.ndim != 3 or layer.shape[2] != 4 or not layer[..., 3].any():
            continue
        if layer.shape[:2] != tuple(shape):
            layer = np.asarray(Image.fromarray(layer).resize(shape[::-1], Image.NEAREST))
        if out is None:
            out = layer.copy()
            continue
        a = layer[..., 3:].astype(np.float32) / 255.0
        b = out[..., 3:].astype(np.float32) / 255.0
        alpha = a + b * (1.0 - a)
        rgb = (layer[..., :3] * a + out[..., :3] * b * (1.0 - a)) / np.maximum(alpha, 1e-6)
        out = np.concatenate([rgb, alpha * 255.0], -1).round().astype(np.uint8)
    return out


def colorize_page(colorizer, value: dict | None, reference: np.ndarray | None = None,
                  sketch: Sketch | None = None) -> np.ndarray | None:
    """The colorized picture (H, W, 3) at the sketch's full size for an editor value; None when
    there is no sketch yet.

    `sketch`: the page's full-size sketch, used when the editor shows its canvas copy (the strokes
    are enlarged to it). What the model reads is its experiment's: a colored `reference`, when
    given, if it `takes_reference` (blurred like the training cues); else the strokes if it
    `reads_hints`; else the sketch alone.
    """
    if not value or value.get("background") is None:
        return None
    lines, cue, hints = model_inputs(colorizer, value, reference, sketch)
    return colorizer.colorize(lines, cue, hints=hints)


def reach_page(colorizer, value: dict | None, sketch: Sketch | None = None
               ) -> np.ndarray | None:
    """Where the painted strokes' colors reach (`Colorizer.reach`), (H, W, 3) at the sketch's
    full size for an editor value; None when there is no sketch yet."""
    if not value or value.get("background") is None:
        return None
    lines = page_lines(value, sketch)
    return colorizer.reach(lines, hints=merge_layers(value.get("layers"), lines.shape))


def model_inputs(colorizer, value: dict, reference: np.ndarray | None = None,
                 sketch: Sketch | None = None) -> tuple:
    """(line art, cue, hint layer) of an editor value, as `colorize_page` reads them (the cue and
    the hint layer None where the model does not read them)."""
    lines = page_lines(value, sketch)
    conditioning = colorizer.conditioning
    if conditioning.takes_reference and reference is not None:
        check_pixels(reference, "reference")
        return lines, colorizer.cue_from_reference(np.asarray(reference)[..., :3]), None
    if not conditioning.reads_hints:
        return lines, None, None
    return lines, None, merge_layers(value.get("layers"), lines.shape)


def layers_file(colorizer, value: dict | None, folder: str, reference: np.ndarray | None = None,
                sketch: Sketch | None = None, model_lock=contextlib.nullcontext()) -> str:
    """The picture as a layered PSD file at the sketch's full size, written into `folder` (its
    path): the flat colors, the line art in Multiply mode and the painted strokes as the hidden
    hint layer (`colorize.psd`); its composite is the `--lines keep` picture. `model_lock` is
    held around the model call only (not the file's encoding)."""
    from colorize import psd

    if not value or value.get("background") is None:
        raise ColorizeError("open a sketch first", reason="missing_value")
    lines, cue, hints = model_inputs(colorizer, value, reference, sketch)
    with model_lock:
        layers = colorizer.colorize_layers(lines, cue, hints=hints)
    path = os.path.join(folder, "colorized-layers.psd")
    psd.write_psd(path, layers, merge_layers(value.get("layers"), lines.shape))
    return path


def save_hints(value: dict | None, folder: str, sketch: Sketch | None = None) -> str:
    """The editor's hint layer at the sketch's full size, written as a transparent PNG into
    `folder`; its path."""
    if not value or value.get("background") is None:
        raise ColorizeError("open a sketch and paint some strokes first", reason="missing_value")
    shape = page_lines(value, sketch).shape
    hints = merge_layers(value.get("layers"), shape)
    if hints is None:
        hints = np.zeros((*shape, 4), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(hints, "RGBA").save(buffer, format="PNG")
    path = os.path.join(folder, "hints.png")
    fileio.write_bytes(path, buffer.getvalue())
    return path


def load_hints(value: dict | None, path: str, sketch: Sketch | None = None) -> dict:
    """The editor with an uploaded hint layer (of the sketch's aspect ratio, resized to the
    editor's canvas) as its layer."""
    if not value or value.get("background") is None:
        raise ColorizeError("open the sketch first, then load its hint layer",
                            reason="missing_value")
    background = np.asarray(value["background"])
    hints = read_hint_upload(path)
    check_aspect(hints, page_lines(value, sketch).shape, "hint layer")
    if hints.shape[:2] != background.shape[:2]:
        hints = np.asarray(Image.fromarray(hints).resize(background.shape[1::-1], Image.NEAREST))
    return editor_value(background, hints)
