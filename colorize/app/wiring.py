"""The page: its layout wired to the handlers. The editor is only read and written by browser-side
steps, never by a server event (docs/app.md says why)."""

from __future__ import annotations

import collections
import itertools
import os
import shutil
import threading

import gradio as gr
import numpy as np

from colorize import fileio
from colorize.app import handlers
from colorize.app.choices import Choice
from colorize.app.components import guard
from colorize.app.layout import PICTURE_LABEL, REACH_LABEL, Layout, browser_code, lay_out
from colorize.app.uploads import read_upload
from colorize.config import TEST_MODES
from colorize.errors import ColorizeError


class Pictures:
    """The page's pictures as PNG files written by OpenCV at its speed setting (faster than
    Gradio's own PNG of an array). The newest `keep` stay; older ones are removed (Gradio has
    copied each into its cache by then)."""

    def __init__(self, folder: str, keep: int = 8):
        self.folder, self.keep = folder, keep
        self.paths: collections.deque[str] = collections.deque()
        self.count = itertools.count()
        self.lock = threading.Lock()

    def write(self, rgb: np.ndarray, name: str = "colorized") -> str:
        with self.lock:
            path = os.path.join(self.folder, f"{name}-{next(self.count)}.png")
        fileio.write_image(path, rgb)  # outside the lock: another request's picture may encode
        with self.lock:
            self.paths.append(path)
            while len(self.paths) > self.keep:
                os.remove(self.paths.popleft())
        return path


class Steps:
    """The page's server-side steps for `choices`; saved hint layers and pictures go to `tmp`."""

    def __init__(self, choices: dict[str, Choice], tmp: str, canvas: int):
        self.choices, self.tmp, self.canvas = choices, tmp, canvas
        self.pictures = Pictures(tmp)
        # one model call at a time (it uses every core; pix2pix mode puts the batch-norm state
        # back after each); the requests' uploads and pictures are decoded and encoded meanwhile
        self.model_lock = threading.Lock()
        self.lock, self.count = threading.Lock(), itertools.count()
        self.layer_folders: collections.deque[str] = collections.deque()

    def pick(self, label: str, mode: str) -> Choice:
        if label not in self.choices or mode not in TEST_MODES:
            raise ColorizeError("choose one of the models this server was started with",
                                reason="bad_value")
        return self.choices[label]

    def view(self, label: str) -> tuple[str, bool, str, bool]:
        """What the page shows for the picked model: its note, whether it takes a colored
        reference (its drop area shown only then), the test mode it starts in, and whether it
        is told where strokes reach (the box that shows it offered only then)."""
        choice = self.choices.get(label)
        if choice is None:
            return "", False, "deterministic", False
        return choice.note, choice.conditioning.takes_reference, choice.test_mode, choice.fills

    def model_changed(self, label: str):
        """The picked model's note, its reference drop area's visibility, its test mode, and
        the reach box's visibility."""
        note, reference, mode, fills = self.view(label)
        return note, gr.update(visible=reference), mode, gr.update(visible=fills)

    def picture(self, label, mode, value, reference_path, sketch, reach=False):
        """The picture, or with `reach` (for a model told so) where the strokes reach, the
        panel's label and the file's name saying which."""
        if handlers.in_between(value, sketch):
            return gr.skip()  # not a picture at the canvas copy's size: keep the last one
        choice = self.pick(label, mode)
        colorizer = choice.colorizers[mode]
        reach = bool(reach and choice.fills)
        if reach:
            rgb = handlers.reach_page(colorizer, value, sketch)  # no model call: no lock
        else:
            reference = read_upload(reference_path, "reference") if reference_path else None
            with self.model_lock:
                rgb = handlers.colorize_page(colorizer, value, reference, sketch)
        path = None if rgb is None else self.pictures.write(rgb, "reach" if reach else "colorized")
        return gr.update(value=path, label=REACH_LABEL if reach else PICTURE_LABEL)

    def open(self, label, path, from_color):
        with self.model_lock:
            return handlers.open_sketch(self.pick(label, "deterministic"), path, from_color,
                                        self.canvas)

    def save(self, value, sketch):
        return handlers.save_hints(value, self.tmp, sketch)

    def layers(self, label, mode, value, reference_path, sketch):
        """The picture's layered PSD, in a folder of its own (the newest `keep` stay)."""
        reference = read_upload(reference_path, "reference") if reference_path else None
        colorizer = self.pick(label, mode).colorizers[mode]
        with self.lock:
            folder = os.path.join(self.tmp, f"layers-{next(self.count)}")
        os.makedirs(folder)
        try:
            path = handlers.layers_file(colorizer, value, folder, reference, sketch,
                                        self.model_lock)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        with self.lock:
            self.layer_folders.append(folder)
            while len(self.layer_folders) > self.pictures.keep:
                shutil.rmtree(self.layer_folders.popleft(), ignore_errors=True)
        return path


def wire(page: Layout, steps: Steps) -> None:
    """The page's events; each server step that reads the editor's value reads `from_editor`,
    filled by a browser-side copy of the editor just before it."""
    copy = browser_code("copy_value.js")

    def with_editor(listener, **server):
        return listener(fn=None, inputs=page.editor, outputs=page.from_editor, js=copy
                        ).then(**server)

    show = dict(fn=None, inputs=page.to_editor, outputs=page.editor,
                js=browser_code("show_sketch.js"))
    picture = dict(fn=guard(steps.picture), outputs=page.output, trigger_mode="always_last",
                   show_progress="hidden", inputs=[page.model, page.mode, page.from_editor,
                                                   page.reference, page.sketch, page.reach])
    with_editor(page.colorize.click, **picture)
    with_editor(page.reference.change, **picture)
    # the user's pick of a test mode (`input`: not the model's own, set below with the model)
    with_editor(page.mode.input, **picture)
    with_editor(page.reach.input, **picture)
    with_editor(page.model.change(steps.model_changed, page.model,
                                  [page.info, page.reference, page.mode, page.reach]).then,
                **picture)
    for upload in (page.sketch_file, page.drop_sketch):
        opened = upload.upload(guard(steps.open), [page.model, upload, page.from_color],
                               [page.to_editor, page.sketch])
        with_editor(opened.success(**show).success, **picture)
    loaded = with_editor(page.hints_file.upload, fn=guard(handlers.load_hints),
                         inputs=[page.from_editor, page.hints_file, page.sketch],
                         outputs=page.to_editor)
    with_editor(loaded.success(**show).success, **picture)
    with_editor(page.save.click, fn=guard(steps.save), inputs=[page.from_editor, page.sketch],
                outputs=page.saved)
    with_editor(page.layers.click, fn=guard(steps.layers), outputs=page.layers_file,
                inputs=[page.model, page.mode, page.from_editor, page.reference, page.sketch])


def build_page(choices: dict[str, Choice], tmp: str, canvas: int = handlers.CANVAS_SIDE,
               cache: tuple[int, int] | None = None) -> gr.Blocks:
    """The Gradio Blocks page for `choices`; `tmp` receives saved hint layers and pictures; the
    editor paints on the sketch shrunk to at most `canvas` pixels a side; `cache`: Gradio's
    `delete_cache` (every `cache[0]` s, its copies of the page's files older than `cache[1]` s
    are deleted)."""
    steps = Steps(choices, tmp, canvas)
    labels = list(choices)
    with gr.Blocks(title="colorize", analytics_enabled=False, delete_cache=cache) as blocks:
        wire(lay_out(labels, canvas, *steps.view(labels[0])), steps)
    return blocks
