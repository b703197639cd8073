"""`colorize app`: a local web page to paint color hints over a sketch and watch it colorize.

    colorize app --run runs/C-... [--run runs/B-...] [--model generator.keras] [--port 7860]

A Gradio Blocks page on top of `colorize.infer.Colorizer`. The ImageEditor's background is the line
art and its layers are the hint layer of `colorize predict --hints` (opaque pixels are strokes).
Every model is loaded and compiled once at start; the client only picks among them by label, so it
never names a file on the server. Nothing is written into run folders: saved hint layers go to a
temporary folder of this process. The page logic (`open_sketch`, `colorize_page`, ...) takes and
returns numpy arrays, so it is tested without a browser.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import sys
import tempfile
import warnings

import numpy as np
from PIL import Image, ImageOps

from colorize import fileio
from colorize.config import PRECISIONS, TEST_MODES
from colorize.errors import ColorizeError

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # per file
MAX_PIXELS = 4096 * 4096  # per image: a 16-megapixel page takes about a second per picture
IGNORES_HINTS = "ignores hints"


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


def _open_capped(path: str, what: str) -> Image.Image:
    """A PIL image of an uploaded file within the byte and pixel caps; ColorizeError otherwise."""
    name = os.path.basename(path)
    size = os.path.getsize(path)
    if size > MAX_UPLOAD_BYTES:
        raise ColorizeError(f"{name}: {size / 2**20:.1f} MB is over the {MAX_UPLOAD_BYTES // 2**20}"
                            f" MB limit for a {what}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise ColorizeError(f"{name}: {width}x{height} is over the {MAX_PIXELS / 1e6:.1f}"
                                    f" megapixel limit for a {what}")
            im.load()
            return ImageOps.exif_transpose(im)
    except ColorizeError:
        raise
    except Exception as err:  # Pillow raises many types for a file that is not an image
        raise ColorizeError(f"{name}: not a readable image ({type(err).__name__})") from None


def check_pixels(image: np.ndarray, what: str) -> None:
    """The pixel cap for images that reach the page without our upload buttons (drop, paste)."""
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


def open_sketch(choice: Choice, path: str, from_color: bool) -> dict:
    """An uploaded file as the editor's background: line art, or a colored picture sketchified."""
    rgb = read_upload(path)
    if from_color:
        colorizer = next(iter(choice.colorizers.values()))
        rgb = colorizer.sketchify(rgb)
    return editor_value(rgb)


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


def colorize_page(colorizer, value: dict | None, reference: np.ndarray | None = None
                  ) -> np.ndarray | None:
    """The colorized picture (H, W, 3) at the background's full size for an editor value.

    B: a colored `reference`, when given, is the cue (blurred like the training cues); otherwise
    the strokes are. A: the strokes are ignored. None when there is no sketch yet.
    """
    if not value or value.get("background") is None:
        return None
    background = np.asarray(value["background"])
    check_pixels(background, "sketch")
    if background.ndim == 3 and background.shape[2] == 4:
        background = background[..., :3]
    lines = background if background.ndim == 2 else channel_mean(background)
    experiment = colorizer.conditioning.name
    if experiment == "A":
        return colorizer.colorize(lines)
    if experiment == "B" and reference is not None:
        check_pixels(reference, "reference")
        return colorizer.colorize(lines, colorizer.cue_from_reference(np.asarray(reference)[..., :3]))
    return colorizer.colorize(lines, hints=hint_layer(value.get("layers"), lines.shape))


def save_hints(value: dict | None, folder: str) -> str:
    """The editor's hint layer written as a transparent PNG into `folder`; its path."""
    if not value or value.get("background") is None:
        raise ColorizeError("open a sketch and paint some strokes first")
    shape = np.asarray(value["background"]).shape[:2]
    hints = hint_layer(value.get("layers"), shape)
    if hints is None:
        hints = np.zeros((*shape, 4), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(hints, "RGBA").save(buffer, format="PNG")
    path = os.path.join(folder, "hints.png")
    fileio.write_bytes(path, buffer.getvalue())
    return path


def load_hints(value: dict | None, path: str) -> dict:
    """The editor with an uploaded hint layer (resized to the sketch) as its layer."""
    if not value or value.get("background") is None:
        raise ColorizeError("open the sketch first, then load its hint layer")
    background = np.asarray(value["background"])
    hints = read_hint_upload(path)
    from colorize.conditioning import check_aspect

    check_aspect(hints, background.shape[:2], "hint layer")
    if hints.shape[:2] != background.shape[:2]:
        hints = np.asarray(Image.fromarray(hints).resize(background.shape[1::-1], Image.NEAREST))
    return editor_value(background, hints)


# -- the page ---------------------------------------------------------------------------------

HELP = """\
**Open** line art (any size), or a colored picture with *make the sketch with the training recipe*.
**Paint** rough color strokes on the layer over it; the picture beside it follows each stroke.
C runs follow the strokes where they are; B runs blur them into a color cue over the whole picture
(or take a colored reference instead); A runs ignore hints.
"""


def build_page(choices: dict[str, Choice], tmp: str):
    """The Gradio Blocks page for `choices`; `tmp` receives saved hint layers."""
    import gradio as gr

    def guard(fn):
        def wrapped(*args):
            try:
                return fn(*args)
            except ColorizeError as err:
                raise gr.Error(str(err), print_exception=False) from None
        return wrapped

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
        with gr.Row():
            editor = gr.ImageEditor(
                type="numpy", image_mode="RGBA", format="png", label="sketch and hints",
                elem_id="editor", layers=gr.LayerOptions(layers=["hints"]),
                brush=gr.Brush(colors=["#e61e1e", "#1e3ce6", "#f0c020", "#30b050", "#f4c8a8",
                                       "#8a5a3a", "#202020"], color_mode="defaults"),
                transforms=(), sources=("upload", "clipboard"))
            output = gr.Image(type="numpy", format="png", label="colorized (full size)",
                              interactive=False, elem_id="output", buttons=["download"])
        with gr.Row():
            reference = gr.Image(type="numpy", label="B runs: colored reference as the cue "
                                 "(optional)", sources=("upload", "clipboard"), height=200,
                                 elem_id="reference")
            saved = gr.File(label="hint layer PNG", interactive=False, elem_id="saved-hints")

        def on_colorize(label, mode_name, value, ref):
            return colorize_page(pick(label, mode_name)[1], value, ref)

        def on_open(label, path, colored):
            return open_sketch(pick(label, "deterministic")[0], path, colored)

        inputs = [model, mode, editor, reference]
        events = dict(fn=guard(on_colorize), inputs=inputs, outputs=output,
                      trigger_mode="always_last", show_progress="hidden")
        editor.change(**events)
        reference.change(**events)
        mode.change(**events)
        model.change(run_info, model, info).then(**events)
        sketch_file.upload(guard(on_open), [model, sketch_file, from_color], editor)
        hints_file.upload(guard(load_hints), [editor, hints_file], editor)
        save.click(guard(lambda value: save_hints(value, tmp)), editor, saved)
    return page


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", action="append", default=[], metavar="RUN_DIR",
                        help="a training run to offer (its newest checkpoint); repeatable")
    parser.add_argument("--model", action="append", default=[], metavar="FILE",
                        help="a generator .keras file to offer; repeatable")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="deterministic mode's arithmetic (default: auto, as predict)")


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
          block: bool = True):
    """Launch the page (never a share tunnel); with block=False return the running Blocks."""
    import_gradio()
    tmp = tempfile.mkdtemp(prefix="colorize-app-")
    page = build_page(choices, tmp)
    page.queue(default_concurrency_limit=1)  # one picture at a time: the model uses every core
    page.launch(server_name=host, server_port=port, share=False, inbrowser=False,
                max_file_size=MAX_UPLOAD_BYTES, allowed_paths=[tmp], show_error=True,
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
    choices = load_choices(args.run, args.model, args.precision)
    print(f"colorize app: {len(choices)} model(s) loaded; serving http://{args.host}:{args.port}",
          flush=True)
    serve(choices, args.host, args.port)
    return 0
