"""`colorize app`'s "Download layers (PSD)" (issue #34): the handler, and the button in a headless
Chromium, with a stand-in model (no training)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio", reason='the app extra is not installed (pip install -e ".[app]")')
psd_tools = pytest.importorskip("psd_tools", reason='psd-tools is not installed (pip install -e '
                                '".[psd]")')

from colorize import psd  # noqa: E402
from colorize.app.choices import Choice  # noqa: E402
from colorize.app.cli import serve  # noqa: E402
from colorize.app.handlers import (Sketch, editor_value, layers_file,  # noqa: E402
                                   merge_layers)
from colorize.errors import ColorizeError  # noqa: E402
from colorize.infer import Colorizer  # noqa: E402

from test_app import RED, Page, _free_port, browser, stroke  # noqa: E402,F401 (browser: a fixture)
from test_infer import copy_cue, demo_sketch  # noqa: E402


def read_psd(data: bytes):
    document = psd_tools.PSDImage.open(io.BytesIO(data))
    return document, list(document), np.asarray(document.composite().convert("RGB")).astype(int)


@pytest.mark.heavy  # its first model call traces the graphs (2 s)
def test_the_layers_file_holds_the_picture_at_the_sketchs_full_size(tmp_path):
    colorizer = Colorizer(copy_cue())  # takes hints (as a B model does), no training
    lines = demo_sketch(160, 120, 1)
    sketch = Sketch.of(lines, side=80)  # the editor paints on a half-size copy
    shown = editor_value(sketch.canvas, stroke(sketch.canvas.shape, RED))
    path = layers_file(colorizer, shown, str(tmp_path), None, sketch)
    assert path == str(tmp_path / "colorized-layers.psd")
    document, layers, composite = read_psd(open(path, "rb").read())
    assert [layer.name for layer in layers] == list(psd.LAYERS)
    assert document.size == (120, 160) and all(layer.size == (120, 160) for layer in layers)
    assert [layer.visible for layer in layers] == [True, True, False]
    strokes = merge_layers(shown["layers"], lines.shape)  # the strokes, enlarged to the sketch
    np.testing.assert_array_equal(np.asarray(layers[2].topil()), strokes)
    keep = colorizer.colorize(lines, hints=strokes, lines="keep")
    assert np.abs(composite - keep).max() <= 1
    with pytest.raises(ColorizeError, match="open a sketch first") as info:
        layers_file(colorizer, None, str(tmp_path))
    assert info.value.reason == "missing_value"


@pytest.fixture(scope="module")
def standin_server():
    colorizer = Colorizer(copy_cue())
    choice = Choice("B · stand-in", "B", {"pix2pix": colorizer, "deterministic": colorizer})
    port = _free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # serve() lowers it
        page = serve({choice.label: choice}, "127.0.0.1", port, block=False, canvas=80)
        yield f"http://127.0.0.1:{port}/", colorizer
        page.close()


@pytest.mark.slow
def test_the_page_downloads_the_layers_as_a_psd(browser, standin_server, tmp_path):
    url, colorizer = standin_server
    lines = demo_sketch(160, 120, 1)
    Image.fromarray(lines).save(tmp_path / "sketch.png")
    ui = Page(browser.new_page(viewport={"width": 1400, "height": 1000}), url)
    ui.open(str(tmp_path / "sketch.png"))
    _, src = ui.wait_for_new_output(None)
    ui.stroke(RED)
    ui.wait_for_new_output(src)
    ui.page.get_by_role("button", name="Download layers (PSD)").click()
    ui.page.wait_for_selector("#layers-file a", timeout=30_000)
    link = ui.page.locator("#layers-file a").first
    assert "colorized-layers\n.psd" in ui.page.inner_text("#layers-file")  # the file's name
    document, layers, composite = read_psd(ui.page.request.get(link.get_attribute("href")).body())
    assert [layer.name for layer in layers] == ["flat colors", "line art", "hints"]
    assert document.size == (120, 160)  # the sketch's full size, not the canvas's
    assert layers[1].blend_mode == psd_tools.constants.BlendMode.MULTIPLY
    assert not layers[2].visible
    strokes = np.asarray(layers[2].topil())
    painted = strokes[..., 3] > 0
    assert 0 < painted.mean() < 0.5  # the red stroke painted in the page
    assert (strokes[painted][:, 0].astype(int) - strokes[painted][:, 2]).mean() > 100
    keep = colorizer.colorize(lines, hints=strokes, lines="keep")
    assert np.abs(composite - keep).max() <= 1
