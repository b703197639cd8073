"""The page's components, laid out, and its browser-side code (the files in `browser/`).
docs/app.md says why the editor is set up as it is."""

from __future__ import annotations

import dataclasses
from importlib import resources

import gradio as gr

from colorize import experiments
from colorize.app.components import capped_editor, capped_image
from colorize.config import TEST_MODES

PANEL_HEIGHT = 350  # px of the editor and the picture: taller costs the browser time per stroke
BRUSH_COLORS = ["#e61e1e", "#1e3ce6", "#f0c020", "#30b050", "#f4c8a8", "#8a5a3a", "#202020"]
HELP = """\
**Open** line art (any size), or a colored picture with *make the sketch with the training recipe*.
**Paint** rough color strokes on the layer over it; the picture beside it follows each stroke.
How the model reads them is said under the model list.
"""


def browser_code(name: str) -> str:
    """The text of one of the page's browser-side files (package data)."""
    return resources.files(__package__).joinpath("browser", name).read_text(encoding="utf-8")


def launch_code() -> dict[str, str]:
    """The page's own script, head and style, as `Blocks.launch` takes them."""
    return {"js": browser_code("stroke_end.js"), "css": browser_code("page.css"),
            "head": f"<script>\n{browser_code('editor_loops.js')}</script>"}


@dataclasses.dataclass
class Layout:
    """The page's components (the hidden editors: docs/app.md)."""

    model: gr.Dropdown
    mode: gr.Radio
    reach: gr.Checkbox
    info: gr.Markdown
    sketch_file: gr.UploadButton
    from_color: gr.Checkbox
    hints_file: gr.UploadButton
    save: gr.Button
    colorize: gr.Button
    layers: gr.Button
    sketch: gr.State  # the full-size Sketch of this browser session
    editor: gr.ImageEditor
    output: gr.Image
    drop_sketch: gr.Image
    reference: gr.Image
    saved: gr.File
    layers_file: gr.File
    to_editor: gr.ImageEditor
    from_editor: gr.ImageEditor


# the picture panel's label, and while the reach box is ticked, what the panel shows instead
PICTURE_LABEL = "colorized (full size)"
REACH_LABEL = "where the strokes reach (full size; no picture is made while ticked)"


def reference_label() -> str:
    """The reference's label, naming the experiments that take one."""
    names = [name for name, c in experiments.EXPERIMENTS.items() if c.takes_reference]
    return f"{', '.join(names)} runs: colored reference as the cue (optional)"


def controls(labels: list[str], note: str, mode: str, fills: bool = False) -> dict:
    """The model and test mode (`mode`: the first model's), whether to show where the strokes
    reach (shown for a model told so: `fills`, the first model's), the run's note, and the row
    of buttons."""
    with gr.Row():
        model = gr.Dropdown(labels, value=labels[0], label="model", scale=3, elem_id="model")
        mode = gr.Radio(list(TEST_MODES), value=mode, label="test mode", scale=2,
                        elem_id="test-mode")
        reach = gr.Checkbox(False, label="show where the strokes reach (instead of the picture)",
                            scale=1, visible=fills, elem_id="show-reach")
    info = gr.Markdown(note)
    with gr.Row():
        sketch_file = gr.UploadButton("Open sketch", file_types=["image"], type="filepath",
                                      elem_id="open-sketch")
        from_color = gr.Checkbox(False, label="make the sketch with the training recipe "
                                 "(for a colored picture)")
        hints_file = gr.UploadButton("Load hint layer", file_types=[".png"], type="filepath",
                                     elem_id="load-hints")
        save = gr.Button("Save hint layer", elem_id="save-hints")
        colorize = gr.Button("Colorize", elem_id="colorize", variant="primary")
        layers = gr.Button("Download layers (PSD)", elem_id="download-layers")
    return dict(model=model, mode=mode, reach=reach, info=info, sketch_file=sketch_file,
                from_color=from_color, hints_file=hints_file, save=save, colorize=colorize,
                layers=layers)


def panels(canvas: int, reference: bool = True) -> dict:
    """The editor and the picture side by side, and the drop areas below them (the reference's
    shown where the model takes one)."""
    with gr.Row():
        editor = gr.ImageEditor(
            type="numpy", image_mode="RGBA", format="png", label="sketch and hints",
            elem_id="editor", layers=gr.LayerOptions(layers=["hints"]),
            brush=gr.Brush(colors=BRUSH_COLORS, color_mode="defaults",
                           default_size=max(2, round(canvas / 32))),  # Gradio's 25 at 800
            transforms=(), sources=(),  # sketches come in by `open_sketch`, at full size
            canvas_size=(8, 8), height=PANEL_HEIGHT)  # smaller than any sketch: docs/app.md
        output = gr.Image(type="numpy", format="png", label=PICTURE_LABEL,
                          interactive=False, elem_id="output", buttons=["download"],
                          height=PANEL_HEIGHT)
    with gr.Row():
        drop_sketch = capped_image("sketch", label="or drop or paste a sketch here",
                                   sources=("upload", "clipboard"), height=200,
                                   elem_id="drop-sketch")
        reference = capped_image("reference", label=reference_label(),
                                 sources=("upload", "clipboard"), height=200, elem_id="reference",
                                 visible=reference)
        saved = gr.File(label="hint layer PNG", interactive=False, elem_id="saved-hints")
        layers_file = gr.File(label="layers PSD (flat colors, line art, hints)",
                              interactive=False, elem_id="layers-file")
    return dict(editor=editor, output=output, drop_sketch=drop_sketch, reference=reference,
                saved=saved, layers_file=layers_file)


def hidden_editor() -> gr.ImageEditor:
    """An invisible editor that carries the editor's value to or from the server."""
    return capped_editor(type="numpy", image_mode="RGBA", format="png", visible=False,
                         layers=gr.LayerOptions(layers=["hints"]))


def lay_out(labels: list[str], canvas: int, note: str, reference: bool = True,
            mode: str = "deterministic", fills: bool = False) -> Layout:
    """The page's components, inside the Blocks being built; `note`, `reference` (whether it
    takes a colored reference), `mode` (its test mode) and `fills` (whether it is told where
    strokes reach) are the first model's."""
    gr.Markdown("## colorize: paint hints over a sketch\n" + HELP)
    parts = controls(labels, note, mode, fills)
    sketch = gr.State(None)
    parts.update(panels(canvas, reference))
    return Layout(**parts, sketch=sketch, to_editor=hidden_editor(), from_editor=hidden_editor())
