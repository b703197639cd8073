"""The conditioning seam: A and B as before the refactor, and image ops eagerly and in tf.data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from colorize import anysize, data, experiments
from colorize.config import preset
from colorize.infer import Colorizer

LEGACY = Path(__file__).resolve().parent / "data" / "legacy"  # written by make_legacy.py


def tfrun(fn, *args):
    """fn(*args) eagerly and inside a tf.data map, as numpy (big_vision's check: they can differ)."""
    eager = fn(*(tf.constant(a) for a in args))
    ds = tf.data.Dataset.from_tensors(tuple(tf.constant(a) for a in args)).map(fn)
    in_data = next(iter(ds))
    return tf.nest.map_structure(np.asarray, eager), tf.nest.map_structure(np.asarray, in_data)


@pytest.fixture(scope="module")
def legacy(tmp_path_factory) -> Path:
    """A copy of the run folders written by the code before the conditioning refactor (only read:
    one copy for the module)."""
    return Path(shutil.copytree(LEGACY, tmp_path_factory.mktemp("legacy") / "legacy"))


@pytest.fixture(scope="module")
def legacy_colorizers(legacy) -> dict:
    """{"A", "B": the old run's float32 Colorizer}, made once (each new one traces anew)."""
    return {name: Colorizer.from_run(str(legacy / f"run_{name}"), precision="float32")
            for name in "AB"}


@pytest.mark.heavy
@pytest.mark.parametrize("experiment", ["A", "B"])
def test_runs_from_before_the_refactor_give_the_same_outputs(legacy, legacy_colorizers,
                                                             experiment):
    expected = np.load(legacy / "expected.npz")
    colorizer = legacy_colorizers[experiment]
    assert colorizer.experiment == experiment
    # raw float32 outputs: equal up to the rounding of the CPU's convolution kernels (another CPU
    # model may pick other oneDNN kernels: seen 2e-9 apart); the uint8 pictures: identical
    np.testing.assert_allclose(colorizer.generator(expected["x"], training=False).numpy(),
                               expected[f"{experiment}_raw"], rtol=0, atol=1e-6)
    cue = expected["cue"] if experiment == "B" else None
    # the any-size method of that time is today's lines="keep"
    np.testing.assert_array_equal(colorizer.colorize(expected["sketch"], cue, lines="keep"),
                                  expected[f"{experiment}_colorize"])


@pytest.mark.heavy
def test_generator_file_and_savedmodel_from_before_the_refactor_load(legacy):
    expected = np.load(legacy / "expected.npz")
    from_file = Colorizer.from_model(str(legacy / "run_B" / "generator.keras"),
                                     precision="float32", lines="keep")
    np.testing.assert_array_equal(from_file.colorize(expected["sketch"], expected["cue"]),
                                  expected["B_colorize"])
    serve = tf.saved_model.load(str(legacy / "export_B")).signatures["serving_default"]
    rgb = serve(sketch=tf.constant(expected["sketch"][..., None]),
                cue=tf.constant(expected["cue"]))["rgb"].numpy()
    np.testing.assert_array_equal(rgb, expected["B_colorize"])


@pytest.mark.heavy
def test_new_exports_of_old_runs_keep_the_signature_and_outputs(legacy, legacy_colorizers,
                                                                tmp_path):
    from colorize.export import export

    expected = np.load(legacy / "expected.npz")
    out = export(str(legacy / "run_B"), "savedmodel", str(tmp_path / "serving"))
    serve = tf.saved_model.load(out).signatures["serving_default"]
    assert set(serve.structured_input_signature[1]) == {"sketch", "cue"}
    rgb = serve(sketch=tf.constant(expected["sketch"][..., None]),
                cue=tf.constant(expected["cue"]))["rgb"].numpy()
    colorizer = legacy_colorizers["B"]
    np.testing.assert_array_equal(rgb, colorizer.colorize(expected["sketch"], expected["cue"]))
    raw = colorizer.generator(expected["x"], training=False).numpy()  # the same weights
    np.testing.assert_allclose(raw, expected["B_raw"], rtol=0, atol=1e-6)


def test_old_configs_with_use_cue_still_load(legacy):
    config = json.loads((legacy / "run_A" / "config.json").read_text())
    assert config["use_cue"] is False  # the field that no longer exists
    assert Colorizer.from_run(str(legacy / "run_A")).conditioning.name == "A"


def test_the_experiment_is_the_only_cue_setting():
    from colorize.config import TrainConfig

    assert "use_cue" not in {f for f in TrainConfig.__dataclass_fields__}
    assert preset("A").conditioning.input_channels == preset("B").conditioning.input_channels == 4


@pytest.mark.heavy
@pytest.mark.parametrize("name", sorted(experiments.EXPERIMENTS))
def test_model_input_is_the_same_eagerly_and_in_tf_data(name):
    cond = experiments.of(name)
    rng = np.random.default_rng(0)
    lines = np.where(rng.random((50, 80, 1)) < 0.2, 0, 255).astype(np.uint8)
    user = cond.user_input((50, 80), cue_sigma=lambda h, w: 2.0)
    fn = lambda s, c: anysize.model_input(s, c, 32, cond)
    eager, in_data = tfrun(fn, lines, user)
    assert eager.shape == (32, 32, cond.input_channels)
    np.testing.assert_array_equal(eager, in_data)
    # the padding above and below the 20-row window: paper, and the conditioning's pad value
    assert (eager[:6, :, 0] == 1.0).all() and (eager[:6, :, 1:] == cond.pad_value).all()


_CUE = np.full((40, 60, 3), 200, np.uint8)
_LAYER = np.zeros((40, 60, 4), np.uint8)


@pytest.mark.parametrize(("name", "given", "words", "reason"), [
    ("A", {"cue": _CUE}, "an experiment-A run, trained without cues", "unsupported_condition"),
    ("A", {"hints": _LAYER}, "an experiment-A run, trained without cues", "unsupported_condition"),
    ("B", {"cue": _CUE, "hints": _LAYER}, "give a cue or a hint layer, not both", "conflicting"),
    ("B", {"cue": _CUE[..., 0]}, "a cue must be a uint8 RGB image", "bad_array"),
    ("B", {"cue": _CUE[:20]}, r"the cue \(60x20\) does not have the sketch's", "wrong_aspect"),
    ("B", {"hints": _CUE}, "a hint layer must be a uint8 RGBA image", "bad_array"),
    ("C", {"cue": _CUE}, "an experiment-C model takes a hint layer", "unsupported_condition"),
    ("C", {"hints": _LAYER[:, :20]}, "the hint layer .* aspect ratio", "wrong_aspect"),
])
def test_a_users_condition_is_refused_with_a_reason(name, given, words, reason):
    from colorize.errors import ColorizeError

    with pytest.raises(ColorizeError, match=words) as info:
        experiments.of(name).user_input((40, 60), cue_sigma=lambda h, w: 2.0, **given)
    assert info.value.reason == reason


def test_a_generator_no_experiment_takes_is_refused_with_a_reason():
    from colorize.errors import ColorizeError

    with pytest.raises(ColorizeError, match="no experiment takes 7 input channels") as info:
        experiments.for_channels(7)
    assert info.value.reason == "wrong_model"


def test_c_generators_with_and_without_the_fill_channels_are_both_served():
    """A C run before issue #33 has five input channels, one after it nine."""
    new, old = experiments.for_channels(9), experiments.for_channels(5)
    assert new.name == old.name == "C" and (new.fill, old.fill) == (True, False)
    assert old.channels == ("hint_r", "hint_g", "hint_b", "hint_mask")


@pytest.mark.heavy
def test_jitter_is_the_same_eagerly_and_in_tf_data():
    cfg = preset("B", image_size=32)
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (32, 32, c), dtype=np.uint8) for c in (1, 3, 3)]
    seed = np.array([3, 4, 5, 6], np.int64)
    fn = lambda s, q, c, z: data._jitter(s, q, c, z, cfg)
    eager, in_data = tfrun(fn, *images, seed)
    for a, b in zip(eager, in_data):
        assert a.shape[:2] == (32, 32)
        np.testing.assert_array_equal(a, b)


@pytest.mark.heavy
def test_inference_imports_neither_training_nor_building():
    code = ("import sys, colorize.infer\n"
            "bad = [m for m in ('colorize.train', 'colorize.build', 'colorize.kernels') "
            "if m in sys.modules]\n"
            "print(bad)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.stdout.strip().splitlines()[-1] == "[]"
