"""`colorize export`: every format, reloaded in a fresh process, gives the in-memory output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf

from colorize import demo, sketch
from colorize.cli import main
from colorize.infer import Colorizer
from conftest import command_error

# Each script reloads an export at `path` in a fresh Python and maps `inputs` to `outputs`.
RELOAD = {
    "keras": """
import keras
model = keras.models.load_model(path, compile=False)
outputs = {"y": model(inputs["x"], training=False).numpy()}
""",
    "savedmodel": """
import tensorflow as tf
serve = tf.saved_model.load(path).signatures["serving_default"]
outputs = {k: serve(sketch=tf.constant(inputs["sketch_" + k]), cue=tf.constant(inputs["cue_" + k]))
           ["rgb"].numpy() for k in ("small", "tall", "colored")}
""",
    "tflite": """
import tensorflow as tf
interpreter = tf.lite.Interpreter(model_path=path)
interpreter.allocate_tensors()
interpreter.set_tensor(interpreter.get_input_details()[0]["index"], inputs["x"])
interpreter.invoke()
outputs = {"y": interpreter.get_tensor(interpreter.get_output_details()[0]["index"])}
""",
}
# Runs every format's script in one fresh process: folder/FORMAT/{model, inputs.npz} -> outputs.npz.
# It imports TensorFlow (~10 s) while the test process exports, then waits for a line on stdin
# saying the exports are written.
RUNNER = """
import json
import sys
import numpy as np
import keras
import tensorflow as tf
scripts, folder = json.loads(sys.argv[1]), sys.argv[2]
if sys.stdin.readline().strip() != "go":
    sys.exit("the exports were not written")
for fmt, (script, name) in scripts.items():
    path = f"{folder}/{fmt}/{name}"
    namespace = {"path": path, "inputs": dict(np.load(f"{folder}/{fmt}/inputs.npz"))}
    exec(script, namespace)
    np.savez(f"{folder}/{fmt}/outputs.npz", **namespace["outputs"])
"""
OUT_NAME = {"keras": "model.keras", "savedmodel": "model", "tflite": "model.tflite"}


@pytest.fixture(scope="module")
def colorizer(run_b) -> Colorizer:
    return Colorizer.from_run(run_b, test_mode="deterministic", precision="float32")


def colored_line_art(height: int, width: int) -> np.ndarray:
    """A demo picture's colors on its sketch's lines, white paper: (H, W, 3) uint8."""
    color = cv2.resize(demo.render(0, 0, 256), (width, height), interpolation=cv2.INTER_AREA)
    return np.where(sketch.sketchify(color)[..., None] < 128, color, np.uint8(255))


def expected(fmt: str, colorizer: Colorizer) -> tuple[dict, dict]:
    """(inputs, in-memory outputs) of a format: model-space arrays, or uint8 images: gray sketches
    of two sizes, and colored line art."""
    rng = np.random.default_rng(0)
    if fmt != "savedmodel":
        x = rng.uniform(-1, 1, (1, 32, 32, 4)).astype(np.float32)
        return {"x": x}, {"y": colorizer.generator(x, training=False).numpy()}
    inputs = {
        "sketch_small": np.where(rng.random((57, 91, 1)) < 0.2, 0, 255).astype(np.uint8),
        "cue_small": rng.integers(0, 256, (19, 30, 3), dtype=np.uint8),
        "sketch_tall": np.where(rng.random((300, 40, 1)) < 0.1, 0, 255).astype(np.uint8),
        "cue_tall": np.full((1, 1, 3), 255, np.uint8),  # the serving form of "no cue"
        "sketch_colored": colored_line_art(70, 50),  # RGB, not at the model's 32 px
        "cue_colored": np.full((1, 1, 3), 255, np.uint8),
    }
    outputs = {"small": colorizer.colorize(inputs["sketch_small"][..., 0], inputs["cue_small"]),
               "tall": colorizer.colorize(inputs["sketch_tall"][..., 0]),
               "colored": colorizer.colorize(inputs["sketch_colored"], lines="auto")}
    return inputs, outputs


@pytest.fixture(scope="module")
def exported(run_b, colorizer, tmp_path_factory) -> dict:
    """Per format: (export path, in-memory outputs, the export's outputs in a fresh process).
    The fresh process starts first and imports TensorFlow while this one exports."""
    folder = tmp_path_factory.mktemp("exports")
    scripts = {fmt: (RELOAD[fmt], name) for fmt, name in OUT_NAME.items()}
    fresh = subprocess.Popen([sys.executable, "-c", RUNNER, json.dumps(scripts), str(folder)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        want = {}
        for fmt, name in OUT_NAME.items():
            out = folder / fmt / name
            assert main(["export", "--run", run_b, "--format", fmt, "--out", str(out)]) == 0
            assert os.listdir(out.parent) == [name]  # nothing temporary left beside it
            inputs, want[fmt] = expected(fmt, colorizer)
            np.savez(folder / fmt / "inputs.npz", **inputs)
        _, err = fresh.communicate("go\n")
    finally:
        fresh.kill()  # (a no-op once it has exited)
        fresh.wait()
    assert fresh.returncode == 0, err[-3000:]
    return {fmt: (folder / fmt / OUT_NAME[fmt], want[fmt],
                  dict(np.load(folder / fmt / "outputs.npz"))) for fmt in OUT_NAME}


@pytest.mark.parametrize("fmt", list(OUT_NAME))
def test_export_reloaded_in_a_fresh_process_gives_the_same_output(exported, fmt):
    _, want, got = exported[fmt]
    for key, value in want.items():
        assert got[key].shape == value.shape and got[key].dtype == value.dtype
        if fmt == "tflite":  # TFLite's own float kernels
            np.testing.assert_allclose(got[key], value, atol=1e-5)
        else:
            np.testing.assert_array_equal(got[key], value)


@pytest.fixture(scope="module")
def serve(exported):
    """The SavedModel export's signature, loaded here once for the tests that call it."""
    return tf.saved_model.load(str(exported["savedmodel"][0])).signatures["serving_default"]


def test_savedmodel_signature_takes_and_returns_uint8_images_of_any_size(serve):
    specs = serve.structured_input_signature[1]
    assert specs["sketch"].shape.as_list() == [None, None, None]  # gray or RGB
    assert specs["sketch"].dtype == tf.uint8
    assert specs["cue"].shape.as_list() == [None, None, 3] and specs["cue"].dtype == tf.uint8
    assert serve.structured_outputs["rgb"].dtype == tf.uint8


def test_savedmodel_keeps_the_lines_of_colored_line_art_as_colorize_does(exported, serve,
                                                                         colorizer):
    """"auto" is decided in the graph, so the export, like Colorizer.colorize, gives colored line
    art away from the model's size the artist's lines ("keep"), and black line art "guided"."""
    path, want, got = exported["savedmodel"]
    colored = np.load(path.parent / "inputs.npz")["sketch_colored"]
    np.testing.assert_array_equal(got["colored"], want["colored"])  # Colorizer's lines="auto"
    keep = colorizer.colorize(colored, lines="keep")
    np.testing.assert_array_equal(got["colored"], keep)
    assert (keep != colorizer.colorize(colored, lines="guided")).any()
    white = tf.constant(np.full((1, 1, 3), 255, np.uint8))
    black = np.repeat(sketch.sketchify(colored)[..., None], 3, axis=-1)  # black lines, same drawing
    for image in (black, black[..., :1]):
        np.testing.assert_array_equal(serve(sketch=tf.constant(image), cue=white)["rgb"].numpy(),
                                      colorizer.colorize(black, lines="guided"))


def _command_error(argv: list[str]):
    return command_error(["export", *argv])


def test_export_replaces_an_existing_path_only_when_asked(run_b, tmp_path, capsys):
    out = tmp_path / "model.keras"
    assert main(["export", "--run", run_b, "--format", "keras", "--out", str(out)]) == 0
    before = out.stat().st_mtime_ns
    assert main(["export", "--run", run_b, "--format", "keras", "--out", str(out)]) == 2
    assert "exists (pass --overwrite" in capsys.readouterr().err
    argv = ["--run", run_b, "--format", "keras", "--out", str(out)]
    assert _command_error(argv).reason == "exists"
    assert out.stat().st_mtime_ns == before
    assert main(["export", "--run", run_b, "--format", "keras", "--out", str(out),
                 "--overwrite"]) == 0
    assert Colorizer.from_model(str(out)).image_size == 32
    assert sorted(os.listdir(tmp_path)) == ["model.keras"]


def _fake_run(tmp_path, run_b):
    run = shutil.copytree(run_b, tmp_path / "run")
    return run, sorted(p.name for p in run.rglob("*"))


@pytest.mark.parametrize("fmt", ["savedmodel", "keras"])
def test_overwrite_never_replaces_a_run_folder_or_other_files(run_b, tmp_path, capsys, fmt):
    run, listing = _fake_run(tmp_path, run_b)
    other = tmp_path / "models"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    (tmp_path / "old.keras").write_text("not a model")
    targets = {"savedmodel": [run, other], "keras": [tmp_path / "old.keras"]}[fmt]
    for out in targets:
        code = main(["export", "--run", str(run), "--format", fmt, "--out", str(out),
                     "--overwrite"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and err.startswith("colorize export: error: ") and "\n" not in err
        argv = ["--run", str(run), "--format", fmt, "--out", str(out), "--overwrite"]
        assert _command_error(argv).reason == "not_ours"
    assert sorted(p.name for p in run.rglob("*")) == listing  # the run is untouched
    assert (other / "notes.txt").read_text() == "mine"
    assert (tmp_path / "old.keras").read_text() == "not a model"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]


def test_overwrite_replaces_a_previous_savedmodel_export(run_b, exported, tmp_path):
    out = tmp_path / "serving"
    shutil.copytree(exported["savedmodel"][0], out)  # a previous export (the module's)
    before = (out / "saved_model.pb").stat().st_ino
    assert main(["export", "--run", run_b, "--format", "savedmodel", "--out", str(out),
                 "--overwrite"]) == 0
    assert "saved_model.pb" in os.listdir(out)
    assert (out / "saved_model.pb").stat().st_ino != before  # written anew, not left as it was
    assert sorted(os.listdir(tmp_path)) == ["serving"]


@pytest.mark.parametrize("case", ["wrong suffix", "no checkpoints"])
def test_bad_exports_fail_with_one_line(run_b, tmp_path, capsys, case):
    run, out = run_b, tmp_path / "model.keras"
    if case == "wrong suffix":
        out = tmp_path / "model.h5"
    else:
        run = tmp_path / "empty_run"
        (run / "checkpoints").mkdir(parents=True)
        shutil.copy(os.path.join(run_b, "config.json"), run)
    assert main(["export", "--run", str(run), "--format", "keras", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorize export: error: ") and "\n" not in err
    reason = {"wrong suffix": "bad_value", "no checkpoints": "no_checkpoint"}[case]
    argv = ["--run", str(run), "--format", "keras", "--out", str(out)]
    assert _command_error(argv).reason == reason
    assert not out.exists()
