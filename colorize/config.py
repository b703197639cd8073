"""One frozen dataclass holds every training setting; the paper's values are the defaults.

The experiment (A, B, ...: `colorize.conditioning`) is one field; every field is also a command-line
flag of the same name (`image_size` -> `--image-size`). The full config is written as `config.json`
in each run folder. `RESUMABLE` lists the fields a resumed run may change.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import typing
from dataclasses import dataclass

from colorize import conditioning
from colorize.errors import ColorizeError

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = ("auto", "one", "mirrored", "multiworker")
TEST_MODES = ("pix2pix", "deterministic")
KERNELS = ("fused", "keras")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run (pix2pix, Isola et al. 2017, and the manga-colorize paper)."""

    experiment: str = "A"  # colorize.conditioning: A no cue (all white); B the stored blurred cue
    data: str = ""  # records folder from `colorize build`; empty: the built-in demo dataset
    out: str = ""  # run folder; empty: runs/<experiment>-<date-time>

    # Model (pix2pix: U-Net generator, 70x70 PatchGAN discriminator)
    image_size: int = 256
    width: int = 64  # filters of the first layer; the paper's C64
    dropout: float = 0.5
    leaky_slope: float = 0.2  # Keras' LeakyReLU default is 0.3
    init_stddev: float = 0.02  # weights ~ N(0, 0.02)
    bn_momentum: float = 0.9  # PyTorch's momentum 0.1; Keras' default is 0.99
    bn_epsilon: float = 1e-5  # PyTorch's default; Keras' is 1e-3
    sync_batch_norm: bool = False  # batch statistics across replicas

    # Objective and optimization
    l1_weight: float = 100.0
    learning_rate: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    adam_epsilon: float = 1e-8  # PyTorch's default; Keras' is 1e-7
    lr_decay_epochs: int = 0  # linear decay to zero over the last N epochs (0: off)

    # Schedule and data
    batch_size: int = 4  # per replica
    epochs: int = 30
    steps_per_epoch: int = 0  # 0: one pass over the training split
    jitter: bool = True  # resize to 286, random crop 256, random flip
    shuffle_buffer: int = 1024
    seed: int = 0
    # experiment C's simulated strokes (conditioning.StrokeRecipe); A and B ignore them
    hint_free_share: float = 0.25  # examples trained without any stroke
    hint_mean_strokes: float = 8.0  # mean of the others' geometric stroke count (capped at 32)

    # Speed and scale
    precision: str = "auto"
    strategy: str = "auto"
    jit: bool = False  # XLA; slower on CPUs, often faster on GPUs
    kernels: str = "fused"  # fused: colorize.kernels (same math, faster); keras: stock Keras

    # Evaluation, logging, checkpoints
    test_mode: str = "pix2pix"  # pix2pix: dropout on and batch statistics at test time
    num_samples: int = 4  # held-out examples in samples/epoch_NNN.png
    eval_images: int = 64  # held-out images for per-epoch L1/PSNR/SSIM (0: none)
    log_every: int = 20  # steps between TensorBoard scalars
    checkpoint_minutes: float = 10.0
    keep_checkpoints: int = 3

    def __post_init__(self):
        conditioning.of(self.experiment)  # ValueError for an unknown experiment
        for name, allowed in (("precision", PRECISIONS), ("strategy", STRATEGIES),
                              ("test_mode", TEST_MODES), ("kernels", KERNELS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")
        if self.image_size < 32 or self.image_size & (self.image_size - 1):
            raise ValueError(f"image_size must be a power of two >= 32, not {self.image_size}")
        if self.batch_size < 1 or self.epochs < 1 or self.width < 1:
            raise ValueError("batch_size, epochs and width must be positive")
        if not 0.0 <= self.hint_free_share <= 1.0 or self.hint_mean_strokes < 1.0:
            raise ValueError("hint_free_share must be in [0, 1] and hint_mean_strokes at least 1")

    @property
    def conditioning(self) -> conditioning.Conditioning:
        """What the experiment's generator is conditioned on (with this config's settings)."""
        return conditioning.of(self.experiment).configured(self)

    @property
    def jitter_size(self) -> int:
        """The pix2pix jitter resize (286 for 256), scaled with the image size."""
        return int(round(self.image_size * 286 / 256))

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        values = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    @classmethod
    def load(cls, run_dir: str) -> "TrainConfig":
        with open(os.path.join(run_dir, "config.json")) as f:
            return cls.from_json(f.read())

    def non_defaults(self) -> dict:
        """Fields whose value differs from the dataclass default (what a run changed)."""
        base = TrainConfig()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(base, f.name)}


EXPERIMENTS = tuple(conditioning.EXPERIMENTS)  # the experiment names

# Fields a resumed run may change: the schedule, checkpoint cadence, logging and evaluation, and
# how fast or where it runs. The others (model shape, image size, experiment, objective,
# optimizer, batch and data order) define the run and its checkpoints.
RESUMABLE = frozenset({
    "out", "data", "epochs", "steps_per_epoch", "learning_rate", "lr_decay_epochs",
    "checkpoint_minutes", "keep_checkpoints", "log_every", "eval_images", "num_samples",
    "test_mode", "precision", "strategy", "jit", "kernels",
})


def preset(experiment: str, **overrides) -> TrainConfig:
    """The config of an experiment (A, B, ...), with optional field overrides."""
    return TrainConfig(**{**overrides, "experiment": experiment})


def resumed(saved: TrainConfig, run_dir: str, **overrides) -> TrainConfig:
    """A saved run's config with `overrides`; ColorizeError for a field a resume cannot change."""
    refused = sorted(k for k, v in overrides.items()
                     if k not in RESUMABLE and v != getattr(saved, k))
    if refused:
        changes = ", ".join(f"--{k.replace('_', '-')} {overrides[k]!r} (the run has "
                            f"{getattr(saved, k)!r})" for k in refused)
        raise ColorizeError(f"{run_dir}: a resumed run keeps its model, data order and objective; "
                            f"cannot change {changes}. Start a new run with another --out instead")
    return dataclasses.replace(saved, **{**overrides, "out": run_dir})


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per config field, named after it; unset flags keep the preset's value."""
    hints = typing.get_type_hints(TrainConfig)
    choices = {"precision": PRECISIONS, "strategy": STRATEGIES, "test_mode": TEST_MODES,
               "kernels": KERNELS, "experiment": EXPERIMENTS}
    for field in dataclasses.fields(TrainConfig):
        flag = "--" + field.name.replace("_", "-")
        kind = hints[field.name]
        help_text = f"default: {field.default!r}"
        if field.name == "experiment":
            help_text += "; " + "; ".join(f"{c.name}: {c.description}"
                                          for c in conditioning.EXPERIMENTS.values())
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=help_text)
        else:
            parser.add_argument(flag, type=kind, default=None, choices=choices.get(field.name),
                                help=help_text)


def given_values(args: argparse.Namespace) -> dict:
    """The config fields whose flags were given on the command line."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
            if getattr(args, f.name, None) is not None}


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The preset named by --experiment, overridden by every flag that was given."""
    given = given_values(args)
    try:
        return preset(given.pop("experiment", "A"), **given)
    except ValueError as err:  # a flag's value out of range: one line, not a traceback
        raise ColorizeError(f"bad flags: {err}") from None
