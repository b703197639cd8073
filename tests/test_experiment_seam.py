"""An experiment is one file: a fake one, registered here, goes through training, predict, the
hint sweep and the app's handlers without touching any other file (issue #31)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from colorize import experiments
from colorize.experiments.base import WHITE_CUE, Conditioning, check_aspect, resize_cue


class GrayCue(Conditioning):
    """A stand-in experiment: the sketch and the luminance of the blurred cue (2 channels)."""

    name = "GRAY"
    description = "the blurred cue's luminance"
    channels = ("cue_gray",)
    input_name = "sketch_and_gray_cue"
    serving_input = "cue"
    reads_hints = False
    takes_reference = True
    page_note = "GRAY run: a gray cue."
    sweep_curves = {"gray cue": "example", "no cue": "none"}

    def training_condition(self, example):
        return tf.reduce_mean(example["cue"], axis=-1, keepdims=True)

    def user_input(self, shape, *, cue=None, hints=None, cue_sigma=None):
        if cue is None:
            return WHITE_CUE
        check_aspect(cue, shape, "cue")
        return np.asarray(cue, np.uint8)

    def user_condition(self, image, height, width):
        return tf.reduce_mean(resize_cue(image, height, width), axis=-1, keepdims=True)

    def example_hints(self, example):
        return {"cue": example["cue"]}


@pytest.fixture(scope="module")
def gray_run(demo_records, tmp_path_factory):
    """A few training steps of the fake experiment, registered for this module only."""
    from colorize import train
    from colorize.config import preset

    experiments.register(GrayCue())
    cfg = preset("GRAY", data=demo_records, out=str(tmp_path_factory.mktemp("gray")),
                 image_size=32, width=8, epochs=1, steps_per_epoch=3, eval_images=4,
                 num_samples=1, precision="float32")
    yield train.train(cfg, log=lambda *a: None)
    del experiments.EXPERIMENTS["GRAY"]


@pytest.fixture(scope="module")
def gray_colorizer(gray_run):
    """The fake run's deterministic float32 Colorizer, shared (each new one traces anew)."""
    from colorize.infer import Colorizer

    return Colorizer.from_run(gray_run, test_mode="deterministic", precision="float32")


def _examples(demo_records, n=2):
    from colorize.records import read_records

    for i, ex in enumerate(read_records(demo_records, "test")):
        if i == n:
            return
        yield ex["source"], {"sketch": ex["sketch"][..., 0], "cue": ex["cue"], "color": ex["color"]}


def test_a_registered_experiment_trains_and_predicts_at_any_size(gray_colorizer, demo_records):
    colorizer = gray_colorizer
    assert colorizer.experiment == "GRAY" and colorizer.conditioning.input_channels == 2
    assert colorizer.generator.input_shape == (None, 32, 32, 2)
    _, ex = next(_examples(demo_records))
    sketch = np.kron(ex["sketch"], np.ones((2, 3), np.uint8))  # 64 x 96: not the model's size
    red = np.zeros((2, 3, 3), np.uint8)
    red[..., 0] = 255
    plain, tinted = colorizer.colorize(sketch), colorizer.colorize(sketch, red)
    assert plain.shape == tinted.shape == (64, 96, 3)
    assert not np.array_equal(plain, tinted)  # the cue reaches the generator


def test_a_registered_experiment_goes_through_the_hint_sweep(gray_colorizer, demo_records):
    from colorize.hint_sweep import hint_sweep

    colorizer = gray_colorizer
    result = hint_sweep({"gray": colorizer}, _examples(demo_records), strokes=(0, 4))
    assert {"gray: gray cue", "gray: no cue"} <= set(result["curves"])
    for curve in ("gray: gray cue", "gray: no cue"):  # one picture for every count
        assert len({p["psnr"] for p in result["curves"][curve]}) == 1
    assert result["curves"]["gray: gray cue"][0] != result["curves"]["gray: no cue"][0]


def test_a_registered_experiment_goes_through_the_apps_handlers(gray_run, demo_records, tmp_path):
    """Its label and note are its own; the page gives it a colored reference as its cue and, as
    it reads no hints, colorizes the sketch alone whatever is painted."""
    from PIL import Image

    from colorize.app.choices import load_choices
    from colorize.app.handlers import colorize_page, editor_value, open_sketch

    ((label, choice),) = load_choices([gray_run], [], precision="float32").items()
    assert label.startswith("GRAY · step 3 · ") and label.endswith(" · ignores hints")
    assert choice.note == "GRAY run: a gray cue." and not choice.takes_hints
    colorizer = choice.colorizers["deterministic"]
    _, ex = next(_examples(demo_records))
    lines = np.kron(ex["sketch"], np.ones((2, 3), np.uint8))  # 64 x 96
    Image.fromarray(lines).save(tmp_path / "sketch.png")
    value, sketch = open_sketch(choice, str(tmp_path / "sketch.png"), False, side=48)
    assert sketch.canvas.shape == (32, 48)
    plain = colorize_page(colorizer, value, None, sketch)
    np.testing.assert_array_equal(plain, colorizer.colorize(lines))
    strokes = np.zeros((32, 48, 4), np.uint8)
    strokes[8:24, 8:40] = (230, 30, 30, 255)
    painted = colorize_page(colorizer, editor_value(sketch.canvas, strokes), None, sketch)
    np.testing.assert_array_equal(painted, plain)
    red = np.zeros((2, 3, 3), np.uint8)
    red[..., 0] = 255
    referenced = colorize_page(colorizer, value, red, sketch)
    np.testing.assert_array_equal(referenced,
                                  colorizer.colorize(lines, colorizer.cue_from_reference(red)))
    assert not np.array_equal(referenced, plain)


def test_the_app_names_no_experiment():
    """What the page does for a run is its experiment's: no experiment's name is in its code."""
    import ast
    import pathlib

    import colorize.app

    names = set(experiments.EXPERIMENTS)
    folder = pathlib.Path(colorize.app.__file__).parent
    named = [(path.name, node.value) for path in sorted(folder.glob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Constant) and node.value in names]
    assert names >= {"A", "B", "C"} and named == []
