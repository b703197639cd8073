"""The experiment interface: everything that knows what the generator is conditioned on.

Every place that needs to know what goes into the generator asks the experiment's `Conditioning`:
- its input channels after the sketch (names, for the saved model and the serving signature);
- how a training example becomes the generator input, inside tf.data (`training_input`), and the
  experiment's own training options (`Options`: flags of `colorize train`, saved in config.json);
- how a user's input (nothing, a cue image, a hint layer) becomes it, at any sketch size: numpy
  checks and conversions in `user_input`, then TensorFlow ops in `user_condition` that the
  Python API and the exported SavedModel share, with `pad_value` filling the any-size padding;
- what the app offers for it (`reads_hints`, `takes_reference`, `page_note`), the hint sweep's
  curves, the sample grids' columns and the baselines `evaluate` scores beside the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

import numpy as np
import tensorflow as tf

from colorize import sketch
from colorize.errors import ColorizeError

# How far (as a log ratio, ~3 %) a condition image's aspect ratio may differ from the sketch's:
# resizing rounds.
ASPECT_TOLERANCE = 0.03
WHITE_CUE = np.full((1, 1, 3), 255, np.uint8)  # one pixel is enough: it is stretched over any sketch


def check_aspect(image: np.ndarray, shape: tuple[int, int], what: str) -> None:
    """ColorizeError unless `image` has the aspect ratio of a sketch of `shape` (height, width)."""
    aspect, other = shape[1] / shape[0], image.shape[1] / image.shape[0]
    if abs(np.log(other / aspect)) > ASPECT_TOLERANCE:
        raise ColorizeError(f"the {what} ({image.shape[1]}x{image.shape[0]}) does not have the "
                            f"sketch's aspect ratio ({shape[1]}x{shape[0]})", reason="wrong_aspect")


def check_rgba(hints: np.ndarray) -> np.ndarray:
    hints = np.asarray(hints)
    if hints.dtype != np.uint8 or hints.ndim != 3 or hints.shape[2] != 4:
        raise ColorizeError(f"a hint layer must be a uint8 RGBA image, got {hints.dtype} "
                            f"{hints.shape}", reason="bad_array")
    return hints


def over(rgba: np.ndarray, paper: np.ndarray | float = 255.0) -> np.ndarray:
    """An RGBA layer (H, W, 4) laid over `paper` (white, or an image (H, W) / (H, W, 3)) by its
    alpha: (H, W, 3) uint8."""
    alpha = rgba[..., 3:].astype(np.float32) / 255.0  # (H, W, 1)
    paper = np.asarray(paper, np.float32)
    if paper.ndim == 2:
        paper = paper[..., None]
    return np.rint(rgba[..., :3] * alpha + paper * (1.0 - alpha)).astype(np.uint8)


def hints_to_cue(hints: np.ndarray, sigma: float) -> np.ndarray:
    """A hint layer (H, W, 4) uint8 RGBA -> cue (H, W, 3): strokes on white paper, blurred."""
    return sketch.color_cue(over(check_rgba(hints)), sigma)


def resize_cue(cue: tf.Tensor, height, width) -> tf.Tensor:
    """A uint8 cue (h, w, 3) of any size -> (height, width, 3) in [-1, 1] (area-like antialias)."""
    cue = tf.image.resize(tf.cast(cue, tf.float32), [height, width], antialias=True)
    return cue / 127.5 - 1.0


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """An experiment without training options of its own."""


class Conditioning:
    """What one experiment feeds the generator besides the sketch. Subclasses set the fields."""

    name: str = ""
    description: str = ""
    channels: tuple[str, ...] = ()  # the condition channels after the sketch, in order
    input_name: str = ""  # the Keras input layer's name
    serving_input: str = ""  # the serving signature's name of the user's condition image
    serving_channels: int = 3  # its channels (uint8)
    pad_value: float = 1.0  # the condition around the image in the any-size square (model space)
    baselines: tuple[str, ...] = ("cue", "white")  # evaluate's baselines (see evaluate.BASELINES)
    # a generator file without a run config, of this experiment's channel count, is served by it
    # (False where another experiment with the same network reads a superset of its inputs)
    serves_bare_generators: bool = True
    reads_hints: bool = True  # whether an artist's hint layer changes the picture
    takes_reference: bool = False  # whether a colored reference picture can be its condition
    page_note: str = ""  # what the app says of a run of this experiment (Markdown, one line)
    # the hint sweep's curves: "hints" per stroke count (the strokes as its hint layer), "none"
    # one picture with no hints, "example" one picture from `example_hints` (an oracle input)
    sweep_curves: ClassVar[dict[str, str]] = {"strokes": "hints"}
    Options: ClassVar[type] = NoOptions  # its training options, a frozen dataclass
    # its defaults of the config's `sketch_styles`, `upsample`, `condition_scales` and
    # `test_mode` (the paper's)
    sketch_styles: str = "threshold:1"
    upsample: str = "transposed"
    condition_scales: str = "input"
    test_mode: str = "pix2pix"

    @property
    def input_channels(self) -> int:
        return 1 + len(self.channels)

    @property
    def fill_at(self) -> int | None:
        """The generator input's first channel of the strokes' fill (its colors, then its mask;
        C's "where a stroke's color reaches"), None for a conditioning without one."""
        return 1 + self.channels.index("fill_r") if "fill_r" in self.channels else None

    @property
    def takes_strokes(self) -> bool:
        """Whether the user's condition is a hint layer of strokes that change the picture (C):
        the style sweep and the user path score it with none and with a person's strokes."""
        return self.reads_hints and self.serving_input == "hints"

    # -- training (inside tf.data, one example, model space [-1, 1]) --------------------------

    def training_input(self, example: dict) -> tf.Tensor:
        """The generator input (S, S, C) of an example {"sketch" (S, S, 1), "cue", "color" (S, S, 3),
        "seed" (2,) int64: a per-example stateless seed}."""
        return tf.concat([example["sketch"], self.training_condition(example)], axis=-1)

    def training_condition(self, example: dict) -> tf.Tensor:
        """The channels after the sketch (S, S, C - 1), for a conditioning that leaves joining
        them to `training_input` (C makes its whole input in one numpy step instead)."""
        raise NotImplementedError

    def for_epoch(self, epoch: int, epochs: int) -> "Conditioning":
        """The conditioning that training epoch `epoch` of `epochs` draws its inputs with (a
        curriculum overrides it; the paper's experiments are the same every epoch)."""
        return self

    def options(self, values: dict):
        """Its `Options` from a config's values; ValueError for an unknown name or a bad value."""
        names = {f.name for f in dataclasses.fields(self.Options)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"experiment {self.name} has no option {', '.join(unknown)}"
                             + (f" (its options: {', '.join(sorted(names))})" if names else ""))
        return self.Options(**values)

    def l1_weights(self, inputs: tf.Tensor) -> tf.Tensor | None:
        """Per-pixel weights (B, S, S, 1) of the L1 loss for a batch of generator `inputs`, or
        None for the paper's uniform L1 (A and B)."""
        return None

    def configured(self, options) -> Conditioning:
        """This experiment with a run's `Options` (a config's `TrainConfig.conditioning`)."""
        return self

    # -- use (any size) -----------------------------------------------------------------------

    def user_input(self, shape: tuple[int, int], *, cue: np.ndarray | None = None,
                   hints: np.ndarray | None = None,
                   cue_sigma: Callable[[int, int], float] | None = None) -> np.ndarray:
        """The uint8 condition image the serving graph takes, from what a user gave for a sketch
        of `shape` (height, width); ColorizeError for input this experiment cannot use.
        cue_sigma(height, width): the training cues' blur for an image of that size."""
        raise NotImplementedError

    def user_condition(self, image: tf.Tensor, height, width) -> tf.Tensor:
        """The condition image from `user_input` -> (height, width, channels) in model space."""
        raise NotImplementedError

    def complete(self, condition: tf.Tensor, lines: tf.Tensor) -> tf.Tensor:
        """The condition (h, w, k) from `user_condition` with the channels that depend on the
        model's sketch `lines` (h, w, 1) in model space: (h, w, channels). None by default."""
        return condition

    def variants(self) -> tuple[Conditioning, ...]:
        """This experiment and its other input layouts (of older runs), for generator files."""
        return (self,)

    def example_hints(self, example: dict) -> dict:
        """The keyword arguments of `Colorizer.colorize` that a held-out example (uint8 numpy
        "sketch", "cue", "color") gives this experiment at use time, as in training."""
        return {}

    # -- outputs --------------------------------------------------------------------------------

    def grid_columns(self, inputs) -> list[tuple[str, np.ndarray]]:
        """(title, (B, S, S, 1 or 3) images in [-1, 1]) per sample-grid column before the output."""
        inputs = np.asarray(inputs)
        return [("sketch", inputs[..., :1]), ("cue", inputs[..., 1:4])]
