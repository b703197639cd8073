"""Colorize sketches of any size with a trained generator: the `Colorizer` API and cue makers.

    colorizer = Colorizer.from_run("runs/B-...")   # or Colorizer.from_model("generator.keras")
    rgb = colorizer.colorize(sketch)                 # no cue: the experiment-A cue, all white
    rgb = colorizer.colorize(sketch, colorizer.cue_from_hints(strokes_rgba))
    rgb = colorizer.colorize(sketch, colorizer.cue_from_reference(colored_rgb))
    # rgb: (H, W, 3) uint8 at the sketch's own size

Cues are made the way the training cues were: a Gaussian blur of a color image (sigma 20 px on the
256 px training images). A colored reference is blurred as it is; a hint layer (rough color strokes
on a transparent layer) is first laid on white paper, so its strokes spread their color over white.
The blur is scaled with the image, relative to the size the model sees it at. See docs/inference.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
from collections.abc import Iterator

import keras
import numpy as np
import tensorflow as tf

from colorize import anysize, runtime, sketch
from colorize.config import TEST_MODES, TrainConfig
from colorize.errors import ColorizeError
from colorize.recipe import Recipe
from colorize.models import build_generator, fold_batch_norm
from colorize.train import Predictor

# The experiment-A cue: white. One pixel is enough, it is stretched over any sketch.
WHITE_CUE = np.full((1, 1, 3), 255, np.uint8)
# How far (as a log ratio, ~3 %) a cue's aspect ratio may differ from the sketch's: resizing rounds.
ASPECT_TOLERANCE = 0.03


@contextlib.contextmanager
def float32_policy() -> Iterator[None]:
    """Build layers in float32 whatever policy training left set (exact, portable inference)."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def load_run(run_dir: str) -> tuple[keras.Model, TrainConfig]:
    """A run's generator (float32) restored from its newest checkpoint, and its config."""
    if not os.path.isdir(run_dir):
        raise ColorizeError(f"{run_dir}: no such run folder")
    if not os.path.isfile(os.path.join(run_dir, "config.json")):
        raise ColorizeError(f"{run_dir}: not a run folder (no config.json)")
    try:
        cfg = TrainConfig.load(run_dir)
    except (ValueError, TypeError) as err:  # bad JSON, unknown values
        raise ColorizeError(f"{os.path.join(run_dir, 'config.json')}: not a valid run config "
                            f"({err})") from None
    path = tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    if path is None:
        raise ColorizeError(f"{run_dir}: no checkpoints in {os.path.join(run_dir, 'checkpoints')} "
                            "(train the run first, or pass --model FILE)")
    with float32_policy():
        generator = build_generator(cfg)
    try:
        status = tf.train.Checkpoint(generator=generator).restore(path)
        status.expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as err:
        raise ColorizeError(f"{path}: does not hold this run's generator "
                            f"({type(err).__name__})") from None
    return generator, cfg


def load_model_file(path: str) -> keras.Model:
    """A generator saved as a .keras file, checked to take (S, S, 4) inputs."""
    if not os.path.isfile(path):
        raise ColorizeError(f"{path}: no such file")
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as err:  # Keras raises many types for a file that is not a model
        raise ColorizeError(f"{path}: not a Keras model file ({type(err).__name__})") from None
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[1] != shape[2] or shape[1] is None or shape[3] != 4:
        raise ColorizeError(f"{path}: expected a generator with (S, S, 4) inputs, got {shape[1:]}")
    return model


def as_gray(image: np.ndarray) -> np.ndarray:
    """(H, W) uint8 of a gray (H, W), (H, W, 1) or RGB (H, W, 3) uint8 sketch."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (
            image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise ColorizeError(f"the sketch must be a uint8 gray or RGB image, got {image.dtype} "
                            f"{image.shape}")
    if image.ndim == 3 and image.shape[2] == 3:
        return sketch.to_gray(image)
    return image.reshape(image.shape[:2])


def hints_to_cue(hints: np.ndarray, sigma: float) -> np.ndarray:
    """A hint layer (H, W, 4) uint8 RGBA -> cue (H, W, 3): strokes on white paper, blurred."""
    if hints.dtype != np.uint8 or hints.ndim != 3 or hints.shape[2] != 4:
        raise ColorizeError(f"a hint layer must be a uint8 RGBA image, got {hints.dtype} "
                            f"{hints.shape}")
    alpha = hints[..., 3:].astype(np.float32) / 255.0  # (H, W, 1)
    on_paper = hints[..., :3] * alpha + 255.0 * (1.0 - alpha)
    return sketch.color_cue(np.rint(on_paper).astype(np.uint8), sigma)


def _inference_fn(generator: keras.Model, test_mode: str, precision: str):
    """The generator call of a test mode; deterministic mode runs with batch norm folded in."""
    if test_mode == "pix2pix":
        return Predictor(generator, test_mode)
    if any(isinstance(layer, keras.layers.BatchNormalization) for layer in generator.layers):
        generator = fold_batch_norm(generator, runtime.resolve_precision(precision))
    return tf.function(lambda x: generator(x, training=False))


class Colorizer:
    """A generator wrapped for use: any sketch size, optional cue, the run's test-time mode."""

    def __init__(self, generator: keras.Model, *, test_mode: str = "deterministic",
                 use_cue: bool | None = None, recipe: Recipe | None = None,
                 precision: str = "float32", experiment: str | None = None):
        """use_cue: whether the model was trained with cues (None: unknown, cues are accepted).

        precision: of the deterministic mode's folded generator ("auto": bfloat16 on CPUs that
        have it, float16 on tensor-core GPUs; about 2x faster than float32 on such hardware).
        """
        if test_mode not in TEST_MODES:
            raise ColorizeError(f"test mode must be one of {TEST_MODES}, not {test_mode!r}")
        self.generator = generator
        self.image_size = int(generator.input_shape[1])
        self.test_mode = test_mode
        self.use_cue = use_cue
        self.experiment = experiment  # "A", "B" or None (a model file)
        self.recipe = recipe or Recipe.default(self.image_size)
        size = self.image_size
        self._predict = _inference_fn(generator, test_mode, precision)
        self._model_input = tf.function(
            functools.partial(anysize.model_input, size=size, block_size=self.recipe.block_size,
                              c=self.recipe.threshold_c),
            input_signature=[tf.TensorSpec([None, None, 1], tf.uint8),
                             tf.TensorSpec([None, None, 3], tf.uint8)])
        self._composite = tf.function(anysize.composite, input_signature=[
            tf.TensorSpec([size, size, 4], tf.float32), tf.TensorSpec([size, size, 3], tf.float32),
            tf.TensorSpec([None, None, 1], tf.uint8)])

    @classmethod
    def from_run(cls, run_dir: str, test_mode: str | None = None,
                 precision: str = "float32") -> Colorizer:
        """The newest checkpoint of a run, in the run's test mode unless `test_mode` is given."""
        generator, cfg = load_run(run_dir)
        return cls(generator, test_mode=test_mode or cfg.test_mode, use_cue=cfg.use_cue,
                   recipe=Recipe.of_records(cfg.data, cfg.image_size), precision=precision,
                   experiment=cfg.experiment)

    @classmethod
    def from_model(cls, path: str, test_mode: str = "deterministic",
                   precision: str = "float32") -> Colorizer:
        """A generator file written by training (generator.keras) or by `colorize export`."""
        return cls(load_model_file(path), test_mode=test_mode, precision=precision)

    def cue_sigma(self, height: int, width: int) -> float:
        """The training cues' blur for an image of this size, which the model sees scaled to fit."""
        return self.recipe.cue_sigma * max(height, width) / self.image_size

    def cue_from_reference(self, rgb: np.ndarray) -> np.ndarray:
        """A colored reference (H, W, 3) blurred like the training cues."""
        return sketch.color_cue(rgb, self.cue_sigma(*rgb.shape[:2]))

    def cue_from_hints(self, hints: np.ndarray) -> np.ndarray:
        """A hint layer (H, W, 4 RGBA) turned into a cue like the training cues."""
        return hints_to_cue(hints, self.cue_sigma(*hints.shape[:2]))

    def sketchify(self, rgb: np.ndarray) -> np.ndarray:
        """A colored image's line art by the training recipe, at the image's own size."""
        return sketch.sketchify(rgb, self.recipe.block_size, self.recipe.threshold_c)

    def colorize(self, sketch_image: np.ndarray, cue: np.ndarray | None = None, *,
                 hints: np.ndarray | None = None) -> np.ndarray:
        """(H, W, 3) uint8 RGB colors for a uint8 sketch (H, W[, 1 or 3]); 0 = line, 255 = paper.

        `cue`: an RGB cue image of the sketch's aspect ratio and any size; None: all white.
        `hints`: instead of a cue, an RGBA hint layer (opaque pixels are color strokes).
        """
        if hints is not None:
            if cue is not None:
                raise ColorizeError("give a cue or a hint layer, not both")
            cue = self.cue_from_hints(np.asarray(hints))
        gray = as_gray(sketch_image)
        if cue is None:
            cue = WHITE_CUE
        else:
            self._check_cue(np.asarray(cue), gray.shape)
        inputs = self._model_input(gray[..., None], cue)  # (S, S, 4)
        outputs = self._predict(inputs[None])[0]  # (S, S, 3)
        return self._composite(inputs, outputs, gray[..., None]).numpy()

    def _check_cue(self, cue: np.ndarray, shape: tuple[int, int]) -> None:
        if self.use_cue is False:
            raise ColorizeError("this model was trained without cues (experiment A); colorize "
                                "without a cue, or use an experiment-B model")
        if cue.dtype != np.uint8 or cue.ndim != 3 or cue.shape[2] != 3:
            raise ColorizeError(f"a cue must be a uint8 RGB image, got {cue.dtype} {cue.shape}")
        aspect, cue_aspect = shape[1] / shape[0], cue.shape[1] / cue.shape[0]
        if abs(np.log(cue_aspect / aspect)) > ASPECT_TOLERANCE:
            raise ColorizeError(f"the cue ({cue.shape[1]}x{cue.shape[0]}) does not have the "
                                f"sketch's aspect ratio ({shape[1]}x{shape[0]})")
