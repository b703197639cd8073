"""Colorize sketches of any size with a trained generator: the `Colorizer` API.

    colorizer = Colorizer.from_run("runs/B-...")   # or Colorizer.from_model("generator.keras")
    rgb = colorizer.colorize(sketch)                 # no hints: what the experiment reads as none
    rgb = colorizer.colorize(sketch, hints=strokes_rgba)          # a hint layer (B and C)
    rgb = colorizer.colorize(sketch, colorizer.cue_from_reference(colored_rgb))  # a cue (B)
    # rgb: (H, W, 3) uint8 at the sketch's own size

What a model takes besides the sketch is its experiment's `colorize.experiments` object: for B,
cues are made the way the training cues were, a Gaussian blur of a color image (sigma 20 px on the
256 px training images), scaled with the image relative to the size the model sees it at; a hint
layer is laid on white paper and blurred. See docs/inference.md.

This module imports nothing from training or building: a server or a notebook loads a generator
with inference code alone.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps

from colorize import anysize, runtime, sketch, sketch_styles
from colorize.config import TEST_MODES, TrainConfig
from colorize.experiments import Conditioning, for_channels, layouts
from colorize.experiments.base import hints_to_cue  # noqa: F401 (part of this API)
from colorize.errors import ColorizeError
from colorize.lines import LINES
from colorize.models import build_generator, fold_batch_norm
from colorize.predictor import Predictor
from colorize.recipe import Recipe
from colorize.runfolder import RunFolder, require_file


def load_run(run_dir: str) -> tuple[keras.Model, TrainConfig]:
    """A run's generator (float32, plain Keras layers) from its newest checkpoint, and its config."""
    run = RunFolder.open(run_dir)
    cfg = run.config()
    path = run.require_checkpoint()
    generator = build_generator(cfg.replace(kernels="keras"))  # same variables as the fused layers
    try:
        status = tf.train.Checkpoint(generator=generator).restore(path)
        status.expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as err:
        raise ColorizeError(f"{path}: does not hold this run's generator "
                            f"({type(err).__name__})", reason="bad_checkpoint") from None
    return generator, cfg


def run_recipe(cfg: TrainConfig) -> Recipe:
    """How a run's training sketches and cues were made: its records' recipe, and whether it
    trained on the paper's threshold sketches alone (`sketch_styles`)."""
    recipe = Recipe.of_records(cfg.data, cfg.image_size)
    return dataclasses.replace(recipe,
                               binary_sketches=sketch_styles.only_threshold(cfg.sketch_styles))


def load_model_file(path: str) -> keras.Model:
    """A generator saved as a .keras file, checked to take (S, S, C) inputs of a known experiment."""
    if os.path.isdir(path):  # a run folder or a SavedModel export, say
        raise ColorizeError(f"{path}: is a folder, not a generator .keras file (a run folder "
                            "goes with --run)", reason="is_folder")
    require_file(path)
    try:
        model = keras.models.load_model(path, compile=False)  # safe_mode: no arbitrary code
    except Exception as err:  # Keras raises many types for a file that is not a model
        raise ColorizeError(f"{path}: not a Keras model file ({type(err).__name__})",
                            reason="not_a_model") from None
    shape = tuple(model.input_shape)
    channels = sorted({c.input_channels for c in layouts()})
    if len(shape) != 4 or shape[1] != shape[2] or shape[1] is None or shape[3] not in channels:
        raise ColorizeError(f"{path}: expected a generator with (S, S, C) inputs, C in "
                            f"{channels}; got {shape[1:]}", reason="wrong_model")
    return model


def read_image(path: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB of an image file; a ColorizeError naming the file if it is not one."""
    require_file(path)
    try:
        return sketch.load_image(path)
    except sketch.ImageError as err:
        raise ColorizeError(f"{path}: not a readable image ({err})", reason=err.reason) from None


def read_hints(path: str) -> np.ndarray:
    """(H, W, 4) uint8 RGBA of a hint layer file, which must have transparent pixels."""
    require_file(path)
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info
            rgba = np.asarray(im.convert("RGBA"))
    except Exception as err:  # Pillow's decoders raise many types
        raise ColorizeError(f"{path}: not a readable image ({type(err).__name__}: {err})",
                            reason="undecodable") from None
    if not has_alpha or rgba[..., 3].min() == 255:
        raise ColorizeError(f"{path}: not a hint layer (it has no transparent pixels; draw the "
                            "strokes on a transparent layer and save it as PNG)",
                            reason="not_hint_layer")
    return rgba


def as_sketch(image: np.ndarray) -> np.ndarray:
    """(H, W, 1 or 3) uint8 of a gray (H, W), (H, W, 1) or RGB (H, W, 3) uint8 sketch; the any-size
    graph turns RGB to gray (`anysize.to_gray`) and looks at its colors (lines="auto")."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (
            image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise ColorizeError(f"the sketch must be a uint8 gray or RGB image, got {image.dtype} "
                            f"{image.shape}", reason="bad_array")
    return image if image.ndim == 3 else image[..., None]


class Layers(NamedTuple):
    """A colorization as the layers of `lines="keep"`, each at the sketch's size, uint8."""

    flat: np.ndarray  # (H, W, 3): the model's colors with its own lines painted over
    lines: np.ndarray  # (H, W): the sketch's gray (0 = line, 255 = paper), multiplied over them
    picture: np.ndarray  # (H, W, 3): flat x lines / 255, the `lines="keep"` picture


def _inference_fn(generator: keras.Model, test_mode: str, precision: str):
    """The generator call of a test mode; deterministic mode runs with batch norm folded in."""
    if test_mode == "pix2pix":
        return Predictor(generator, test_mode)
    if any(isinstance(layer, keras.layers.BatchNormalization) for layer in generator.layers):
        generator = fold_batch_norm(generator, runtime.resolve_precision(precision))
    return tf.function(lambda x: generator(x, training=False), autograph=False)


class Colorizer:
    """A generator wrapped for use: any sketch size, the experiment's hints, the run's test mode."""

    def __init__(self, generator: keras.Model, *, test_mode: str = "deterministic",
                 conditioning: Conditioning | None = None, recipe: Recipe | None = None,
                 precision: str = "auto", experiment: str | None = None,
                 lines: str = "auto"):
        """conditioning: what the model takes besides the sketch (default: from its input
        channels; a 4-channel file takes a cue, white when none is given).

        precision: of the deterministic mode's folded generator ("auto": bfloat16 on CPUs that
        have it, float16 on tensor-core GPUs, else float32; about 2x faster than float32 on such
        hardware). `colorize predict` has the same default.
        lines: how the output gets the input's size and lines (`colorize.lines.LINES`): "auto"
        (decided per sketch in the graph: "keep" for colored line art, and for a run of several
        sketch styles for line art drawn in gray levels; else the generator's picture at the
        model's size, "guided" at others), "model", "guided" or "keep" (the artist's lines
        exactly).
        """
        if test_mode not in TEST_MODES:
            raise ColorizeError(f"test mode must be one of {TEST_MODES}, not {test_mode!r}",
                                reason="bad_value")
        self.lines = lines
        self.generator = generator
        self.image_size = int(generator.input_shape[1])
        self.test_mode = test_mode
        self.conditioning = conditioning or for_channels(generator.input_shape[3])
        self.experiment = experiment  # "A", "B", ... or None (a model file)
        self.recipe = recipe or Recipe.default(self.image_size)
        size, cond = self.image_size, self.conditioning
        self._predict = _inference_fn(generator, test_mode, precision)
        # every graph here is traced without autograph (no Python control flow on tensors in
        # them): converting them was most of a Colorizer's first picture (docs/performance.md)
        self._model_input = tf.function(
            functools.partial(anysize.model_input, size=size, conditioning=cond,
                              block_size=self.recipe.block_size, c=self.recipe.threshold_c,
                              binarize=self.recipe.binary_sketches), autograph=False,
            input_signature=[tf.TensorSpec([None, None, None], tf.uint8),
                             tf.TensorSpec([None, None, cond.serving_channels], tf.uint8)])
        self._composites: dict[str, tf.types.experimental.GenericFunction] = {}
        self._layers = None  # `colorize_layers`' graph, traced at its first call
        self._reach = None  # `reach`'s, likewise
        self._composite(lines)  # a bad `lines` fails here rather than at the first picture

    @classmethod
    def from_run(cls, run_dir: str, test_mode: str | None = None, precision: str = "auto",
                 lines: str = "auto") -> Colorizer:
        """The newest checkpoint of a run, in the run's test mode unless `test_mode` is given."""
        generator, cfg = load_run(run_dir)
        return cls(generator, test_mode=test_mode or cfg.test_mode,
                   conditioning=cfg.conditioning, recipe=run_recipe(cfg),
                   precision=precision, experiment=cfg.experiment, lines=lines)

    @classmethod
    def from_model(cls, path: str, test_mode: str = "deterministic", precision: str = "auto",
                   lines: str = "auto") -> Colorizer:
        """A generator file written by training (generator.keras) or by `colorize export`."""
        return cls(load_model_file(path), test_mode=test_mode, precision=precision, lines=lines)

    def cue_sigma(self, height: int, width: int) -> float:
        """The training cues' blur for an image of this size, which the model sees scaled to fit."""
        return self.recipe.cue_sigma * max(height, width) / self.image_size

    def cue_from_reference(self, rgb: np.ndarray) -> np.ndarray:
        """A colored reference (H, W, 3) blurred like the training cues."""
        return sketch.color_cue(rgb, self.cue_sigma(*rgb.shape[:2]))

    def cue_from_hints(self, hints: np.ndarray) -> np.ndarray:
        """A hint layer (H, W, 4 RGBA) turned into a cue like the training cues (experiment B)."""
        return hints_to_cue(hints, self.cue_sigma(*np.shape(hints)[:2]))

    def sketchify(self, rgb: np.ndarray) -> np.ndarray:
        """A colored image's line art (H, W) by the training recipe, made at the model's scale
        (`sketch.sketchify_at_scale`): the sketch the model trained on, at the image's size."""
        return sketch.sketchify_at_scale(rgb, self.image_size, self.recipe.block_size,
                                         self.recipe.threshold_c)

    def _composite(self, lines: str):
        """`anysize.composite` in the way `lines`, the one place where `lines` is checked."""
        if lines not in self._composites:
            if lines not in LINES:
                raise ColorizeError(f"lines must be one of {LINES}, not {lines!r}",
                                    reason="bad_value")
            size, channels = self.image_size, self.conditioning.input_channels
            self._composites[lines] = tf.function(
                functools.partial(anysize.composite, lines=lines,
                                  drawn=not self.recipe.binary_sketches), autograph=False,
                input_signature=[
                    tf.TensorSpec([size, size, channels], tf.float32),
                    tf.TensorSpec([size, size, 3], tf.float32),
                    tf.TensorSpec([None, None, None], tf.uint8)])
        return self._composites[lines]

    def colorize(self, sketch_image: np.ndarray, cue: np.ndarray | None = None, *,
                 hints: np.ndarray | None = None, lines: str | None = None) -> np.ndarray:
        """(H, W, 3) uint8 RGB colors for a uint8 sketch (H, W[, 1 or 3]); 0 = line, 255 = paper.

        `cue`: an RGB cue image of the sketch's aspect ratio and any size (experiment B).
        `hints`: an RGBA hint layer of the sketch's aspect ratio, opaque pixels are strokes.
        Neither: what the experiment reads as no hint (B: a white cue).
        `lines`: this call's way to the input's size (default: the Colorizer's `lines`); "auto" is
        decided in the graph, as in the exported SavedModel: "keep" for colored line art
        (`anysize.is_colored_line_art`) unless the sketch is exactly the model's S x S, and, for a
        run of several sketch styles, for line art drawn in gray levels at any size
        (`anysize.has_gray_lines`); else "model" when the sketch is not resized (its long side
        is S) and "guided" when it is.
        """
        composite = self._composite(lines or self.lines)
        image, inputs, outputs = self._generate(sketch_image, cue, hints)
        return composite(inputs, outputs, image).numpy()

    def _inputs(self, sketch_image, cue, hints) -> tuple:
        """The sketch (H, W, 1 or 3) and the generator's input (S, S, C)."""
        image = as_sketch(sketch_image)
        condition = self.conditioning.user_input(image.shape[:2], cue=cue, hints=hints,
                                                 cue_sigma=self.cue_sigma)
        return image, self._model_input(image, condition)

    def _generate(self, sketch_image, cue, hints) -> tuple:
        """The sketch (H, W, 1 or 3), the generator's input (S, S, C) and its output (S, S, 3)."""
        image, inputs = self._inputs(sketch_image, cue, hints)
        return image, inputs, self._predict(inputs[None])[0]

    @property
    def fills(self) -> bool:
        """Whether the model is told where its strokes' colors reach (C's fill channels)."""
        return self.conditioning.fill_at is not None

    def reach(self, sketch_image: np.ndarray, *, hints: np.ndarray | None = None) -> np.ndarray:
        """(H, W, 3) uint8 at the sketch's size: where the strokes' colors reach as the model is
        told (`anysize.reach`: each stroke's color over the line-bounded region it is painted in,
        white where no stroke reaches, the sketch's lines over it), so that an artist sees a
        stroke flood through an open outline before reading the picture. No generator call.
        Arguments as `colorize`; for a model with the fill (`fills`)."""
        if not self.fills:
            raise ColorizeError("this model is not told where strokes reach (only an "
                                "experiment-C model with the fill is)",
                                reason="unsupported_condition")
        if self._reach is None:
            size, channels = self.image_size, self.conditioning.input_channels
            self._reach = tf.function(functools.partial(anysize.reach,
                                                        fill_at=self.conditioning.fill_at),
                                      autograph=False, input_signature=[
                                          tf.TensorSpec([size, size, channels], tf.float32),
                                          tf.TensorSpec([None, None, None], tf.uint8)])
        image, inputs = self._inputs(sketch_image, None, hints)
        return self._reach(inputs, image).numpy()

    def colorize_layers(self, sketch_image: np.ndarray, cue: np.ndarray | None = None, *,
                        hints: np.ndarray | None = None) -> Layers:
        """The layers of the `lines="keep"` picture, at the sketch's size (what a layered file
        holds, `colorize.psd`): the flat colors, the sketch's gray laid over them with a multiply
        blend, and the picture, equal to `colorize(..., lines="keep")`. Arguments as `colorize`."""
        if self._layers is None:  # traced once per Colorizer, as the composites
            size, channels = self.image_size, self.conditioning.input_channels
            self._layers = tf.function(anysize.layers, autograph=False, input_signature=[
                tf.TensorSpec([size, size, channels], tf.float32),
                tf.TensorSpec([size, size, 3], tf.float32),
                tf.TensorSpec([None, None, None], tf.uint8)])
        image, inputs, outputs = self._generate(sketch_image, cue, hints)
        flat, gray, picture = self._layers(inputs, outputs, image)
        return Layers(flat.numpy(), gray.numpy()[..., 0], picture.numpy())
