"""`colorize app`: the page's handlers without a browser, and the page in a real headless Chromium."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import urllib.parse

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio", reason='the app extra is not installed (pip install -e ".[app]")')

from colorize import train  # noqa: E402
from colorize.app import uploads  # noqa: E402
from colorize.app.choices import Choice, load_choices  # noqa: E402
from colorize.app.cli import (TESTED_GRADIO, import_gradio, serve,  # noqa: E402
                              untested_gradio)
from colorize.app.handlers import (Sketch, channel_mean, colorize_page, editor_value,  # noqa: E402
                                   in_between, load_hints, merge_layers, open_sketch, reach_page,
                                   save_hints)
from colorize.app.layout import PICTURE_LABEL, REACH_LABEL  # noqa: E402
from colorize.app.uploads import header_size  # noqa: E402
from colorize.app.wiring import build_page  # noqa: E402
from colorize.config import preset  # noqa: E402
from colorize.errors import ColorizeError  # noqa: E402

from test_experiment_c import boxes  # noqa: E402
from test_infer import demo_sketch  # noqa: E402

RED, BLUE = (230, 30, 30), (30, 60, 230)
CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "")
                 if p and os.path.isfile(p)), None)


@pytest.fixture(scope="module")
def hint_run(cue_run) -> str:
    """conftest's deterministic experiment-B model, where strokes matter (250 steps put a red
    stroke's picture ~94 redness above a blue one's, where the tests ask for 5)."""
    return cue_run


@pytest.fixture(scope="module")
def choices(hint_run):
    return load_choices([hint_run], [])


@pytest.fixture(scope="module")
def a_choices(demo_records, tmp_path_factory):
    """An experiment-A run (a few steps: only its label, its indifference to hints and its test
    mode, A's own pix2pix, matter)."""
    cfg = preset("A", data=demo_records, out=str(tmp_path_factory.mktemp("app_a_run")),
                 image_size=32, width=8, epochs=1, steps_per_epoch=20, eval_images=0,
                 num_samples=1, precision="float32")
    return load_choices([train.train(cfg, log=lambda *a: None)], [])


@pytest.fixture(scope="module")
def c_choices():
    """An untrained tiny experiment-C model with the fill (where strokes reach does not depend
    on the weights)."""
    from colorize.infer import Colorizer
    from colorize.models import build_generator

    cfg = preset("C", image_size=32, width=4)
    colorizer = Colorizer(build_generator(cfg), conditioning=cfg.conditioning,
                          precision="float32", experiment="C")
    return {"C · tiny": Choice("C · tiny", "C", {"deterministic": colorizer,
                                                 "pix2pix": colorizer})}


def redness(rgb: np.ndarray) -> float:
    """Mean red minus mean blue of (N, 3) pixels."""
    rgb = rgb.reshape(-1, 3).astype(float)
    return float(rgb[:, 0].mean() - rgb[:, 2].mean())


def stroke(shape, color, box=None) -> np.ndarray:
    layer = np.zeros((*shape, 4), np.uint8)
    h, w = shape
    (y0, y1), (x0, x1) = box or ((h // 4, 3 * h // 4), (w // 4, 3 * w // 4))
    layer[y0:y1, x0:x1] = (*color, 255)
    return layer


def snapshot(folder: str) -> dict:
    return {os.path.join(d, n): os.stat(os.path.join(d, n)).st_mtime_ns
            for d, _, names in os.walk(folder) for n in names}


# -- the handlers -----------------------------------------------------------------------------


def test_labels_name_experiment_step_and_date(choices, hint_run):
    (label,) = choices
    assert label.startswith("B · step 250 · ") and label.endswith(os.path.basename(hint_run))
    assert set(choices[label].colorizers) == {"pix2pix", "deterministic"}


def test_the_page_starts_each_model_in_its_runs_test_mode(choices, a_choices):
    """The B run was trained with test_mode deterministic; the A run keeps the paper's pix2pix."""
    ((_, b),), ((_, a),) = choices.items(), a_choices.items()
    assert (b.test_mode, a.test_mode) == ("deterministic", "pix2pix")


def test_an_a_run_says_it_ignores_hints_and_does(a_choices):
    ((label, choice),) = a_choices.items()
    assert label.startswith("A · step 20 · ") and label.endswith(" · ignores hints")
    assert not choice.takes_hints
    colorizer = choice.colorizers["deterministic"]
    lines = demo_sketch(96, 64, 2)
    plain = colorize_page(colorizer, editor_value(lines))
    np.testing.assert_array_equal(plain, colorizer.colorize(lines))
    for color in (RED, BLUE):
        painted = colorize_page(colorizer, editor_value(lines, stroke(lines.shape, color)))
        np.testing.assert_array_equal(painted, plain)


def test_the_handler_colorizes_at_full_size_and_follows_the_strokes(choices):
    colorizer = next(iter(choices.values())).colorizers["deterministic"]
    lines = demo_sketch(160, 120, 1)
    value = editor_value(lines)
    empty = colorize_page(colorizer, value)
    assert empty.shape == (160, 120, 3) and empty.dtype == np.uint8
    red, blue = (colorize_page(colorizer, editor_value(lines, stroke(lines.shape, c)))
                 for c in (RED, BLUE))
    assert red.shape == blue.shape == (160, 120, 3)
    paper = lines == 255
    assert redness(red[paper]) > redness(blue[paper]) + 5
    # the same strokes on a half-size layer (the editor's canvas) give the same picture
    small = editor_value(lines, stroke((80, 60), RED))
    np.testing.assert_array_equal(colorize_page(colorizer, small), red)
    assert colorize_page(colorizer, None) is None


def test_the_editor_paints_on_a_small_copy_and_the_picture_keeps_the_full_size(choices):
    colorizer = next(iter(choices.values())).colorizers["deterministic"]
    lines = demo_sketch(160, 120, 1)
    sketch = Sketch.of(lines, side=80)  # what the page keeps; the editor shows .canvas
    assert sketch.canvas.shape == (80, 60) and sketch.lines is lines
    mean_of_2x2 = lines.reshape(80, 2, 60, 2).mean((1, 3))  # lines shrunk by area, not dropped
    np.testing.assert_allclose(sketch.canvas, mean_of_2x2, atol=1)
    assert Sketch.of(lines, side=160).canvas is lines  # small enough: no copy
    full = colorize_page(colorizer, editor_value(lines, stroke(lines.shape, RED)))
    shown = editor_value(sketch.canvas, stroke(sketch.canvas.shape, RED))
    np.testing.assert_array_equal(colorize_page(colorizer, shown, None, sketch), full)
    # a value whose background is not the sketch's canvas copy is colorized as it is
    other = demo_sketch(80, 60, 3)
    assert not sketch.shown_by(editor_value(other)["background"])
    assert in_between(editor_value(other), sketch) and not in_between(shown, sketch)
    alone = colorize_page(colorizer, editor_value(other), None, sketch)
    np.testing.assert_array_equal(alone, colorize_page(colorizer, editor_value(other)))


def test_a_colored_reference_is_the_cue_of_a_b_run(choices):
    colorizer = next(iter(choices.values())).colorizers["deterministic"]
    lines = demo_sketch(160, 120, 1)
    value = editor_value(lines, stroke(lines.shape, BLUE))
    reference = np.broadcast_to(np.array(RED, np.uint8), (80, 60, 3)).copy()
    with_reference = colorize_page(colorizer, value, reference)
    assert redness(with_reference[lines == 255]) > redness(
        colorize_page(colorizer, value)[lines == 255]) + 5


@pytest.mark.heavy
def test_the_page_shows_where_strokes_reach_for_a_model_told_so(choices, c_choices, tmp_path):
    """With the box ticked, a C model's page shows the strokes' reach (`Colorizer.reach`) instead
    of the picture: the stroked box red, the other white; a model without the fill shows its
    picture either way."""
    from colorize.app.wiring import Steps

    steps = Steps({**choices, **c_choices}, str(tmp_path), canvas=80)
    lines = boxes()
    value = editor_value(lines, stroke(lines.shape, RED, ((30, 45), (40, 80))))
    view = reach_page(c_choices["C · tiny"].colorizers["deterministic"], value)
    assert view.shape == (160, 120, 3)
    assert redness(view[22:58, 22:98]) > 150 and (view[102:138, 22:98] > 240).all()
    shown = steps.picture("C · tiny", "deterministic", value, None, None, True)
    np.testing.assert_array_equal(np.asarray(Image.open(shown["value"]).convert("RGB")), view)
    # the panel says what it shows, and so does the file an artist downloads
    assert shown["label"] == REACH_LABEL and os.path.basename(shown["value"]).startswith("reach")
    assert reach_page(c_choices["C · tiny"].colorizers["deterministic"], None) is None
    assert [steps.view(label)[3] for label in steps.choices] == [False, True]
    b = next(iter(choices))
    picture = steps.picture(b, "deterministic", value, None, None, True)  # no reach for B
    assert picture["label"] == PICTURE_LABEL
    np.testing.assert_array_equal(
        np.asarray(Image.open(picture["value"]).convert("RGB")),
        colorize_page(choices[b].colorizers["deterministic"], value))


def test_the_integer_channel_mean_equals_numpys_rounded_float_mean():
    values = np.arange(256, dtype=np.uint8)
    rgb = np.stack(np.meshgrid(values, values, values, indexing="ij"), -1).reshape(256, -1, 3)
    np.testing.assert_array_equal(channel_mean(rgb), rgb.mean(-1).round().astype(np.uint8))


def test_layers_are_laid_over_one_another():
    below, above = stroke((4, 4), RED, ((0, 4), (0, 4))), stroke((4, 4), BLUE, ((0, 2), (0, 4)))
    merged = merge_layers([below, above], (4, 4))
    assert (merged[:2, :, :3] == BLUE).all() and (merged[2:, :, :3] == RED).all()
    assert (merged[..., 3] == 255).all()
    assert merge_layers([np.zeros((4, 4, 4), np.uint8)], (4, 4)) is None


def test_a_hint_layer_saves_as_transparent_png_and_loads_back(tmp_path):
    lines = demo_sketch(60, 40)
    hints = stroke(lines.shape, RED)
    path = save_hints(editor_value(lines, hints), str(tmp_path))
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "RGBA"
    loaded = load_hints(editor_value(lines), path)
    np.testing.assert_array_equal(loaded["layers"][0], hints)
    np.testing.assert_array_equal(loaded["background"][..., 0], lines)
    # with the editor on a half-size copy: saved at the sketch's size, loaded at the canvas's
    lines = demo_sketch(64, 40)
    sketch = Sketch.of(lines, side=32)
    shown = editor_value(sketch.canvas, stroke(sketch.canvas.shape, RED))
    path = save_hints(shown, str(tmp_path), sketch)
    with Image.open(path) as im:
        np.testing.assert_array_equal(np.asarray(im), stroke(lines.shape, RED))
    loaded = load_hints(editor_value(sketch.canvas), path, sketch)
    np.testing.assert_array_equal(loaded["layers"][0], shown["layers"][0])
    opaque = tmp_path / "opaque.png"
    Image.new("RGB", (40, 60), "red").save(opaque)
    with pytest.raises(ColorizeError, match="no transparent pixels"):
        load_hints(editor_value(lines), str(opaque))


def test_uploads_are_capped_and_bad_ones_named(tmp_path, monkeypatch, choices):
    choice = next(iter(choices.values()))
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\nnot an image")
    with pytest.raises(ColorizeError, match="corrupt.png: not a readable image"):
        open_sketch(choice, str(corrupt), False)
    big = tmp_path / "big.png"
    Image.new("L", (300, 200), 255).save(big)
    monkeypatch.setattr(uploads, "MAX_PIXELS", 100 * 100)
    with pytest.raises(ColorizeError, match="300x200 is over the 0.0 megapixel limit"):
        open_sketch(choice, str(big), False)
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(ColorizeError, match="big.png: .* MB is over the 0 MB limit"):
        open_sketch(choice, str(big), False)


def test_an_upload_over_pillows_own_limit_is_refused_for_its_pixels(tmp_path, choices):
    """A file over Pillow's own 89-megapixel warning (it refuses 178) gets the page's message,
    read from its header, not 'not a readable image (DecompressionBombWarning)'."""
    path = tmp_path / "huge.png"
    Image.new("1", (12000, 12000)).save(path)  # 1 bit a pixel: written 5x faster than 8
    with pytest.raises(ColorizeError) as refused:
        open_sketch(next(iter(choices.values())), str(path), False)
    assert str(refused.value) == ("huge.png: 12000x12000 is over the 16.8 megapixel limit for a "
                                  "sketch")
    assert header_size(path.read_bytes()) == header_size(str(path)) == (12000, 12000)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # as serve() does
def test_a_sketch_within_the_cap_reads_in_the_servers_process(tmp_path, monkeypatch):
    """The server lowers Pillow's limit to the page's cap, above which Pillow refuses and below
    which it only warns: a sketch between the two is read, not taken for a decompression bomb."""
    import cv2

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", uploads.MAX_PIXELS // 2)  # as serve() does
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), np.full((3000, 3000), 255, np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    assert uploads.read_upload(str(path)).shape == (3000, 3000, 3)


def test_a_colored_picture_becomes_a_sketch_by_the_training_recipe(tmp_path, choices):
    from colorize import demo

    path = tmp_path / "colored.png"
    Image.fromarray(demo.render(0, 0, 64)).save(path)
    value, sketch = open_sketch(next(iter(choices.values())), str(path), True)
    background = value["background"]
    assert background.shape == (64, 64, 4) and set(np.unique(background[..., 0])) <= {0, 255}
    np.testing.assert_array_equal(sketch.lines, background[..., 0])


def test_the_editor_is_only_read_and_written_by_browser_side_steps(choices, tmp_path):
    """Gradio exports the editor's canvases each time a server event reads it, each time the
    loading status of one of the event's inputs or outputs changes, and after every edit when it
    has a listener: six to eight exports per stroke, most of the page's latency. The page keeps
    it to one (tools/benchmark.py app measures the time; the browser test, that strokes, undo and
    uploads still colorize)."""
    page = build_page(choices, str(tmp_path))
    editor = next(b for b in page.blocks.values() if getattr(b, "elem_id", None) == "editor")
    steps = list(page.fns.values())
    server = [step for step in steps if step.fn is not None]
    assert server and not any(editor in step.inputs + step.outputs for step in server)
    assert not any(target == editor._id for step in steps for target, _ in step.targets)
    assert any(editor in step.inputs for step in steps) and any(editor in step.outputs
                                                                  for step in steps)


def test_the_gradio_pin_is_the_tested_range_and_the_command_warns_on_another(monkeypatch, capsys):
    import configparser

    import gradio

    from colorize import cli

    setup = configparser.ConfigParser()
    setup.read(os.path.join(os.path.dirname(__file__), "..", "setup.cfg"))
    assert f"gradio{TESTED_GRADIO}" in setup["options.extras_require"]["app"].split()
    assert untested_gradio(gradio.__version__) is None  # the tests run on a tested Gradio
    monkeypatch.setattr(gradio, "__version__", "99.0.0")
    assert cli.main(["app"]) == 2  # no model: the warning comes first, at start
    first, *_ = capsys.readouterr().err.splitlines()
    assert first == untested_gradio("99.0.0")
    assert first.startswith("colorize app: warning: Gradio 99.0.0 is not one the page is tested")


def test_without_gradio_the_command_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gradio", None)
    with pytest.raises(ColorizeError, match=r'pip install -e "\.\[app\]"'):
        import_gradio()


# -- the page in a real browser ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test: install Debian's chromium")
        pytest.skip("no system Chromium (apt-get install chromium); CI runs this test")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


CACHE_AGE = 20


def cached_file(src: str) -> str:
    """The file behind a Gradio file URL ('.../gradio_api/file=/tmp/gradio/...png')."""
    return urllib.parse.unquote(urllib.parse.urlsplit(src).path.split("file=", 1)[1])


@pytest.fixture(scope="module")
def server(choices, a_choices, c_choices):
    port = _free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # serve() lowers it
        # the editor paints on a half-size copy of the tests' 160x120 sketches
        # Gradio's cache cleanup sped up (every 2 s, copies older than CACHE_AGE s), so that the
        # page is seen to work on after the copies of its first files are gone
        page = serve({**choices, **a_choices, **c_choices}, "127.0.0.1", port, block=False,
                     canvas=80, cache=(2, CACHE_AGE))
        yield f"http://127.0.0.1:{port}/"
        page.close()


class Page:
    """The app page driven like a user: file chooser, mouse strokes on the canvas."""

    def __init__(self, page, url: str):
        self.page = page
        page.goto(url)
        page.wait_for_selector("#open-sketch")

    def output_src(self) -> str | None:
        img = self.page.locator("#output img")
        return img.get_attribute("src") if img.count() else None

    def open(self, path: str) -> None:
        with self.page.expect_file_chooser() as chooser:
            self.page.click("#open-sketch")
        chooser.value.set_files(path)

    def wait_for_new_output(self, previous: str | None) -> tuple[np.ndarray, str]:
        """The next colorized picture the page shows after `previous` (an img src), and its src."""
        try:
            self.page.wait_for_function(
                "prev => { const img = document.querySelector('#output img');"
                " return img && img.complete && img.src !== prev; }", arg=previous,
                timeout=30_000)
        except Exception as error:  # Playwright's TimeoutError: say what the page showed
            shot = os.path.join(tempfile.mkdtemp(prefix="app-test-"), "page.png")
            self.page.screenshot(path=shot, full_page=True)
            raise AssertionError(f"no new picture within 30 s; the page: {shot}") from error
        src = self.output_src()
        body = self.page.request.get(src).body()
        return np.asarray(Image.open(io.BytesIO(body)).convert("RGB")), src

    def wait_for_canvas(self, shows, timeout: float = 30.0) -> None:
        """Until the editor's canvas, as drawn on the page, `shows(rgb)`: a server step's new
        picture may come before the editor has drawn a layer it was handed, and a stroke painted
        meanwhile lands on a canvas the editor is still laying out."""
        canvas = self.page.locator("#editor canvas").first
        deadline = time.monotonic() + timeout
        while True:
            rgb = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB"))
            if shows(rgb):
                return
            if time.monotonic() > deadline:
                raise AssertionError("the editor's canvas never showed what was loaded")
            time.sleep(0.1)

    def pick(self, color: tuple[int, int, int]) -> tuple[float, float]:
        """Pick a swatch; the middle of the editor's canvas on the page."""
        self.page.click("#editor button[aria-label='Color']")
        r, g, b = color
        self.page.click(f"#editor menu.swatch button[style*='rgb({r}, {g}, {b})']")
        box = self.page.locator("#editor canvas").first.bounding_box()
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def stroke(self, color: tuple[int, int, int]) -> None:
        """Paint a zig-zag over the middle of the sketch."""
        cx, cy = self.pick(color)
        self.page.mouse.move(cx - 40, cy - 60)
        self.page.mouse.down()
        for i in range(1, 5):  # few moves: each one redraws the canvas in software WebGL
            self.page.mouse.move(cx + (40 if i % 2 else -40), cy - 60 + 30 * i)
        self.page.mouse.up()

    def right_stroke(self, color: tuple[int, int, int]) -> None:
        """Paint a short vertical line a little right of the sketch's middle (at any zoom)."""
        cx, cy = self.pick(color)
        self.page.mouse.move(cx + 40, cy - 40)
        self.page.mouse.down()
        self.page.mouse.move(cx + 40, cy + 40, steps=4)
        self.page.mouse.up()

    def drop_sketch(self, path: str) -> None:
        """An image put into the sketch's drop area (as a drop or a paste would)."""
        self.page.locator("#drop-sketch input[type=file]").first.set_input_files(path)

    def undo(self) -> None:
        self.page.click("#editor button[aria-label='Undo']")

    def save_hints(self) -> np.ndarray:
        """Click "Save hint layer" and download the PNG the page offers, as RGBA."""
        link = self.page.locator("#saved-hints a").first
        before = link.get_attribute("href") if link.count() else None
        self.page.click("#save-hints")
        self.page.wait_for_function(
            "prev => { const a = document.querySelector('#saved-hints a');"
            " return a && a.getAttribute('href') !== prev; }", arg=before, timeout=30_000)
        body = self.page.request.get(link.get_attribute("href")).body()
        with Image.open(io.BytesIO(body)) as im:
            assert im.mode == "RGBA"
            return np.asarray(im)

    def load_hints(self, path: str) -> None:
        with self.page.expect_file_chooser() as chooser:
            self.page.click("#load-hints")
        chooser.value.set_files(path)


@pytest.mark.slow
def test_the_page_colorizes_painted_strokes_in_a_browser(browser, server, hint_run, tmp_path):
    before = snapshot(hint_run)
    lines = demo_sketch(160, 120, 1)
    sketch_path, corrupt = tmp_path / "sketch.png", tmp_path / "corrupt.png"
    Image.fromarray(lines).save(sketch_path)
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\nnot an image")
    ui = Page(browser.new_page(viewport={"width": 1400, "height": 1000}), server)

    ui.page.get_by_text("Built with Gradio").first.wait_for(timeout=30_000)  # the footer is there
    assert ui.page.get_by_text("Use via API").count() == 0  # ... without the API page's link
    assert ui.page.is_checked("#test-mode input[value='deterministic']")  # the B run's own
    ui.open(str(sketch_path))
    plain, src = ui.wait_for_new_output(None)
    assert plain.shape == (160, 120, 3)
    first_src = src
    ui.stroke(RED)
    red, src = ui.wait_for_new_output(src)
    # the page found the editor's PixiJS applications (their redraw loops pause after a stroke:
    # a Gradio whose PixiJS lacks the init hook would still work, but slowly)
    assert ui.page.evaluate("globalThis.colorizePauseEditors()") >= 1
    ui.undo()
    undone, src = ui.wait_for_new_output(src)  # the undo is an edit too: wait for its picture
    np.testing.assert_allclose(undone, plain, atol=2)
    ui.stroke(BLUE)
    blue, src = ui.wait_for_new_output(src)
    assert red.shape == blue.shape == (160, 120, 3)
    middle = np.zeros(lines.shape, bool)
    middle[30:130, 20:100] = True
    region = middle & (lines == 255)
    assert redness(red[region]) > redness(blue[region]) + 5

    ui.page.screenshot(path=str(tmp_path / "app.png"), full_page=True)
    artifacts = os.environ.get("COLORIZE_ARTIFACTS")
    if artifacts:
        os.makedirs(artifacts, exist_ok=True)
        shutil.copy(tmp_path / "app.png", os.path.join(artifacts, "app.png"))

    # the hint layer saves as a transparent PNG: the blue strokes, opaque, on a clear layer
    saved = ui.save_hints()
    assert saved.shape == (160, 120, 4)
    painted = saved[..., 3] > 0
    assert 0 < painted.mean() < 0.5
    assert (saved[painted][:, 2].astype(int) - saved[painted][:, 0]).mean() > 100  # blue

    # a corrupt upload shows an error in the page; the next good upload still works
    ui.open(str(corrupt))
    ui.page.get_by_text("corrupt.png: not a readable image").first.wait_for(timeout=30_000)
    ui.open(str(sketch_path))
    again, src = ui.wait_for_new_output(src)
    assert again.shape == (160, 120, 3)
    np.testing.assert_allclose(again, plain, atol=2)  # a new sketch: no strokes

    # a sketch dropped into its drop area is colorized at its full size too
    other_path = tmp_path / "other.png"
    Image.fromarray(demo_sketch(160, 120, 2)).save(other_path)
    ui.drop_sketch(str(other_path))
    dropped, src = ui.wait_for_new_output(src)
    assert dropped.shape == (160, 120, 3) and not np.allclose(dropped, plain, atol=2)
    ui.open(str(sketch_path))
    _, src = ui.wait_for_new_output(src)

    # loading the saved layer brings the strokes back: the blue picture again
    Image.fromarray(saved, "RGBA").save(tmp_path / "hints.png")
    ui.load_hints(str(tmp_path / "hints.png"))
    reloaded, src = ui.wait_for_new_output(src)
    assert not np.allclose(blue, plain, atol=2)  # (so the strokes did come back)
    np.testing.assert_allclose(reloaded, blue, atol=2)

    # a colored reference becomes a B run's cue instead of the strokes: a red picture
    Image.new("RGB", (60, 80), RED).save(tmp_path / "reference.png")
    with ui.page.expect_file_chooser() as chooser:
        ui.page.click("#reference button")  # its drop area: "Drop Image Here - or - Click to Upload"
    chooser.value.set_files(str(tmp_path / "reference.png"))
    referenced, src = ui.wait_for_new_output(src)
    assert redness(referenced[region]) > redness(reloaded[region]) + 5

    # the A run, picked in the model list, says that it ignores hints, and colorizes the sketch
    ui.page.click("#model input")
    ui.page.get_by_role("option", name="ignores hints").click()
    ui.page.get_by_text("colorizes the sketch alone").first.wait_for(timeout=30_000)
    assert "ignores hints" in ui.page.input_value("#model input")
    ui.page.locator("#reference").wait_for(state="hidden", timeout=30_000)  # A takes no cue
    # ... and the test mode follows the model: the B run's deterministic, A's pix2pix
    ui.page.locator("#test-mode input[value='pix2pix']:checked").wait_for(timeout=30_000)
    from_a, src = ui.wait_for_new_output(src)
    assert from_a.shape == (160, 120, 3) and not np.allclose(from_a, referenced, atol=2)

    # Gradio's copies of the first pictures are deleted by its cache cleanup, and the page works on
    assert os.path.isfile(cached_file(src))
    deadline = time.monotonic() + CACHE_AGE + 30
    while os.path.exists(cached_file(first_src)) and time.monotonic() < deadline:
        time.sleep(1)
    assert not os.path.exists(cached_file(first_src))
    ui.stroke(RED)
    again, _ = ui.wait_for_new_output(src)
    assert again.shape == (160, 120, 3)
    assert snapshot(hint_run) == before  # nothing the page does writes into the run folder


EDITOR_STATE = """() => {
  const box = document.querySelector("#editor .image-container");
  return [getComputedStyle(box, "::after").content,
          getComputedStyle(box.querySelector("canvas")).visibility,
          getComputedStyle(box.querySelector("button")).visibility];
}"""


@pytest.fixture(scope="module")
def fresh_page(browser, server, tmp_path_factory):
    """A fresh page: what covers its editor before a sketch is open and after, and the page with
    that sketch open (its picture's src) for the hint layer's test to go on from, as a user
    would (one page load, sketch upload and picture for the two tests)."""
    folder = tmp_path_factory.mktemp("fresh_page")
    Image.fromarray(demo_sketch(160, 120, 1)).save(folder / "sketch.png")
    ui = Page(browser.new_page(viewport={"width": 1400, "height": 1000}), server)
    ui.page.wait_for_selector("#editor .image-container canvas", state="attached")
    before = ui.page.evaluate(EDITOR_STATE)
    ui.open(str(folder / "sketch.png"))
    _, src = ui.wait_for_new_output(None)
    return ui, src, before, ui.page.evaluate(EDITOR_STATE)


@pytest.mark.slow
def test_a_fresh_page_says_to_open_a_sketch_where_the_editor_will_be(fresh_page):
    """Before a sketch is open the editor's empty canvas (8 x 8 at 1000 %, under Gradio's "select
    the draw tool to start") is covered by what to do; opening a sketch shows the editor."""
    _, _, (message, canvas, tools), opened = fresh_page
    assert "Open a sketch" in message and canvas == tools == "hidden"
    assert opened == ["none", "visible", "visible"]


@pytest.mark.slow
def test_a_hint_layer_loaded_on_a_fresh_page_lies_on_the_sketch(fresh_page, tmp_path):
    """The loaded strokes lie where they are on the sketch, in the editor's own export too: a
    stroke painted beside them keeps them (Gradio lays a layer from the server out in the box of
    the editor's canvas_size, which on a fresh page put them off the sketch; see build_page)."""
    ui, src, _, _ = fresh_page  # the sketch (demo_sketch(160, 120, 1)) open, nothing else done
    box = (slice(40, 120), slice(5, 55))  # left of the middle
    Image.fromarray(stroke((160, 120), BLUE, ((40, 120), (5, 55))), "RGBA").save(
        tmp_path / "hints.png")
    ui.load_hints(str(tmp_path / "hints.png"))
    _, src = ui.wait_for_new_output(src)
    ui.wait_for_canvas(lambda rgb: (rgb[..., 2].astype(int) - rgb[..., 0] > 100).any())  # blue
    ui.right_stroke(RED)  # the page's next picture is from the editor's export
    ui.wait_for_canvas(lambda rgb: (rgb[..., 0].astype(int) - rgb[..., 2] > 100).any())  # red
    ui.wait_for_new_output(src)
    both = ui.save_hints()
    painted = both[..., 3] > 0
    blues = painted & (both[..., 2].astype(int) - both[..., 0] > 100)
    reds = painted & (both[..., 0].astype(int) - both[..., 2] > 100)
    assert blues[box].mean() > 0.9 and blues.sum() < 1.1 * blues[box].size  # where it was
    assert reds.any() and not reds[box].any()  # the new stroke, beside it


@pytest.mark.slow
def test_the_page_shows_where_strokes_reach_in_a_browser(browser, server, tmp_path):
    """The reach box is offered for a C model only; ticked, the picture panel shows where the
    loaded strokes reach (their box red, the other white); unticked, the picture again."""
    lines = boxes()
    Image.fromarray(lines).save(tmp_path / "boxes.png")
    Image.fromarray(stroke(lines.shape, RED, ((30, 45), (40, 80))), "RGBA").save(
        tmp_path / "hints.png")
    ui = Page(browser.new_page(viewport={"width": 1400, "height": 1000}), server)
    ui.page.locator("#show-reach").wait_for(state="hidden", timeout=30_000)  # the B run's page
    ui.page.click("#model input")
    ui.page.get_by_role("option", name="C · tiny").click()
    ui.page.locator("#show-reach").wait_for(state="visible", timeout=30_000)
    ui.open(str(tmp_path / "boxes.png"))
    _, src = ui.wait_for_new_output(None)
    ui.load_hints(str(tmp_path / "hints.png"))
    picture, src = ui.wait_for_new_output(src)
    label = ui.page.locator("#output [data-testid='block-label']")
    assert label.inner_text().strip() == PICTURE_LABEL
    ui.page.click("#show-reach input")
    view, src = ui.wait_for_new_output(src)
    assert view.shape == (160, 120, 3)
    assert redness(view[22:58, 22:98]) > 150 and (view[102:138, 22:98] > 240).all()
    assert label.inner_text().strip() == REACH_LABEL  # the panel says it is not the picture
    ui.page.click("#show-reach input")
    again, _ = ui.wait_for_new_output(src)
    np.testing.assert_allclose(again, picture, atol=2)
    assert label.inner_text().strip() == PICTURE_LABEL


def test_the_command_needs_a_model_and_names_a_bad_run(tmp_path, capsys):
    from colorize import cli

    assert cli.main(["app"]) == 2
    assert "give at least one --run RUN_DIR or --model FILE" in capsys.readouterr().err
    assert cli.main(["app", "--run", str(tmp_path), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "anyone who can reach this machine" in err and "not a run folder" in err
    assert cli.main(["app", "--run", str(tmp_path), "--canvas", "10"]) == 2
    assert "--canvas 10: give at least 64 pixels" in capsys.readouterr().err


@pytest.mark.slow
def test_the_readme_screenshot_tool_shows_the_colorized_page(browser, choices, c_choices,
                                                              tmp_path):
    """tools/app_screenshot.py (the README's picture): the whole page, once the picture is in;
    with `reach`, once the view of where the strokes reach has replaced it."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
    import app_screenshot

    colored = np.asarray(Image.open(os.path.join(os.path.dirname(__file__), "..", "docs", "images",
                                                 "gallery.png")).convert("RGB"))[:96, :96]
    Image.fromarray(colored).save(tmp_path / "colored.png")
    hints = app_screenshot.hint_layer_for(str(tmp_path / "colored.png"), 4, seed=0)
    assert hints.shape == (96, 96, 4) and (hints[..., 3] > 0).any()
    Image.fromarray(hints, "RGBA").save(tmp_path / "hints.png")
    png = app_screenshot.screenshot(browser, choices, str(tmp_path / "colored.png"),
                                    str(tmp_path / "hints.png"), 80, (1000, 800))
    with Image.open(io.BytesIO(png)) as shot:
        assert shot.width == 1000 and shot.height >= 800
    Image.fromarray(colored[:, :50]).save(tmp_path / "wide.png")
    with pytest.raises(ColorizeError, match="wide.png: strokes are simulated on square pictures"):
        app_screenshot.hint_layer_for(str(tmp_path / "wide.png"), 4, seed=0)
    # line art of its own size, opened as it is, with strokes placed by hand for its name
    lines = np.full((72, 96, 3), 255, np.uint8)
    lines[:, 40:42] = lines[30:32, :] = 0
    Image.fromarray(lines).save(tmp_path / "drawn.png")
    (tmp_path / "strokes.json").write_text(json.dumps({"drawn.png": [
        {"color": [200, 40, 40], "width": 0.05, "points": [[0.1, 0.6], [0.3, 0.8]]}]}))
    layer = app_screenshot.hand_hint_layer(str(tmp_path / "drawn.png"),
                                           str(tmp_path / "strokes.json"))
    assert layer.shape == (72, 96, 4)
    painted = layer[..., 3] == 255
    assert painted.any() and (layer[painted][:, :3] == (200, 40, 40)).all()
    Image.fromarray(layer, "RGBA").save(tmp_path / "drawn-hints.png")
    # (one page for both: the line art as it is, and then where its strokes reach)
    png = app_screenshot.screenshot(browser, c_choices, str(tmp_path / "drawn.png"),
                                    str(tmp_path / "drawn-hints.png"), 80, (1000, 800),
                                    reach=True, recipe=False)
    with Image.open(io.BytesIO(png)) as shot:
        assert shot.width == 1000 and shot.height >= 800
    # a sketch the file places no strokes on: one line naming both, exit 2, nothing written
    Image.fromarray(lines).save(tmp_path / "other.png")
    out = tmp_path / "shot.png"
    assert app_screenshot.main(["--run", str(tmp_path), "--lineart", str(tmp_path / "other.png"),
                                "--strokes-file", str(tmp_path / "strokes.json"),
                                "--out", str(out)]) == 2
    assert not out.exists()
    with pytest.raises(ColorizeError, match=r"strokes.json: no strokes for other.png \(its "
                                            r"sketches: drawn.png\)"):
        app_screenshot.hand_hint_layer(str(tmp_path / "other.png"), str(tmp_path / "strokes.json"))
