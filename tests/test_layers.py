"""Layered PSD files (issue #34): the layers of `--lines keep`, written with psd-tools, read back
with it (and opened in GIMP where it is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from colorize import psd, sketch
from colorize.cli import main
from colorize.infer import Colorizer

from test_infer import copy_cue, demo_sketch, hint

psd_tools = pytest.importorskip("psd_tools", reason='psd-tools is not installed (pip install -e '
                                '".[psd]")')

RED = (230, 30, 30)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    """An untrained 32 px generator of width 8 saved as a .keras file (no training: the file and
    the pipeline around it are what these tests look at)."""
    from colorize.config import preset
    from colorize.models import build_generator

    path = str(tmp_path_factory.mktemp("tiny") / "generator.keras")
    build_generator(preset("B", image_size=32, width=8, kernels="keras")).save(path)
    return path


def read_psd(path: str):
    """(the document, its layers bottom to top, its composite as (H, W, 3) int)."""
    document = psd_tools.PSDImage.open(path)
    composite = np.asarray(document.composite().convert("RGB")).astype(int)
    return document, list(document), composite


def halves(shape) -> np.ndarray:
    height, width = shape
    cue = np.zeros((height, width, 3), np.uint8)
    cue[:, : width // 2] = (200, 40, 40)
    cue[:, width // 2:] = (40, 40, 200)
    return cue


@pytest.mark.parametrize("shape", [(90, 60), (32, 32), (40, 100)])
def test_the_layers_are_those_of_lines_keep(shape):
    colorizer = Colorizer(copy_cue())
    lines = demo_sketch(*shape)
    rgb_lines = np.stack([lines, np.maximum(lines, 90), lines], -1)  # colored (green-ish) lines
    for image in (lines, rgb_lines):
        layers = colorizer.colorize_layers(image, halves(shape))
        keep = colorizer.colorize(image, halves(shape), lines="keep")
        np.testing.assert_array_equal(layers.picture, keep)  # one code path: the very picture
        assert layers.flat.shape == keep.shape and layers.lines.shape == shape
        np.testing.assert_array_equal(layers.lines, sketch.to_gray(image) if image.ndim == 3
                                      else image)
        multiplied = np.rint(layers.flat * (layers.lines[..., None] / 255.0))
        assert np.abs(multiplied - keep).max() <= 1  # the flat layer is 8 bits before the blend


def test_a_psd_has_the_layers_in_order_at_full_size(tmp_path):
    colorizer = Colorizer(copy_cue())
    lines = demo_sketch(90, 60)
    strokes = hint((45, 30), RED)  # a hint layer of the sketch's aspect ratio, half its size
    layers = colorizer.colorize_layers(lines, hints=strokes)
    path = tmp_path / "page.psd"
    psd.write_psd(path, layers, strokes)
    assert os.listdir(tmp_path) == ["page.psd"]  # no temporary file left
    document, (flat, line_art, hints), composite = read_psd(str(path))
    assert (document.width, document.height) == (60, 90)
    assert not any(layer.has_mask() for layer in document)  # transparency, not masks
    assert [layer.name for layer in document] == list(psd.LAYERS) == [
        "flat colors", "line art", "hints"]
    for layer in document:
        assert (layer.left, layer.top, layer.width, layer.height) == (0, 0, 60, 90)
    assert flat.blend_mode == psd_tools.constants.BlendMode.NORMAL and flat.visible
    assert line_art.blend_mode == psd_tools.constants.BlendMode.MULTIPLY and line_art.visible
    assert not hints.visible
    np.testing.assert_array_equal(np.asarray(flat.topil().convert("RGB")), layers.flat)
    ink = np.asarray(line_art.topil())  # RGBA: black, as opaque as the sketch is dark
    assert ink.shape == (90, 60, 4) and (ink[..., :3] == 0).all()
    np.testing.assert_array_equal(ink[..., 3], 255 - lines)
    np.testing.assert_array_equal(np.asarray(hints.topil()),
                                  psd.hint_layer(strokes, (90, 60)))  # enlarged, nearest
    assert np.abs(composite - layers.picture).max() <= 1  # the --lines keep picture
    # what the program draws from the layers, not only the stored preview
    rendered = np.asarray(document.composite(force=True).convert("RGB")).astype(int)
    assert np.abs(rendered - layers.picture).max() <= 1


def test_without_hints_the_hint_layer_is_empty_and_psd_tools_missing_is_one_line(monkeypatch,
                                                                                  tmp_path):
    import sys

    from colorize.errors import ColorizeError

    layers = Colorizer(copy_cue()).colorize_layers(demo_sketch(40, 40))
    psd.write_psd(tmp_path / "x.psd", layers)
    _, (_, _, hints), _ = read_psd(str(tmp_path / "x.psd"))
    assert not np.asarray(hints.topil())[..., 3].any()
    monkeypatch.setitem(sys.modules, "psd_tools", None)
    with pytest.raises(ColorizeError, match=r'needs psd-tools: pip install') as info:
        psd.write_psd(tmp_path / "y.psd", layers)
    assert info.value.reason == "missing_dependency" and not (tmp_path / "y.psd").exists()


# -- the command ---------------------------------------------------------------------------------


def write_png(path, image) -> str:
    Image.fromarray(image).save(path)
    return str(path)


@pytest.mark.heavy
def test_predict_writes_a_psd_whose_composite_is_the_keep_picture(tiny_model, tmp_path):
    lines = demo_sketch(120, 80, 1)
    src = write_png(tmp_path / "page.png", lines)
    strokes = write_png(tmp_path / "hints.png", hint(lines.shape, RED))
    common = ["predict", "--model", tiny_model, "--sketch", src, "--hints", strokes]
    assert main([*common, "--out", str(tmp_path / "out" / "page.psd")]) == 0
    assert main([*common, "--out", str(tmp_path / "out" / "keep.png"), "--lines", "keep"]) == 0
    keep = sketch.load_image(str(tmp_path / "out" / "keep.png")).astype(int)
    document, layers, composite = read_psd(str(tmp_path / "out" / "page.psd"))
    assert [layer.name for layer in layers] == list(psd.LAYERS)
    assert [layer.size for layer in layers] == [(80, 120)] * 3
    assert [layer.visible for layer in layers] == [True, True, False]
    assert layers[1].blend_mode == psd_tools.constants.BlendMode.MULTIPLY
    assert composite.shape == keep.shape and np.abs(composite - keep).max() <= 1
    np.testing.assert_array_equal(np.asarray(layers[2].topil()), hint(lines.shape, RED))
    assert sorted(os.listdir(tmp_path / "out")) == ["keep.png", "page.psd"]


def test_a_psd_goes_only_with_the_keep_lines(tmp_path, capsys):
    src = write_png(tmp_path / "page.png", demo_sketch(40, 40))
    argv = ["predict", "--model", str(tmp_path / "never-loaded.keras"), "--sketch", src,
            "--out", str(tmp_path / "page.psd"), "--lines", "guided"]
    assert main(argv) == 2
    assert "a PSD file holds the layers of --lines keep" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["page.png"]


GIMP = shutil.which("gimp")
GIMP_LAYERS = """
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "{psd}" "{psd}")))
       (layers (cadr (gimp-image-get-layers image)))
       (i 0))
  (while (< i (vector-length layers))
    (let ((id (vector-ref layers i)))
      (gimp-message (string-append "layer|" (car (gimp-item-get-name id)) "|"
        (if (= (car (gimp-layer-get-mode id)) LAYER-MODE-MULTIPLY) "multiply" "other") "|"
        (number->string (car (gimp-item-get-visible id))) "|"
        (number->string (car (gimp-drawable-width id))) "x"
        (number->string (car (gimp-drawable-height id))) "|"
        (if (= (car (gimp-drawable-has-alpha id)) 1) "alpha" "opaque") "|"
        (if (= (car (gimp-layer-get-mask id)) -1) "no mask" "mask"))))
    (set! i (+ i 1)))
  (let ((flat (car (gimp-image-flatten image))))
    (file-png-save RUN-NONINTERACTIVE image flat "{png}" "{png}" 0 9 0 0 0 0 0)))
"""


@pytest.mark.heavy
@pytest.mark.skipif(GIMP is None, reason="GIMP is not installed (apt-get install gimp)")
def test_gimp_opens_the_psd_with_its_layers(tmp_path):
    """GIMP in batch mode (docs/inference.md has the command): the layers top to bottom, the
    line art in Multiply mode, the hint layer hidden, and the flattened picture is the file's
    composite, the --lines keep picture."""
    lines = demo_sketch(90, 60)
    layers = Colorizer(copy_cue()).colorize_layers(lines, halves(lines.shape))
    path, flattened = tmp_path / "page.psd", tmp_path / "gimp.png"
    psd.write_psd(path, layers, hint(lines.shape, RED))
    script = GIMP_LAYERS.format(psd=path, png=flattened)
    out = subprocess.run([GIMP, "-i", "-b", script, "-b", "(gimp-quit 0)"], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "HOME": str(tmp_path)})
    found = [line.split("layer|", 1)[1] for line in (out.stdout + out.stderr).splitlines()
             if "layer|" in line]
    assert found == ["hints|other|0|60x90|alpha|no mask",  # top to bottom
                     "line art|multiply|1|60x90|alpha|no mask",
                     "flat colors|other|1|60x90|alpha|no mask"], out.stdout + out.stderr
    gimp = sketch.load_image(str(flattened)).astype(int)
    assert np.abs(gimp - layers.picture).max() <= 1
