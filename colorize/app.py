"""`colorize app`: a local web page to paint color hints over a sketch and watch it colorize.

    colorize app --run runs/C-... [--run runs/B-...] [--model generator.keras] [--port 7860]

A Gradio Blocks page on top of `colorize.infer.Colorizer`. The ImageEditor's background is the line
art and its layers are the hint layer of `colorize predict --hints` (opaque pixels are strokes).
The sketch stays on the server at its full size (a `Sketch`); the editor paints on a copy whose
longest side is at most `--canvas` pixels, because the browser exports the editor's canvases as PNG
for every picture. The strokes are enlarged back to the sketch's size before colorizing.
Every model is loaded and compiled once at start; the client only picks among them by label, so it
never names a file on the server. Nothing is written into run folders: saved hint layers go to a
temporary folder of this process. The page logic (`open_sketch`, `colorize_page`, ...) takes and
returns numpy arrays, so it is tested without a browser.
"""

from __future__ import annotations

import argparse
import base64
import collections
import ctypes
import dataclasses
import io
import itertools
import os
import sys
import tempfile
import threading
import warnings

import numpy as np
from PIL import Image, ImageOps

from colorize import fileio
from colorize.config import PRECISIONS, TEST_MODES
from colorize.errors import ColorizeError

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # per file
MAX_PIXELS = 4096 * 4096  # per image: a 16-megapixel page takes about a second per picture
IGNORES_HINTS = "ignores hints"
CANVAS_SIDE = 512  # the editor's longest side by default (twice a 256 px model's input)
# px on the page of the editor (Gradio 6.31's default) and of the picture beside it: a tall
# picture no longer runs down the page. Not taller: a 560 px editor made the browser's stroke ->
# picture 75-155 ms slower (software WebGL redraws the whole panel; tools/benchmark.py app).
PANEL_HEIGHT = 350
# The page's CSS. The picture fills its panel as the editor's zoom fills its own (Gradio shows a
# small picture at its natural size), so a 256 px sketch and its picture stand side by side at one
# scale. Until a sketch is open the editor is an empty 8 x 8 canvas (see build_page's canvas_size)
# at 1000 % under Gradio's "select the draw tool to start": the page covers it with what to do
# instead, until the browser-side step that shows a sketch in the editor marks it (SHOW_SKETCH_JS).
PAGE_CSS = """
#output img { width: 100%; height: 100%; object-fit: contain; }
#editor:not([data-sketch]) .image-container { position: relative; }
#editor:not([data-sketch]) .image-container > * { visibility: hidden; }
#editor:not([data-sketch]) .image-container::after {
  content: "Open a sketch to paint on: the Open sketch button above, or drop one below";
  position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
  padding: 2em; text-align: center; color: var(--body-text-color-subdued);
}
"""
SHOW_SKETCH_JS = """(value) => {
  document.getElementById("editor")?.setAttribute("data-sketch", "");
  return value;
}"""


@dataclasses.dataclass
class Choice:
    """One model the page offers: its label and a Colorizer per test mode (sharing weights)."""

    label: str
    experiment: str  # "A", "B" or "C"
    colorizers: dict  # test mode -> Colorizer

    @property
    def takes_hints(self) -> bool:
        return self.experiment != "A"


def run_label(run_dir: str, experiment: str) -> str:
    """'C · step 250 · 2026-12-03 07:41 · name' (A runs: '... · ignores hints')."""
    from colorize.runfolder import RunFolder

    run = RunFolder.open(run_dir)
    when = run.trained_at()
    parts = [experiment, f"step {run.step()}", when.strftime("%Y-%m-%d %H:%M") if when else None,
             os.path.basename(os.path.normpath(run_dir)),
             IGNORES_HINTS if experiment == "A" else None]
    return " · ".join(p for p in parts if p)


def load_choices(runs: list[str], models: list[str], precision: str = "auto",
                 test_modes=TEST_MODES) -> dict[str, Choice]:
    """Every run and model file loaded (and traced, by one small call) once, by label."""
    from colorize.infer import Colorizer, load_model_file, load_run
    from colorize.recipe import Recipe

    choices: dict[str, Choice] = {}

    def add(label, experiment, make):
        colorizers = {mode: make(mode) for mode in test_modes}
        for colorizer in colorizers.values():  # compile now, not on the first stroke
            colorizer.colorize(np.full((8, 8), 255, np.uint8))
        base, n = label, 2
        while label in choices:
            label, n = f"{base} ({n})", n + 1
        choices[label] = Choice(label, experiment, colorizers)

    for run_dir in runs:
        generator, cfg = load_run(run_dir)
        recipe = Recipe.of_records(cfg.data, cfg.image_size)
        add(run_label(run_dir, cfg.experiment), cfg.experiment,
            lambda mode: Colorizer(generator, test_mode=mode, conditioning=cfg.conditioning,
                                   recipe=recipe, precision=precision,
                                   experiment=cfg.experiment))
    for path in models:
        generator = load_model_file(path)
        probe = Colorizer(generator, test_mode="deterministic", precision="float32")
        experiment = probe.conditioning.name
        label = " · ".join([experiment, os.path.basename(path)] +
                           ([IGNORES_HINTS] if experiment == "A" else []))
        add(label, experiment, lambda mode: Colorizer(generator, test_mode=mode,
                                                      precision=precision))
    return choices


# -- uploads ----------------------------------------------------------------------------------


def header_size(source: str | bytes) -> tuple[int, int] | None:
    """(width, height) from an image file's header (a path or its bytes), or None when no format
    of Pillow's reads it. Pillow's own format readers, as `Image.open` runs them, but without its
    decompression-bomb check (so an oversized file gets the page's message) and decoding nothing."""
    Image.init()
    with open(source, "rb") if isinstance(source, str) else io.BytesIO(source) as fp:
        prefix = fp.read(16)
        for format_id in Image.ID:
            factory, accept = Image.OPEN[format_id]
            try:  # a reader that fails is not this file's format (Pillow tries the next one too)
                accepted = not accept or accept(prefix)
                if not accepted or isinstance(accepted, str):  # a str: Pillow's warning
                    continue
                fp.seek(0)
                return factory(fp, source if isinstance(source, str) else "").size
            except Exception:
                continue
    return None


def _over_cap(name: str, width: int, height: int, what: str) -> None:
    """The page's pixel cap, one line naming the file."""
    if width * height > MAX_PIXELS:
        raise ColorizeError(f"{name}: {width}x{height} is over the {MAX_PIXELS / 1e6:.1f}"
                            f" megapixel limit for a {what}")


def check_upload(source: str | bytes, name: str, what: str) -> None:
    """The byte and pixel caps of an uploaded file, from its size and header: before anything
    decodes it (a 12000 x 12000 PNG of a few KB decodes to 576 MB); ColorizeError otherwise."""
    size = os.path.getsize(source) if isinstance(source, str) else len(source)
    if size > MAX_UPLOAD_BYTES:
        raise ColorizeError(f"{name}: {size / 2**20:.1f} MB is over the {MAX_UPLOAD_BYTES // 2**20}"
                            f" MB limit for a {what}")
    dimensions = header_size(source)
    if dimensions is None:
        raise ColorizeError(f"{name}: not a readable image (unknown image format)")
    _over_cap(name, *dimensions, what)


def _open_capped(path: str, what: str) -> Image.Image:
    """A PIL image of an uploaded file within the byte and pixel caps; ColorizeError otherwise."""
    name = os.path.basename(path)
    check_upload(path, name, what)
    try:
        im = Image.open(path)
        _over_cap(name, *im.size, what)  # should `Image.open` read the header otherwise
        im.load()
        return ImageOps.exif_transpose(im)
    except ColorizeError:
        raise
    except Exception as err:  # Pillow raises many types for a file that is not an image
        raise ColorizeError(f"{name}: not a readable image ({type(err).__name__})") from None


def upload_of(data, default_name: str) -> tuple[str | bytes, str] | None:
    """The file (path or bytes) and name of a Gradio image payload as its components read it: a
    FileData/ImageData with a path or a data: URL, or the editor's blob bytes; None if empty."""
    if data is None:
        return None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), default_name
    name = getattr(data, "orig_name", None)
    url = getattr(data, "url", None) or ""
    if url.startswith("data:"):  # Gradio's gr.Image decodes an inline image before any path
        try:
            return base64.b64decode(url.partition(",")[2]), name or default_name
        except ValueError:  # not base64: no image format reads it
            return b"", name or default_name
    path = getattr(data, "path", None)
    return (path, name or os.path.basename(path)) if path else None


def check_payload(data, what: str, default_name: str = "the image") -> None:
    """check_upload for a Gradio image payload (see upload_of)."""
    upload = upload_of(data, default_name)
    if upload is not None:
        check_upload(*upload, what)


def limit_pillow() -> None:
    """Pillow refuses images over twice `Image.MAX_IMAGE_PIXELS` (178 megapixels by default) and
    only warns above it: this makes whatever decodes in this process (Gradio too) refuse anything
    over the page's cap, and drops the warning, which would now come from pictures within it."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


_LIBC = None


def release_memory() -> None:
    """Hand the heap's free pages back to the system (glibc's malloc_trim), after a refused
    request: otherwise what its upload took stays in the server's RSS. A no-op without glibc."""
    global _LIBC
    try:
        _LIBC = _LIBC or ctypes.CDLL("libc.so.6")
        _LIBC.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def check_pixels(image: np.ndarray, what: str) -> None:
    """The pixel cap for arrays given to the page's logic (the server checks uploads' headers
    before they become arrays)."""
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise ColorizeError(f"the {what} ({image.shape[1]}x{image.shape[0]}) is over the "
                            f"{MAX_PIXELS / 1e6:.1f} megapixel limit")


def read_upload(path: str, what: str = "sketch") -> np.ndarray:
    """(H, W, 3) uint8 RGB of an uploaded image (alpha flattened onto white)."""
    im = _open_capped(path, what)
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        rgba = np.asarray(im.convert("RGBA")).astype(np.float32)
        alpha = rgba[..., 3:] / 255.0
        return np.rint(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.asarray(im.convert("RGB"))


def read_hint_upload(path: str) -> np.ndarray:
    """(H, W, 4) uint8 RGBA of an uploaded hint layer, which must have transparent pixels."""
    im = _open_capped(path, "hint layer")
    rgba = np.asarray(im.convert("RGBA"))
    if rgba[..., 3].min() == 255:
        raise ColorizeError(f"{os.path.basename(path)}: not a hint layer (it has no transparent "
                            "pixels; save hint layers as PNG with transparency)")
    return rgba


# -- the page's logic (numpy in, numpy out) ---------------------------------------------------


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
        height, width = lines.shape
        scale = side / max(height, width)
        if scale >= 1:
            return cls(lines, lines)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
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


def hint_layer(layers: list, shape: tuple[int, int]) -> np.ndarray | None:
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


_THIRDS = ((np.arange(3 * 255 + 1) + 1) // 3).astype(np.uint8)  # sum of 3 channels -> rounded mean


def channel_mean(rgb: np.ndarray) -> np.ndarray:
    """(H, W) uint8: the rounded mean of the 3 channels, in integers (8x faster than numpy's
    float mean on a 1024 px editor background; a third never rounds a tie)."""
    total = rgb[..., 0].astype(np.uint16)
    total += rgb[..., 1]
    total += rgb[..., 2]
    return _THIRDS[total]


def colorize_page(colorizer, value: dict | None, reference: np.ndarray | None = None,
                  sketch: Sketch | None = None) -> np.ndarray | None:
    """The colorized picture (H, W, 3) at the sketch's full size for an editor value.

    `sketch`: the page's full-size sketch, used when the editor shows its canvas copy (the strokes
    are enlarged to it). B: a colored `reference`, when given, is the cue (blurred like the
    training cues); otherwise the strokes are. A: the strokes are ignored. None when there is no
    sketch yet.
    """
    if not value or value.get("background") is None:
        return None
    lines = page_lines(value, sketch)
    experiment = colorizer.conditioning.name
    if experiment == "A":
        return colorizer.colorize(lines)
    if experiment == "B" and reference is not None:
        check_pixels(reference, "reference")
        return colorizer.colorize(lines, colorizer.cue_from_reference(np.asarray(reference)[..., :3]))
    return colorizer.colorize(lines, hints=hint_layer(value.get("layers"), lines.shape))


def save_hints(value: dict | None, folder: str, sketch: Sketch | None = None) -> str:
    """The editor's hint layer at the sketch's full size, written as a transparent PNG into
    `folder`; its path."""
    if not value or value.get("background") is None:
        raise ColorizeError("open a sketch and paint some strokes first")
    shape = page_lines(value, sketch).shape
    hints = hint_layer(value.get("layers"), shape)
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
        raise ColorizeError("open the sketch first, then load its hint layer")
    background = np.asarray(value["background"])
    hints = read_hint_upload(path)
    from colorize.conditioning import check_aspect

    check_aspect(hints, page_lines(value, sketch).shape, "hint layer")
    if hints.shape[:2] != background.shape[:2]:
        hints = np.asarray(Image.fromarray(hints).resize(background.shape[1::-1], Image.NEAREST))
    return editor_value(background, hints)


# -- the page ---------------------------------------------------------------------------------


class Pictures:
    """The page's pictures as PNG files written by OpenCV at its speed setting (about 25 ms at
    1024x1024, where Gradio's own PNG of an array took about 200 ms per stroke). The newest `keep`
    stay; older ones are removed (Gradio has copied each into its cache by then)."""

    def __init__(self, folder: str, keep: int = 8):
        self.folder, self.keep = folder, keep
        self.paths: collections.deque[str] = collections.deque()
        self.count = itertools.count()
        self.lock = threading.Lock()

    def write(self, rgb: np.ndarray) -> str:
        with self.lock:
            path = os.path.join(self.folder, f"colorized-{next(self.count)}.png")
            fileio.write_image(path, rgb)
            self.paths.append(path)
            while len(self.paths) > self.keep:
                os.remove(self.paths.popleft())
        return path


# In the page's <head>, before Gradio's scripts: collect the editor's PixiJS applications through
# PixiJS's own init hook, so that the page can pause their redraw loops (`STROKE_END_JS`).
EDITOR_LOOPS_HEAD = """<script>
(() => {
  const apps = [], chained = globalThis.__PIXI_APP_INIT__;
  globalThis.__PIXI_APP_INIT__ = (app, version) => { apps.push(app); chained?.(app, version); };
  // draw each editor once more and stop its loop; its next pointer event starts it again
  globalThis.colorizePauseEditors = () => {
    for (const app of apps) {
      try {
        if (app.renderer && app.ticker?.started) { app.ticker.stop(); app.render(); }
      } catch (err) { console.warn("colorize: could not pause an editor's redraw loop", err); }
    }
    return apps.length;
  };
})();
</script>"""

# Runs once in the page: a pointer press on the editor's canvas (a stroke) or on its undo, redo or
# clear button, or Ctrl/Cmd+Z/Y, clicks "Colorize" shortly after it is released (once the editor
# has committed the edit).
# After a stroke it also pauses the editor's redraw loop: Gradio's editor redraws every frame for
# 500 ms after each pointer event, and in a browser that draws WebGL in software (headless
# Chromium here) those frames keep the main thread from ever being idle, while Chromium encodes a
# canvas's `toBlob` PNG in idle time: the export that Colorize reads waited for the loop's end,
# about 350 ms per stroke (docs/performance.md). The canvas is drawn once before the pause, so it
# shows the whole stroke, and Gradio's own wake-up (the next pointer event over it) restarts the
# loop. Undo, redo and clear do not pause it: they change the canvas after this script runs.
STROKE_END_JS = """() => {
  const EDITS = "canvas, button[aria-label*='Undo'], button[aria-label*='Redo'], " +
                "button[aria-label*='Clear']";
  let armed = null, timer = null;
  const colorize = () => {
    clearTimeout(timer);
    timer = setTimeout(() => document.querySelector("#colorize")?.click(), 60);
  };
  document.addEventListener("pointerdown", (event) => {
    armed = event.target.closest?.("#editor") && event.target.closest(EDITS);
  }, true);
  document.addEventListener("pointerup", () => {
    if (!armed) return;
    // after the editor's own pointerup handlers (the stroke's commit) have run
    if (armed.tagName === "CANVAS") setTimeout(() => globalThis.colorizePauseEditors?.(), 0);
    armed = null;
    colorize();
  }, true);
  document.addEventListener("keyup", (event) => {
    if ((event.ctrlKey || event.metaKey) && "zy".includes(event.key.toLowerCase())) colorize();
  }, true);
}"""

HELP = """\
**Open** line art (any size), or a colored picture with *make the sketch with the training recipe*.
**Paint** rough color strokes on the layer over it; the picture beside it follows each stroke.
C runs follow the strokes where they are; B runs blur them into a color cue over the whole picture
(or take a colored reference instead); A runs ignore hints.
"""


def build_page(choices: dict[str, Choice], tmp: str, canvas: int = CANVAS_SIDE):
    """The Gradio Blocks page for `choices`; `tmp` receives saved hint layers; the editor paints
    on the sketch shrunk to at most `canvas` pixels a side."""
    import gradio as gr

    def refuse(err: ColorizeError):
        release_memory()  # a refused request gives back what it took
        return gr.Error(str(err), print_exception=False)

    def guard(fn):
        def wrapped(*args):
            try:
                return fn(*args)
            except ColorizeError as err:
                raise refuse(err) from None
        return wrapped

    # Gradio decodes an image input in full before the handler runs (an ImageEditor's background,
    # layers and composite, a gr.Image unless it is a file path in its own mode): these check
    # each file's header first. Wrapped per instance: a subclass of a Gradio component makes
    # Gradio write a .pyi file beside the module that defines it.
    def capped_image(what: str, **kwargs):
        """A gr.Image that gives the handler a file path (Gradio decodes nothing but the header,
        image_mode=None: no conversion) after the page's caps; `what` names it in errors."""
        image = gr.Image(type="filepath", image_mode=None, **kwargs)
        preprocess = image.preprocess

        def checked(payload):
            try:
                check_payload(payload, what, f"the {what}")
            except ColorizeError as err:
                raise refuse(err) from None
            return preprocess(payload)

        image.preprocess = checked
        return image

    def capped_editor(**kwargs):
        """A gr.ImageEditor whose background and layers are checked against the caps before
        Gradio decodes them, and whose composite (never read) is not decoded."""
        editor = gr.ImageEditor(**kwargs)
        preprocess, convert = editor.preprocess, editor.convert_and_format_image

        def checked(payload):
            try:
                if payload is not None:
                    blobs = editor.blob_storage.get(payload.id) if payload.id is not None else None
                    files = blobs or payload
                    check_payload(files.background, "sketch", "the editor's background")
                    for layer in files.layers:
                        check_payload(layer, "hint layer", "the editor's hint layer")
                    check_payload(files.composite, "sketch", "the editor's picture")
                    if blobs:
                        blobs.composite = None
                    else:
                        payload = payload.model_copy(update={"composite": None})
                return preprocess(payload)
            except ColorizeError as err:
                if payload is not None and payload.id is not None:
                    editor.blob_storage.pop(payload.id, None)
                raise refuse(err) from None

        def converted(file, flatten_on_white=False):
            try:  # a file that passed its header check but does not decode: named, in one line
                return convert(file, flatten_on_white)
            except Exception as err:
                name = (upload_of(file, "the editor's image") or ("", "the editor's image"))[1]
                raise ColorizeError(f"{name}: not a readable image ({type(err).__name__})"
                                    ) from None

        editor.preprocess, editor.convert_and_format_image = checked, converted
        return editor

    def pick(label: str, mode: str):
        if label not in choices or mode not in TEST_MODES:
            raise ColorizeError("choose one of the models this server was started with")
        return choices[label], choices[label].colorizers[mode]

    def run_info(label: str) -> str:
        choice = choices.get(label)
        if choice is None:
            return ""
        return {"A": "This A run **ignores hints**: it colorizes the sketch alone.",
                "B": "B run: the strokes (or a colored reference) become a blurred color cue.",
                "C": "C run: the strokes are hints where they are painted."}[choice.experiment]

    labels = list(choices)
    pictures = Pictures(tmp)
    with gr.Blocks(title="colorize", analytics_enabled=False) as page:
        gr.Markdown("## colorize: paint hints over a sketch\n" + HELP)
        with gr.Row():
            model = gr.Dropdown(labels, value=labels[0], label="model", scale=3, elem_id="model")
            mode = gr.Radio(list(TEST_MODES), value="deterministic", label="test mode", scale=2)
        info = gr.Markdown(run_info(labels[0]))
        with gr.Row():
            sketch_file = gr.UploadButton("Open sketch", file_types=["image"], type="filepath",
                                          elem_id="open-sketch")
            from_color = gr.Checkbox(False, label="make the sketch with the training recipe "
                                     "(for a colored picture)")
            hints_file = gr.UploadButton("Load hint layer", file_types=[".png"], type="filepath",
                                         elem_id="load-hints")
            save = gr.Button("Save hint layer", elem_id="save-hints")
            colorize = gr.Button("Colorize", elem_id="colorize", variant="primary")
        sketch = gr.State(None)  # the full-size Sketch of this browser session
        with gr.Row():
            editor = gr.ImageEditor(
                type="numpy", image_mode="RGBA", format="png", label="sketch and hints",
                elem_id="editor", layers=gr.LayerOptions(layers=["hints"]),
                brush=gr.Brush(colors=["#e61e1e", "#1e3ce6", "#f0c020", "#30b050", "#f4c8a8",
                                       "#8a5a3a", "#202020"], color_mode="defaults",
                               default_size=max(2, round(canvas / 32))),  # Gradio's 25 at 800
                transforms=(), sources=(),  # sketches come in by `open_sketch`, at full size
                # Gradio 6.31 lays a layer from the server (a loaded hint layer) out in the box
                # of the larger of canvas_size and the sketch, centred: with its default 800 x 800
                # the strokes showed off the sketch, and the next stroke's export cropped them
                # away. A canvas smaller than any sketch makes that box the sketch.
                canvas_size=(8, 8), height=PANEL_HEIGHT)
            output = gr.Image(type="numpy", format="png", label="colorized (full size)",
                              interactive=False, elem_id="output", buttons=["download"],
                              height=PANEL_HEIGHT)
        with gr.Row():
            drop_sketch = capped_image("sketch", label="or drop or paste a sketch here",
                                       sources=("upload", "clipboard"), height=200,
                                       elem_id="drop-sketch")
            reference = capped_image("reference", label="B runs: colored reference as the cue "
                                     "(optional)", sources=("upload", "clipboard"), height=200,
                                     elem_id="reference")
            saved = gr.File(label="hint layer PNG", interactive=False, elem_id="saved-hints")

        def on_colorize(label, mode_name, value, ref_path, full):
            if in_between(value, full):
                return gr.skip()  # not a picture at the canvas copy's size: keep the last one
            ref = read_upload(ref_path, "reference") if ref_path else None
            rgb = colorize_page(pick(label, mode_name)[1], value, ref, full)
            return None if rgb is None else pictures.write(rgb)

        def on_open(label, path, colored):
            return open_sketch(pick(label, "deterministic")[0], path, colored, canvas)

        # Gradio 6.31's editor exports its canvases (read back from WebGL, three PNG encodes, three
        # uploads) each time the page asks for its value, and with a `change` listener also after
        # every edit; the page asks again on every loading-status update of each input and output
        # of a server event. That was six to eight exports per stroke. So the editor has no
        # listener of its own and is never a server event's input or output: the page clicks
        # `colorize` when a stroke (or an undo, redo or clear) ends (`STROKE_END_JS`); a
        # browser-side step copies the editor's value (one export) to `from_editor`, a hidden
        # editor that the server reads; and the server's new editor values go to `to_editor`, a
        # hidden one, and on to the editor by a browser-side step.
        def hidden():
            return capped_editor(type="numpy", image_mode="RGBA", format="png", visible=False,
                                 layers=gr.LayerOptions(layers=["hints"]))

        to_editor, from_editor = hidden(), hidden()
        copy = "(value) => value"
        show = dict(fn=None, inputs=to_editor, outputs=editor, js=SHOW_SKETCH_JS)

        def with_editor(listener, **server):
            """`listener` copies the editor to `from_editor` in the browser, then runs `server`."""
            return listener(fn=None, inputs=editor, outputs=from_editor, js=copy).then(**server)

        picture = dict(fn=guard(on_colorize), outputs=output, trigger_mode="always_last",
                       show_progress="hidden", inputs=[model, mode, from_editor, reference, sketch])
        with_editor(colorize.click, **picture)
        with_editor(reference.change, **picture)
        with_editor(mode.change, **picture)
        with_editor(model.change(run_info, model, info).then, **picture)
        for upload in (sketch_file, drop_sketch):
            with_editor(upload.upload(guard(on_open), [model, upload, from_color],
                                      [to_editor, sketch]).success(**show).success, **picture)
        loaded = with_editor(hints_file.upload, fn=guard(load_hints),
                             inputs=[from_editor, hints_file, sketch], outputs=to_editor)
        with_editor(loaded.success(**show).success, **picture)
        with_editor(save.click, fn=guard(lambda value, full: save_hints(value, tmp, full)),
                    inputs=[from_editor, sketch], outputs=saved)
    return page


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", action="append", default=[], metavar="RUN_DIR",
                        help="a training run to offer (its newest checkpoint); repeatable")
    parser.add_argument("--model", action="append", default=[], metavar="FILE",
                        help="a generator .keras file to offer; repeatable")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=7860,
                        help="port to serve on (default %(default)s)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="deterministic mode's arithmetic (default: auto, as predict)")
    parser.add_argument("--canvas", type=int, default=CANVAS_SIDE, metavar="PIXELS",
                        help="the painting canvas's longest side (default %(default)s); the "
                        "sketch keeps its full size on the server, and so does the picture")


def import_gradio():
    """Gradio, with its usage analytics off; a one-line ColorizeError when it is not installed."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        import gradio
    except ImportError:
        raise ColorizeError('the app needs Gradio: pip install "manga-colorize[app]" (or, in a '
                            'clone, pip install -e ".[app]")') from None
    return gradio


def serve(choices: dict[str, Choice], host: str = "127.0.0.1", port: int = 7860,
          block: bool = True, canvas: int = CANVAS_SIDE):
    """Launch the page (never a share tunnel; Pillow refuses more than the page's cap in this
    process from now on); with block=False return the running Blocks."""
    import_gradio()
    limit_pillow()
    tmp = tempfile.mkdtemp(prefix="colorize-app-")
    page = build_page(choices, tmp, canvas)
    page.queue(default_concurrency_limit=1)  # one picture at a time: the model uses every core
    page.launch(server_name=host, server_port=port, share=False, inbrowser=False,
                max_file_size=MAX_UPLOAD_BYTES, allowed_paths=[tmp], show_error=True,
                js=STROKE_END_JS, head=EDITOR_LOOPS_HEAD, css=PAGE_CSS,
                prevent_thread_lock=not block, quiet=not block, ssr_mode=False,
                footer_links=["gradio", "settings"])  # no "Use via API": the page is the app
    return page


def run(args: argparse.Namespace) -> int:
    import_gradio()
    if not args.run and not args.model:
        raise ColorizeError("give at least one --run RUN_DIR or --model FILE")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"colorize app: warning: binding {args.host}: anyone who can reach this machine on "
              "the network can use the page", file=sys.stderr)
    if args.canvas < 64:
        raise ColorizeError(f"--canvas {args.canvas}: give at least 64 pixels")
    choices = load_choices(args.run, args.model, args.precision)
    print(f"colorize app: {len(choices)} model(s) loaded; serving http://{args.host}:{args.port}",
          flush=True)
    serve(choices, args.host, args.port, canvas=args.canvas)
    return 0
