"""The Colorizer API, the any-size method and `colorize predict`."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

from colorize import anysize, demo, sketch
from colorize.cli import main
from colorize.errors import ColorizeError
from colorize.infer import Colorizer, hints_to_cue
from colorize.recipe import Recipe

from conftest import command_error

SIZES = [(257, 300), (1944, 1276), (100, 1000), (64, 64)]
RED, BLUE = (230, 30, 30), (30, 60, 230)


@pytest.fixture(scope="module")
def colorizer(cue_run) -> Colorizer:
    return Colorizer.from_run(cue_run)


def copy_cue(size: int = 32) -> keras.Model:
    """A stand-in generator that outputs its cue channels: shows exactly what the geometry does."""
    inputs = keras.Input((size, size, 4))
    return keras.Model(inputs, keras.layers.Lambda(lambda x: x[..., 1:])(inputs))


@pytest.fixture(scope="module")
def cue_copier() -> Colorizer:
    """A Colorizer of `copy_cue`, shared: each new one traces its graphs again (seconds)."""
    return Colorizer(copy_cue())


def demo_sketch(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A binary sketch of a demo image, resized (nearest, so it stays binary) to height x width."""
    lines = sketch.sketchify(demo.render(seed, 0, 256))
    return cv2.resize(lines, (width, height), interpolation=cv2.INTER_NEAREST)


def mean_hue(rgb: np.ndarray) -> float:
    """Hue angle (degrees) of the mean CIELAB chroma (a*, b*) of (N, 3) uint8 RGB pixels."""
    lab = cv2.cvtColor(rgb.reshape(1, -1, 3), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(float)
    return float(np.degrees(np.arctan2(lab[:, 2].mean() - 128, lab[:, 1].mean() - 128)) % 360)


def hue_distance(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def hint(shape: tuple[int, int], color: tuple[int, int, int]) -> np.ndarray:
    """A hint layer with one broad opaque stroke over the middle."""
    layer = np.zeros((*shape, 4), np.uint8)
    h, w = shape
    layer[h // 6:-h // 6, w // 6:-w // 6] = (*color, 255)
    return layer


# -- the any-size method, with hand-computed cases and a cue-copying stand-in model -------------


def test_fit_keeps_the_aspect_ratio_and_centers():
    assert [int(v) for v in anysize.fit(100, 1000, 32)] == [3, 32, 14, 0]
    assert [int(v) for v in anysize.fit(1944, 1276, 256)] == [256, 168, 0, 44]
    assert [int(v) for v in anysize.fit(64, 64, 32)] == [32, 32, 0, 0]


def test_adaptive_threshold_equals_the_training_sketchify():
    gray = sketch.to_gray(demo.render(3, 1, 96))
    ours = anysize.adaptive_threshold(tf.constant(gray[..., None], tf.float32))
    np.testing.assert_array_equal(ours.numpy()[..., 0], sketch.sketchify(gray))


@functools.cache
def in_graph(fn):
    """fn inside a tf.function of any (H, W, C) uint8 image."""
    return tf.function(fn, input_signature=[tf.TensorSpec([None, None, None], tf.uint8)])


def in_graph_and_eagerly(fn, image: np.ndarray) -> tuple:
    """fn(image) eagerly and inside a tf.function, as numpy."""
    return fn(tf.constant(image)).numpy(), in_graph(fn)(tf.constant(image)).numpy()


@pytest.mark.heavy
def test_to_gray_is_opencvs_for_every_color_and_passes_gray_through():
    code = np.arange(1 << 24, dtype=np.uint32)  # every RGB color once
    rgb = np.stack([code >> 16, code >> 8, code], -1).astype(np.uint8).reshape(4096, 4096, 3)
    for gray in in_graph_and_eagerly(anysize.to_gray, rgb):
        assert gray.shape == (4096, 4096, 1)
        np.testing.assert_array_equal(gray[..., 0], sketch.to_gray(rgb))
    lines = demo_sketch(70, 50)[..., None]
    for gray in in_graph_and_eagerly(anysize.to_gray, lines):
        np.testing.assert_array_equal(gray, lines)


def test_to_gray_refuses_other_channel_counts_in_the_graph_and_colorize_too():
    rgba = np.full((8, 8, 4), 255, np.uint8)  # the SavedModel's callers get the graph's error
    for fn in (anysize.to_gray, in_graph(anysize.to_gray)):
        with pytest.raises(tf.errors.InvalidArgumentError, match="gray .* or RGB"):
            fn(tf.constant(rgba))
    with pytest.raises(ColorizeError, match="uint8 gray or RGB image") as info:
        Colorizer(copy_cue()).colorize(rgba)
    assert info.value.reason == "bad_array"


def colored_line_art_before(image: np.ndarray) -> bool:
    """The numpy test Colorizer.colorize ran before "auto" was decided in the graph."""
    if image.ndim != 3 or image.shape[2] != 3:
        return False
    rgb = image.astype(np.int16)
    inked = sketch.to_gray(image) < 224
    if inked.mean() < 0.001:
        return False
    return float((rgb.max(-1) - rgb.min(-1))[inked].mean()) >= 24


def line_art_of_every_kind() -> dict[str, np.ndarray]:
    """(H, W, C) uint8 sketches that "auto" must tell apart, some right at its thresholds."""
    cases = {}
    for seed, (height, width) in enumerate([(64, 48), (300, 257), (486, 319)]):
        color = cv2.resize(demo.render(seed, seed, 256), (width, height),
                           interpolation=cv2.INTER_AREA)
        lines = sketch.sketchify(color)
        colored = np.where(lines[..., None] < 128, color, np.uint8(255))
        cases |= {f"colored {seed}": colored,
                  f"anti-aliased colored {seed}": cv2.GaussianBlur(colored, (3, 3), 0),
                  f"black {seed}": np.repeat(lines[..., None], 3, axis=-1),
                  f"gray {seed}": lines[..., None],
                  f"anti-aliased gray {seed}": cv2.GaussianBlur(lines, (5, 5), 0)[..., None],
                  f"the picture itself {seed}": color}
    for chroma in (23, 24, 25):  # 200 inked pixels of this chroma on white paper
        image = np.full((40, 40, 3), 255, np.uint8)
        image[10:20, 10:30] = (100 + chroma, 100, 100)
        cases[f"chroma {chroma}"] = image
    mixed = np.full((40, 40, 3), 255, np.uint8)  # a mean chroma of exactly 24: 0 and 48
    mixed[10:20, 10:20], mixed[10:20, 20:30] = (90, 90, 90), (138, 90, 90)
    cases["mean chroma 24"] = mixed
    for size in (1000, 1001):  # one red pixel: an ink share of 0.001, and just below it
        image = np.full((1, size, 3), 255, np.uint8)
        image[0, 0] = (200, 0, 0)
        cases[f"1 inked pixel of {size}"] = image
    cases["blank paper"] = np.full((30, 20, 3), 255, np.uint8)
    return cases


@pytest.mark.heavy
def test_colored_line_art_is_told_in_the_graph_as_before():
    cases = line_art_of_every_kind()
    for name, image in cases.items():
        want = colored_line_art_before(image)
        assert [bool(v) for v in in_graph_and_eagerly(anysize.is_colored_line_art, image)] == [
            want, want], name
    assert [colored_line_art_before(cases[f"chroma {c}"]) for c in (23, 24, 25)] == [
        False, True, True]  # the cases do sit at the thresholds
    assert colored_line_art_before(cases["mean chroma 24"])
    assert [colored_line_art_before(cases[f"1 inked pixel of {n}"]) for n in (1000, 1001)] == [
        True, False]


@pytest.mark.real_data
def test_real_line_art_and_pictures_are_told_in_the_graph_as_before(real_data):
    for path in sorted((real_data / "lineart").glob("*"))[:6] + sorted(
            (real_data / "fullbody").glob("*"))[:4]:
        color = sketch.load_image(str(path))
        colored = np.where(sketch.sketchify(color)[..., None] < 128, color, np.uint8(255))
        for image in (color, colored):
            want = colored_line_art_before(image)
            assert [bool(v) for v in in_graph_and_eagerly(anysize.is_colored_line_art, image)] == [
                want, want], path.name


def test_fill_lines_takes_the_colors_of_the_neighbouring_paper():
    colors = np.zeros((5, 5, 3), np.float32)
    colors[:, :2] = (1.0, 0.0, 0.0)  # red left, blue right, a black line between
    colors[:, 3:] = (0.0, 0.0, 1.0)
    paper = np.ones((5, 5, 1), np.float32)
    paper[:, 2] = 0.0
    filled = anysize.fill_lines(tf.constant(colors), tf.constant(paper)).numpy()
    np.testing.assert_array_equal(filled[:, [0, 1, 3, 4]], colors[:, [0, 1, 3, 4]])
    np.testing.assert_allclose(filled[:, 2], np.tile([0.5, 0.0, 0.5], (5, 1)), atol=1e-6)


@pytest.mark.parametrize("shape", [(1024, 1024), (852, 680), (300, 257), (200, 100), (256, 256)])
def test_upsampling_equals_the_antialiased_bicubic_to_one_level(shape):
    """The plain bicubic kernel used to enlarge gives the antialiased kernel's picture, rounding
    aside; shrinking still antialiases, and the same size is the image itself."""
    rgb = demo.render(1, 2, 1024)
    fit = (256, 256 * shape[1] // shape[0]) if shape[0] >= shape[1] else (256 * shape[0] // shape[1], 256)
    small = tf.image.resize(tf.constant(rgb, tf.float32) / 255.0, fit, antialias=True)
    ours = anysize._to_uint8(anysize._upsample(small, tf.constant(shape))).numpy().astype(int)
    stock = tf.image.resize(small, shape, method="bicubic", antialias=True)
    stock = anysize._to_uint8(stock).numpy().astype(int)
    assert np.abs(ours - stock).max() <= 1 and (ours != stock).mean() < 0.01


@pytest.mark.heavy
@pytest.mark.parametrize("height,width", SIZES)
def test_colors_land_where_the_cue_has_them_without_borders(cue_copier, height, width):
    cue = np.zeros((height, width, 3), np.uint8)
    cue[:, : width // 2] = (200, 40, 40)
    cue[:, width // 2:] = (40, 40, 200)
    paper = np.full((height, width), 255, np.uint8)
    out = cue_copier.colorize(paper, cue)
    assert out.shape == (height, width, 3) and out.dtype == np.uint8
    margin = max(width // 8, 2)  # the color edge is blurred by the model-size round trip
    np.testing.assert_array_equal(out[:, : width // 2 - margin], cue[:, : width // 2 - margin])
    np.testing.assert_array_equal(out[:, width // 2 + margin:], cue[:, width // 2 + margin:])


@pytest.mark.heavy
def test_lines_keep_the_inputs_resolution():
    lines = np.full((1944, 1276), 255, np.uint8)
    lines[1000, :] = 128  # a gray, anti-aliased line
    lines[:, 600] = 0  # a 1-px black one: 0.02 px at the model's size
    cue = np.full((1944, 1276, 3), (90, 160, 220), np.uint8)
    out = Colorizer(copy_cue(), lines="keep").colorize(lines, cue).astype(int)
    assert (out[:, 600] == 0).all()
    np.testing.assert_allclose(out[1000, 700], np.rint(np.array([90, 160, 220]) * 128 / 255),
                               atol=1)
    np.testing.assert_array_equal(out[:999, 601], np.broadcast_to([90, 160, 220], (999, 3)))


# -- the trained model ---------------------------------------------------------------------------


@pytest.mark.parametrize("height,width", SIZES)
def test_any_size_gives_the_sketch_size_and_dark_lines(colorizer, height, width):
    lines = demo_sketch(height, width)
    for way in anysize.LINES:
        out = colorizer.colorize(lines, lines=way)
        assert out.shape == (height, width, 3) and out.dtype == np.uint8
        assert out[lines == 255].mean() > 64  # paper is colored, not dark
        if way == "keep":  # the artist's lines exactly
            assert (out[lines == 0] == 0).all()


def test_at_the_models_size_the_user_gets_the_generators_picture(cue_run):
    colorizer = Colorizer.from_run(cue_run, precision="float32")
    lines = demo_sketch(32, 32)
    cue = np.full((32, 32, 3), (200, 90, 60), np.uint8)
    inputs = colorizer._model_input(lines[..., None], cue)
    raw = colorizer.generator(inputs[None], training=False).numpy()[0]
    expected = np.clip(np.rint((raw + 1.0) * 127.5), 0, 255)
    for way in ("auto", "model", "guided"):
        np.testing.assert_allclose(colorizer.colorize(lines, cue, lines=way), expected, atol=1)
    # a non-square sketch at the model's size: its window of the generator's picture
    wide = demo_sketch(16, 32)
    out = colorizer.colorize(wide, lines="auto")
    inputs = colorizer._model_input(wide[..., None], colorizer.conditioning.user_input(
        wide.shape, cue_sigma=colorizer.cue_sigma))
    raw = colorizer.generator(inputs[None], training=False).numpy()[0, 8:24]
    np.testing.assert_allclose(out, np.clip(np.rint((raw + 1.0) * 127.5), 0, 255), atol=1)


@pytest.mark.heavy
def test_guided_lines_follow_the_input_sketch_at_full_resolution():
    lines = np.full((256, 256), 255, np.uint8)
    lines[:, 100:102] = 0  # a 2-px line: a quarter of a pixel at the model's 32 px
    cue = np.full((256, 256, 3), (90, 160, 220), np.uint8)
    out = Colorizer(copy_cue(), lines="guided").colorize(lines, cue).astype(int)
    # paper next to the line keeps the flat color, at full resolution: no blurred halo
    np.testing.assert_array_equal(out[:, 90], np.broadcast_to([90, 160, 220], (256, 3)))
    np.testing.assert_array_equal(out[:, 112], np.broadcast_to([90, 160, 220], (256, 3)))


def test_predict_and_anysize_offer_the_same_ways():
    from colorize import evaluate, predict_cli

    assert predict_cli.LINES == anysize.LINES == evaluate.LINES


@pytest.mark.heavy
def test_the_ways_are_listed_without_tensorflow_and_checked_by_the_colorizer():
    code = "import sys, colorize.lines\nprint('tensorflow' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"
    with pytest.raises(ColorizeError, match="lines must be one of") as info:
        Colorizer(copy_cue(), lines="sharp")
    assert info.value.reason == "bad_value"
    with pytest.raises(ColorizeError, match="lines must be one of") as info:
        Colorizer(copy_cue()).colorize(demo_sketch(40, 40), lines="sharp")
    assert info.value.reason == "bad_value"


def test_outputs_never_are_lighter_than_gray_line_art(colorizer):
    gray = cv2.GaussianBlur(demo_sketch(300, 200), (3, 3), 0)  # anti-aliased line art
    out = colorizer.colorize(gray, lines="keep")
    assert (out <= gray[..., None]).all()


def test_deterministic_mode_repeats_and_pix2pix_mode_leaves_the_model_unchanged(cue_run,
                                                                               colorizer):
    lines = demo_sketch(80, 120)
    deterministic = colorizer  # the run's own test mode
    assert deterministic.test_mode == "deterministic"
    np.testing.assert_array_equal(deterministic.colorize(lines), deterministic.colorize(lines))
    pix2pix = Colorizer.from_run(cue_run, test_mode="pix2pix")
    before = [v.numpy() for v in pix2pix.generator.variables]
    pix2pix.colorize(lines)
    for value, v in zip(before, pix2pix.generator.variables):
        np.testing.assert_array_equal(value, v.numpy())


def test_run_config_and_records_manifest_set_mode_and_recipe(cue_run, colorizer):
    assert colorizer.test_mode == "deterministic" and colorizer.experiment == "B"
    assert colorizer.recipe == Recipe(block_size=7, threshold_c=2.0, cue_sigma=20 * 32 / 256)
    assert colorizer.cue_sigma(64, 32) == pytest.approx(2 * colorizer.recipe.cue_sigma)


def test_the_generator_file_gives_the_same_colors_as_the_checkpoint(cue_run, colorizer):
    lines = demo_sketch(70, 50)
    from_file = Colorizer.from_model(os.path.join(cue_run, "generator.keras"))
    np.testing.assert_array_equal(from_file.colorize(lines), colorizer.colorize(lines))


def test_red_and_blue_hints_shift_the_hue_their_way(colorizer):
    red_hue, blue_hue = mean_hue(np.array([RED], np.uint8)), mean_hue(np.array([BLUE], np.uint8))
    for seed in (1, 2):
        lines = demo_sketch(160, 120, seed)
        paper = lines == 255
        red, blue = (mean_hue(colorizer.colorize(lines, colorizer.cue_from_hints(
            hint(lines.shape, color)))[paper]) for color in (RED, BLUE))
        assert hue_distance(red, red_hue) < min(hue_distance(blue, red_hue), 45)
        assert hue_distance(blue, blue_hue) < min(hue_distance(red, blue_hue), 45)


# -- cues ----------------------------------------------------------------------------------------


def test_hint_layer_strokes_spread_over_white():
    layer = np.zeros((40, 40, 4), np.uint8)
    assert (hints_to_cue(layer, 5.0) == 255).all()  # no strokes: white
    layer[...] = (255, 0, 0, 255)
    assert (hints_to_cue(layer, 5.0) == (255, 0, 0)).all()  # all stroke: its color
    layer[..., 3] = 128  # half-transparent red on white: pink
    pink = np.broadcast_to((255, 127, 127), (40, 40, 3))
    np.testing.assert_allclose(hints_to_cue(layer, 5.0), pink, atol=1)


def test_a_cue_of_another_aspect_ratio_is_refused(colorizer):
    with pytest.raises(ColorizeError, match="aspect ratio") as info:
        colorizer.colorize(demo_sketch(100, 200), np.full((100, 100, 3), 255, np.uint8))
    assert info.value.reason == "wrong_aspect"


# -- colorize predict ----------------------------------------------------------------------------


def _command_error(argv: list[str]):
    return command_error(["predict", *argv])


def write_png(path, image: np.ndarray) -> str:
    """Write a gray, RGB or RGBA image."""
    if image.ndim == 3:
        code = cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR
        image = cv2.cvtColor(image, code)
    assert cv2.imwrite(str(path), image)
    return str(path)


def test_predict_writes_the_colorized_sketch_at_its_size(cue_run, tmp_path):
    lines = demo_sketch(90, 150)
    src = write_png(tmp_path / "in.png", lines)
    hints = write_png(tmp_path / "hints.png", hint(lines.shape, RED))
    out = tmp_path / "out" / "colored.png"
    assert main(["predict", "--run", cue_run, "--sketch", src, "--hints", hints, "--out", str(out),
                 "--test-mode", "deterministic", "--lines", "keep"]) == 0
    rgb = sketch.load_image(str(out))
    assert rgb.shape == (90, 150, 3)
    assert (rgb[lines == 0] == 0).all()
    assert os.listdir(out.parent) == ["colored.png"]  # no temporary file left


def test_predict_does_a_folder_from_color_images(cue_run, tmp_path):
    src = tmp_path / "colors"
    src.mkdir()
    for i, (h, w) in enumerate([(64, 96), (120, 80)]):
        write_png(src / f"img{i}.png", cv2.resize(demo.render(0, i, 128), (w, h)))
    out = tmp_path / "out"
    assert main(["predict", "--run", cue_run, "--sketch", str(src), "--from-color",
                 "--cue-from", str(src), "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["img0.png", "img1.png"]
    assert sketch.load_image(str(out / "img1.png")).shape == (120, 80, 3)


def _the_run(cue_run, tmp_path) -> str:
    return cue_run


def _experiment_a_run(cue_run, tmp_path) -> str:
    """The same weights under an experiment-A config (the architecture does not depend on it)."""
    run = shutil.copytree(cue_run, tmp_path / "run_a")
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "experiment": "A", "use_cue": False}))
    return str(run)


def _run_without_checkpoints(cue_run, tmp_path) -> str:
    run = tmp_path / "empty_run"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copy(os.path.join(cue_run, "config.json"), run)
    return str(run)


@pytest.mark.parametrize("case,make_run,extra,message,reason", [
    ("missing sketch", _the_run, ["--sketch", "{tmp}/nope.png"], "nope.png: no such file",
     "not_found"),
    ("corrupt sketch", _the_run, ["--sketch", "{tmp}/corrupt.png"],
     "corrupt.png: not a readable image", "undecodable"),
    ("cue not an image", _the_run, ["--sketch", "{tmp}/ok.png", "--cue", "{tmp}/corrupt.png"],
     "corrupt.png: not a readable image", "undecodable"),
    ("hints without alpha", _the_run, ["--sketch", "{tmp}/ok.png", "--hints", "{tmp}/ok.png"],
     "ok.png: not a hint layer", "not_hint_layer"),
    ("cue of another shape", _the_run, ["--sketch", "{tmp}/ok.png", "--cue", "{tmp}/wide.png"],
     "wide.png: the cue", "wrong_aspect"),
    ("cue for experiment A", _experiment_a_run,
     ["--sketch", "{tmp}/ok.png", "--cue", "{tmp}/ok.png"], "experiment-A run",
     "unsupported_condition"),
    ("no checkpoints", _run_without_checkpoints, ["--sketch", "{tmp}/ok.png"], "no checkpoints",
     "no_checkpoint"),
    ("unknown output type", _the_run, ["--sketch", "{tmp}/ok.png", "--out", "{tmp}/out/x.txt"],
     "unknown image extension", "unknown_extension"),
    # what the path is, when it is not a regular file (never opened: a FIFO would block)
    ("hints is a folder", _the_run, ["--sketch", "{tmp}/ok.png", "--hints", "{tmp}/folder"],
     "folder: is a folder, with no image named ok.* for the sketch", "is_folder"),
    ("hints is a FIFO", _the_run, ["--sketch", "{tmp}/ok.png", "--hints", "{tmp}/fifo"],
     "fifo: is not a regular file (a FIFO)", "not_regular_file"),
    ("sketch is a FIFO", _the_run, ["--sketch", "{tmp}/fifo"],
     "fifo: is not a regular file (a FIFO)", "not_regular_file"),
    ("a FIFO in the sketch folder", _the_run, ["--sketch", "{tmp}/sketches", "--out", "{tmp}/out"],
     "a.png: is not a regular file (a FIFO)", "not_regular_file"),
    ("a folder of cues holding a FIFO", _the_run,
     ["--sketch", "{tmp}/ok.png", "--cue", "{tmp}/cues", "--out", "{tmp}/out/x.png"],
     "ok.png: is not a regular file (a FIFO)", "not_regular_file"),
    ("cue is a device", _the_run, ["--sketch", "{tmp}/ok.png", "--cue", "/dev/null"],
     "/dev/null: is not a regular file (a character device)", "not_regular_file"),
    ("reference is a broken link", _the_run, ["--sketch", "{tmp}/ok.png", "--cue-from",
                                              "{tmp}/broken.png"], "broken.png: is a broken link",
     "broken_link"),
    ("run is a file", lambda run, tmp: str(tmp / "ok.png"), ["--sketch", "{tmp}/ok.png"],
     "ok.png: is a file, not a run folder", "not_a_folder"),
])
def test_predict_bad_inputs_fail_with_one_line(cue_run, tmp_path, capsys, case, make_run, extra,
                                               message, reason):
    write_png(tmp_path / "ok.png", demo_sketch(40, 40))
    write_png(tmp_path / "wide.png", np.full((40, 120, 3), 200, np.uint8))
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (tmp_path / "folder").mkdir()
    write_png(tmp_path / "folder" / "other.png", demo_sketch(40, 40))
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "sketches").mkdir()
    os.mkfifo(tmp_path / "sketches" / "a.png")
    (tmp_path / "cues").mkdir()
    os.mkfifo(tmp_path / "cues" / "ok.png")
    os.symlink(tmp_path / "missing.png", tmp_path / "broken.png")
    args = [a.format(tmp=tmp_path) for a in extra]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out" / "x.png")]
    run = make_run(cue_run, tmp_path)
    code = main(["predict", "--run", run, *args])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("colorize predict: error: ") and message in err and "\n" not in err
    assert _command_error(["--run", run, *args]).reason == reason
    assert not (tmp_path / "out").exists()


def test_predict_model_file_that_is_not_a_model(tmp_path, capsys):
    bogus = tmp_path / "generator.keras"
    bogus.write_bytes(b"not a zip")
    write_png(tmp_path / "ok.png", demo_sketch(40, 40))
    argv = ["--model", str(bogus), "--sketch", str(tmp_path / "ok.png"),
            "--out", str(tmp_path / "x.png")]
    assert main(["predict", *argv]) == 2
    assert "not a Keras model file" in capsys.readouterr().err
    assert _command_error(argv).reason == "not_a_model"


@pytest.mark.parametrize("model,message,reason", [
    ("{tmp}", "is a folder, not a generator .keras file", "is_folder"),
    ("{tmp}/fifo", "fifo: is not a regular file (a FIFO)", "not_regular_file"),
])
def test_predict_model_that_is_not_a_file_says_what_it_is(tmp_path, capsys, model, message,
                                                          reason):
    os.mkfifo(tmp_path / "fifo")
    write_png(tmp_path / "ok.png", demo_sketch(40, 40))
    argv = ["--model", model.format(tmp=tmp_path), "--sketch", str(tmp_path / "ok.png"), "--out",
            str(tmp_path / "out" / "x.png")]
    assert main(["predict", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorize predict: error: ") and message in err and "\n" not in err
    assert _command_error(argv).reason == reason


# -- real line art ---------------------------------------------------------------------------------


def test_real_illustrations_are_colorized_at_their_own_sizes(cue_run, colorizer, real_data,
                                                             tmp_path):
    names = ["4.jpg", "13.jpg", "25.jpg"]  # 1276x1944, 640x1138 and 300x231
    src = tmp_path / "in"
    src.mkdir()
    for name in names:
        os.symlink(real_data / "fullbody" / name, src / name)
    out = tmp_path / "out"
    assert main(["predict", "--run", cue_run, "--sketch", str(src), "--from-color",
                 "--cue-from", str(src), "--out", str(out), "--lines", "keep"]) == 0
    for name in names:
        color = sketch.load_image(str(src / name))
        rgb = sketch.load_image(str(out / name.replace(".jpg", ".png")))
        assert rgb.shape == color.shape
        lines = colorizer.sketchify(color)
        assert (rgb[lines == 0] == 0).all()


@pytest.mark.parametrize("layout", ["same file", "same folder", "output is the cue"])
def test_predict_never_overwrites_its_inputs(cue_run, tmp_path, capsys, layout):
    folder = tmp_path / "art"
    folder.mkdir()
    src = write_png(folder / "a.png", demo_sketch(40, 40))
    cue = write_png(tmp_path / "cue.png", np.full((40, 40, 3), 200, np.uint8))
    args = {"same file": ["--sketch", src, "--out", src],
            "same folder": ["--sketch", str(folder), "--out", str(folder)],
            "output is the cue": ["--sketch", src, "--cue", cue, "--out", cue]}[layout]
    before = {p: open(p, "rb").read() for p in (src, cue)}
    assert main(["predict", "--run", cue_run, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorize predict: error: ") and "\n" not in err
    assert _command_error(["--run", cue_run, *args]).reason == "overlaps_input"
    assert {p: open(p, "rb").read() for p in (src, cue)} == before
    assert os.listdir(folder) == ["a.png"]


def is_colored_line_art(image: np.ndarray) -> bool:
    """`anysize.is_colored_line_art` of a gray (H, W) or (H, W, C) numpy sketch."""
    return bool(anysize.is_colored_line_art(tf.constant(np.atleast_3d(image))))


def test_auto_keeps_the_lines_of_colored_line_art_away_from_the_model_size(colorizer):
    lines = demo_sketch(64, 48)
    color = cv2.resize(demo.render(0, 0, 256), (48, 64), interpolation=cv2.INTER_AREA)
    colored = np.where(lines[..., None] < 128, color, np.uint8(255))  # colored line art
    black = np.repeat(lines[..., None], 3, axis=-1)
    assert is_colored_line_art(colored) and not is_colored_line_art(black)
    assert not is_colored_line_art(lines)  # a gray sketch is never colored
    np.testing.assert_array_equal(colorizer.colorize(colored), colorizer.colorize(colored, lines="keep"))
    np.testing.assert_array_equal(colorizer.colorize(black), colorizer.colorize(black, lines="guided"))
    at_model_size = np.where(demo_sketch(32, 32)[..., None] < 128,
                             cv2.resize(color, (32, 32)), np.uint8(255))
    np.testing.assert_array_equal(colorizer.colorize(at_model_size),
                                  colorizer.colorize(at_model_size, lines="model"))


def gray_lines_by_numpy(image: np.ndarray) -> bool:
    """`anysize.has_gray_lines`'s rule in numpy: half or more of the inked pixels (gray below
    224, at least 0.1 % of the pixels) are gray (32 or lighter)."""
    gray = sketch.to_gray(image) if image.ndim == 3 and image.shape[-1] == 3 else image.reshape(
        image.shape[:2])
    inked = gray < 224
    return bool(inked.mean() >= 0.001 and 2 * (inked & (gray >= 32)).sum() >= inked.sum())


def test_gray_line_art_is_told_from_black_and_white_in_the_graph():
    cases = line_art_of_every_kind()
    half = np.full((40, 40), 255, np.uint8)  # 10 black and 10 gray inked pixels: exactly half
    half[5, :10], half[6, :10] = 0, 32
    cases |= {"half gray": half[..., None],
              "just under half": np.where(half == 32, 31, half)[..., None].astype(np.uint8)}
    for name, image in cases.items():
        want = gray_lines_by_numpy(image)
        assert [bool(v) for v in in_graph_and_eagerly(anysize.has_gray_lines, image)] == [
            want, want], name
    assert [gray_lines_by_numpy(cases[k]) for k in ("half gray", "just under half")] == [
        True, False]
    for seed in range(3):  # the paper's binary sketches are not; blurred, they are
        assert not gray_lines_by_numpy(cases[f"gray {seed}"])
        assert not gray_lines_by_numpy(cases[f"black {seed}"])
        assert gray_lines_by_numpy(cases[f"anti-aliased gray {seed}"])
    assert not gray_lines_by_numpy(cases["blank paper"])


@pytest.mark.real_data
def test_real_line_art_is_gray_and_the_recipes_sketch_of_a_picture_is_not(real_data):
    """What docs/inference.md says of `has_gray_lines`: every real sketch drawn by a person is
    drawn in gray levels; the recipe's threshold sketch of a real picture, even saved as a JPEG,
    is not."""
    for path in sorted((real_data / "lineart").glob("*")):
        image = sketch.load_image(str(path))
        assert in_graph_and_eagerly(anysize.has_gray_lines, image)[0], path.name
    for path in sorted((real_data / "fullbody").glob("*"))[:4]:
        lines = sketch.sketchify(sketch.load_image(str(path)))
        jpeg = cv2.imdecode(cv2.imencode(".jpg", lines, [cv2.IMWRITE_JPEG_QUALITY, 75])[1], 0)
        for image in (lines, jpeg):
            assert not anysize.has_gray_lines(tf.constant(image[..., None])), path.name


@pytest.mark.parametrize("drawn", [False, True])
def test_auto_keeps_gray_lines_at_every_size_for_a_model_of_drawn_line_art(drawn):
    """A model of several sketch styles (its recipe reads line art as drawn) draws lines only
    faintly: "auto" lays gray line art's own lines over its colors ("keep") at every size, the
    model's size included, and treats binary line art as a threshold model's "auto" does."""
    colorizer = Colorizer(copy_cue(), recipe=Recipe(7, 2.0, 2.5, binary_sketches=not drawn))
    for height, width in ((64, 48), (32, 32)):
        cue = np.full((height, width, 3), (200, 120, 60), np.uint8)
        binary = demo_sketch(height, width)
        soft = cv2.GaussianBlur(binary, (5, 5), 0)
        assert anysize.has_gray_lines(tf.constant(soft[..., None]))
        plain = "guided" if height != 32 else "model"
        np.testing.assert_array_equal(colorizer.colorize(binary, cue),
                                      colorizer.colorize(binary, cue, lines=plain))
        np.testing.assert_array_equal(colorizer.colorize(soft, cue),
                                      colorizer.colorize(soft, cue, lines="keep" if drawn else plain))
        assert not np.array_equal(colorizer.colorize(soft, cue, lines="keep"),
                                  colorizer.colorize(soft, cue, lines=plain))


@pytest.mark.heavy
def test_auto_rounds_exactly_as_the_way_it_picks(cue_copier):
    """"auto" runs the way it picks in a branch of its graph: the very picture of that way asked by
    name, to the last rounding, over 3 million pixels of every level (noise: colored line art)."""
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (2000, 1500, 3), dtype=np.uint8)
    cue = rng.integers(0, 256, (20, 15, 3), dtype=np.uint8)
    colorizer = cue_copier
    assert is_colored_line_art(noise)
    np.testing.assert_array_equal(colorizer.colorize(noise, cue),
                                  colorizer.colorize(noise, cue, lines="keep"))
    gray = noise[..., 0]
    np.testing.assert_array_equal(colorizer.colorize(gray, cue),
                                  colorizer.colorize(gray, cue, lines="guided"))
