"""The paper's experiments: A (no cue: all white) and B (the stored blurred cue)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from colorize.errors import ColorizeError
from colorize.experiments.base import (WHITE_CUE, Conditioning, check_aspect, check_rgba,
                                       hints_to_cue, resize_cue)


class NoCue(Conditioning):
    """Experiment A (the paper): the generator sees the sketch and an all-white cue."""

    name = "A"
    description = "no cue: the generator sees an all-white cue"
    channels = ("cue_r", "cue_g", "cue_b")
    input_name = "sketch_and_cue"
    serving_input = "cue"  # accepted and ignored, so A and B exports share one signature
    serves_bare_generators = False  # the same network as B, whose white cue is A's
    reads_hints = False
    page_note = "This A run **ignores hints**: it colorizes the sketch alone."
    sweep_curves = {"no hints": "none"}

    def training_condition(self, example):
        return tf.ones_like(example["color"])

    def user_input(self, shape, *, cue=None, hints=None, cue_sigma=None):
        if cue is not None or hints is not None:
            raise ColorizeError("an experiment-A run, trained without cues: colorize without a "
                                "cue or hints, or use an experiment-B model",
                                reason="unsupported_condition")
        return WHITE_CUE

    def user_condition(self, image, height, width):
        return resize_cue(tf.constant(WHITE_CUE), height, width)  # whatever the caller passed

    def grid_columns(self, inputs):
        inputs = np.asarray(inputs)
        return [("sketch", inputs[..., :1]), ("no cue (white)", inputs[..., 1:4])]


class BlurredCue(Conditioning):
    """Experiment B (the paper): the sketch and a Gaussian blur (sigma 20 px at 256) of the colors."""

    name = "B"
    description = "the stored blurred color cue"
    channels = ("cue_r", "cue_g", "cue_b")
    input_name = "sketch_and_cue"
    serving_input = "cue"
    takes_reference = True
    page_note = "B run: the strokes (or a colored reference) become a blurred color cue."
    sweep_curves = {"strokes as cue": "hints", "full blurred cue": "example"}

    def training_condition(self, example):
        return example["cue"]

    def user_input(self, shape, *, cue=None, hints=None, cue_sigma=None):
        if cue is not None and hints is not None:
            raise ColorizeError("give a cue or a hint layer, not both", reason="conflicting")
        if hints is not None:
            hints = check_rgba(hints)
            check_aspect(hints, shape, "hint layer")
            return hints_to_cue(hints, cue_sigma(*hints.shape[:2]))
        if cue is None:
            return WHITE_CUE
        cue = np.asarray(cue)
        if cue.dtype != np.uint8 or cue.ndim != 3 or cue.shape[2] != 3:
            raise ColorizeError(f"a cue must be a uint8 RGB image, got {cue.dtype} {cue.shape}",
                                reason="bad_array")
        check_aspect(cue, shape, "cue")
        return cue

    def user_condition(self, image, height, width):
        return resize_cue(image, height, width)

    def example_hints(self, example):
        return {"cue": example["cue"]}
