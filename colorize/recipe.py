"""The data recipe: how a colored image becomes a (sketch, cue, color) triplet, shared by the
offline builder and inference.

`BuildParams` holds everything that determines a records folder (it is written into its
manifest); `Recipe` is the part inference needs to make sketches and cues the way a model's
training data was made, in the model's own pixels. OpenCV/Pillow only, no TensorFlow: builder
workers and a serving process both import it cheaply.
"""

from __future__ import annotations

import dataclasses
import json
import os

from colorize import sketch
from colorize.errors import ColorizeError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
MANIFEST = "manifest.json"


@dataclasses.dataclass(frozen=True)
class BuildParams:
    """Everything that determines the records, and so goes into the manifest."""

    size: int = 256
    crop: str = "auto"
    block_size: int = 7
    threshold_c: float = 2.0
    max_complexity: float = 40.0
    cue_sigma: float = 20.0
    min_size: int = 128
    min_color_percent: float = sketch.MIN_COLOR_PERCENT
    keep_gray: bool = False
    test_fraction: float = 0.05
    shard_size: int = 1000

    def __post_init__(self):
        checks = {
            "size must be at least 8": self.size >= 8,
            f"crop must be one of {', '.join(sketch.CROPS)}": self.crop in sketch.CROPS,
            "block size must be odd and at least 3": self.block_size >= 3 and self.block_size % 2,
            "max complexity must be within 0..100": 0 <= self.max_complexity <= 100,
            "cue sigma must be positive": self.cue_sigma > 0,
            "min size must be at least 1": self.min_size >= 1,
            "min color percent must be within 0..100": 0 <= self.min_color_percent <= 100,
            "test fraction must be within 0..1": 0 <= self.test_fraction <= 1,
            "shard size must be at least 1": self.shard_size >= 1,
        }
        for message, ok in checks.items():
            if not ok:
                raise ColorizeError(message, reason="bad_value")

    @classmethod
    def for_size(cls, size: int, **overrides) -> "BuildParams":
        """The defaults at `size` px, with the cue's sigma (20 px at 256 px) scaled to match."""
        return cls(**{"size": size, "cue_sigma": cls.cue_sigma * size / cls.size, **overrides})

    @classmethod
    def of_records(cls, records_dir: str) -> "BuildParams":
        """The parameters a records folder was built with, from its manifest."""
        with open(os.path.join(records_dir, MANIFEST)) as f:
            return cls(**json.load(f)["params"])


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a model's training sketches and cues were made, in the model's pixels."""

    block_size: int
    threshold_c: float
    cue_sigma: float  # in model pixels
    # whether the model trained on the paper's threshold sketches alone (then a user's line art is
    # re-binarized by the same threshold), or on several sketch styles (then it is read as drawn,
    # its paper brought to white: `anysize.model_input`)
    binary_sketches: bool = True

    @classmethod
    def default(cls, image_size: int) -> "Recipe":
        """The builder's defaults, with the cue sigma (20 px at 256 px) scaled to the model size."""
        d = BuildParams.for_size(image_size)
        return cls(d.block_size, d.threshold_c, d.cue_sigma)

    @classmethod
    def of_records(cls, records_dir: str, image_size: int) -> "Recipe":
        """The recipe in a records folder's manifest; the defaults when there is none."""
        if not records_dir:
            return cls.default(image_size)
        try:
            params = BuildParams.of_records(records_dir)
        except (OSError, KeyError, TypeError, ValueError, ColorizeError):
            return cls.default(image_size)
        return cls(params.block_size, params.threshold_c,
                   params.cue_sigma * image_size / params.size)
