"""One frozen dataclass holds every training setting; the paper's values are the defaults.

The experiment (A, B, ...: `colorize.experiments`) is one field; every field is also a command-line
flag of the same name (`image_size` -> `--image-size`), whose help is the field's `help` metadata.
An experiment's own options (C's stroke count) live in `options` and are flags of their own names.
The full config is written as `config.json` in each run folder. `RESUMABLE` lists the fields a
resumed run may change.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import typing
from dataclasses import dataclass, field

from colorize import experiments, sketch_styles
from colorize.errors import ColorizeError
from colorize.modes import (CONDITION_SCALES, KERNELS, PRECISIONS, STRATEGIES,  # noqa: F401
                            TEST_MODES, UPSAMPLING)

# the fields whose value is one of a list: checked by TrainConfig and offered as the flags'
# choices; those in RESOLVED also take "auto", resolved to the experiment's own value
CHOICES = {"precision": PRECISIONS, "strategy": STRATEGIES, "test_mode": ("auto", *TEST_MODES),
           "kernels": KERNELS, "upsample": UPSAMPLING, "condition_scales": CONDITION_SCALES}
RESOLVED = ("upsample", "condition_scales", "test_mode")

# what a config.json written before a field existed meant (the paper's recipe)
LEGACY = {"sketch_styles": "threshold:1", "upsample": "transposed", "condition_scales": "input"}
# ... and of experiment options (C before issues #32 and #33: no fill, no strokes per region;
# before round five: no fill confidence)
LEGACY_OPTIONS = {"hint_fill": False, "hint_region_share": 0.0,
                  "hint_fill_confidence": False}


def _f(default, help: str):  # noqa: A002 (argparse's word)
    """A config field with its flag's help."""
    if isinstance(default, dict):
        return field(default_factory=dict, metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run (pix2pix, Isola et al. 2017, and the manga-colorize paper)."""

    experiment: str = _f("A", "what the generator is conditioned on")
    data: str = _f("", "records folder from `colorize build`; empty: the built-in demo dataset")
    out: str = _f("", "run folder; empty: runs/<experiment>-<date-time>")

    # Model (pix2pix: U-Net generator, 70x70 PatchGAN discriminator)
    image_size: int = _f(256, "training image size, a power of two >= 32")
    width: int = _f(64, "filters of the first layer (the paper's C64); the rest scale with it")
    dropout: float = _f(0.5, "dropout rate of the generator's first three decoder blocks")
    leaky_slope: float = _f(0.2, "LeakyReLU slope (Keras' default is 0.3)")
    init_stddev: float = _f(0.02, "weights are drawn from N(0, stddev)")
    bn_momentum: float = _f(0.9, "batch-norm momentum (PyTorch's 0.1; Keras' default 0.99)")
    bn_epsilon: float = _f(1e-5, "batch-norm epsilon (PyTorch's; Keras' default 1e-3)")
    sync_batch_norm: bool = _f(False, "batch statistics across replicas")
    upsample: str = _f("auto", "the generator's decoder: transposed convolutions (the paper's), "
                               "or resize (nearest-neighbour 2x, then a 3x3 convolution: no "
                               "checkerboard pattern, Odena et al. 2016); auto: the "
                               "experiment's own (A, B: transposed; C: resize)")
    condition_scales: str = _f("auto", "where the generator reads its input: input (the "
                                       "paper's: the first layer only), or every (also each "
                                       "encoder and decoder level, average-pooled to its "
                                       "size); auto: the experiment's own")

    # Objective and optimization
    l1_weight: float = _f(100.0, "weight of the L1 loss beside the cGAN loss")
    learning_rate: float = _f(2e-4, "Adam's learning rate, both networks")
    beta1: float = _f(0.5, "Adam's beta1")
    beta2: float = _f(0.999, "Adam's beta2")
    adam_epsilon: float = _f(1e-8, "Adam's epsilon (PyTorch's; Keras' default 1e-7)")
    lr_decay_epochs: int = _f(0, "decay the learning rate linearly to zero over the last N "
                                 "epochs (0: off)")

    # Schedule and data
    batch_size: int = _f(4, "examples per step, per replica")
    epochs: int = _f(30, "epochs to train")
    steps_per_epoch: int = _f(0, "steps per epoch (0: one pass over the training split)")
    jitter: bool = _f(True, "pix2pix jitter: resize to 286, random crop to 256, random flip")
    sketch_styles: str = _f("auto", "the sketch styles trained on, weighted, e.g. "
                                    "'threshold:8,xdog:1,lines:1' (colorize.sketch_styles: "
                                    "threshold, xdog, lines, pencil); auto: the experiment's own "
                                    "(A, B: the paper's threshold; C: threshold, xdog and lines)")
    shuffle_buffer: int = _f(1024, "examples in the shuffle buffer")
    seed: int = _f(0, "seed of the weights, the data order and the jitter")
    options: dict = _f({}, "the experiment's own options (flags of their own names)")

    # Speed and scale
    precision: str = _f("auto", "auto: mixed bfloat16 / float16 where the hardware has it")
    strategy: str = _f("auto", "tf.distribute strategy (auto: mirrored over several GPUs)")
    jit: bool = _f(False, "XLA; slower on CPUs, often faster on GPUs")
    kernels: str = _f("fused", "fused: colorize.kernels (same math, faster); keras: stock Keras")

    # Evaluation, logging, checkpoints
    test_mode: str = _f("auto", "pix2pix: dropout on and batch statistics at test time (the "
                                "paper's); deterministic: moving averages, no dropout; auto: the "
                                "experiment's (pix2pix for A and B, deterministic for C)")
    num_samples: int = _f(4, "held-out examples in samples/epoch_NNN.png")
    eval_images: int = _f(64, "held-out images for per-epoch L1/PSNR/SSIM (0: none)")
    log_every: int = _f(20, "steps between TensorBoard scalars")
    checkpoint_minutes: float = _f(10.0, "minutes between checkpoints (besides every epoch)")
    keep_checkpoints: int = _f(3, "checkpoints kept")

    def __post_init__(self):
        experiment = experiments.of(self.experiment)  # ValueError for an unknown experiment
        # every option of the experiment, defaults filled in: equal configs compare equal
        object.__setattr__(self, "options",
                           dataclasses.asdict(experiment.options(dict(self.options))))
        # "auto" is resolved, so that config.json says what the run did
        for name in RESOLVED:
            if getattr(self, name) == "auto":
                object.__setattr__(self, name, getattr(experiment, name))
        styles = experiment.sketch_styles if self.sketch_styles == "auto" else self.sketch_styles
        object.__setattr__(self, "sketch_styles", sketch_styles.canonical(styles))  # ValueError
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")
        if self.image_size < 32 or self.image_size & (self.image_size - 1):
            raise ValueError(f"image_size must be a power of two >= 32, not {self.image_size}")
        if self.batch_size < 1 or self.epochs < 1 or self.width < 1:
            raise ValueError("batch_size, epochs and width must be positive")

    @property
    def conditioning(self) -> experiments.Conditioning:
        """What the experiment's generator is conditioned on (with this config's options)."""
        experiment = experiments.of(self.experiment)
        return experiment.configured(experiment.options(self.options))

    @property
    def jitter_size(self) -> int:
        """The pix2pix jitter resize (286 for 256), scaled with the image size."""
        return int(round(self.image_size * 286 / 256))

    def replace(self, **changes) -> "TrainConfig":
        """This config with `changes`; another experiment starts from its own default options,
        sketch styles, upsampling and test mode."""
        if changes.get("experiment", self.experiment) != self.experiment:
            changes.setdefault("options", {})
            changes.setdefault("sketch_styles", "auto")
            changes.setdefault("upsample", "auto")
            changes.setdefault("condition_scales", "auto")
            changes.setdefault("test_mode", "auto")
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        """A saved config; runs saved before `options` existed kept C's at the top level."""
        values = LEGACY | json.loads(text)
        own = {f.name for f in dataclasses.fields(
            experiments.of(values.get("experiment", "A")).Options)}
        legacy = {k: v for k, v in LEGACY_OPTIONS.items() if k in own and k not in values}
        values["options"] = legacy | values.get("options", {})
        known = {f.name for f in dataclasses.fields(cls)} | option_names()
        return preset(values.pop("experiment", "A"),
                      **{k: v for k, v in values.items() if k in known})

    @classmethod
    def load(cls, run_dir: str) -> "TrainConfig":
        with open(os.path.join(run_dir, "config.json")) as f:
            return cls.from_json(f.read())

    def non_defaults(self) -> dict:
        """Fields (and options) whose value differs from the default (what a run changed)."""
        base = TrainConfig(experiment=self.experiment)
        changed = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                   if f.name != "options" and getattr(self, f.name) != getattr(base, f.name)}
        if self.experiment != "A":
            changed = {"experiment": self.experiment, **changed}
        return changed | {k: v for k, v in self.options.items() if v != base.options[k]}


# Fields a resumed run may change: the schedule, checkpoint cadence, logging and evaluation, and
# how fast or where it runs. The others (model shape, image size, experiment and its options,
# objective, optimizer, batch and data order) define the run and its checkpoints.
RESUMABLE = frozenset({
    "out", "data", "epochs", "steps_per_epoch", "learning_rate", "lr_decay_epochs",
    "checkpoint_minutes", "keep_checkpoints", "log_every", "eval_images", "num_samples",
    "test_mode", "precision", "strategy", "jit", "kernels",
})


def option_fields() -> dict[str, tuple[dataclasses.Field, type, list[str]]]:
    """Every registered experiment's options: name -> (field, type, the experiments that have
    it)."""
    found: dict[str, tuple[dataclasses.Field, type, list[str]]] = {}
    for experiment in experiments.EXPERIMENTS.values():
        types = typing.get_type_hints(experiment.Options)
        for f in dataclasses.fields(experiment.Options):
            found.setdefault(f.name, (f, types[f.name], []))[2].append(experiment.name)
    return found


def option_names() -> set[str]:
    return set(option_fields())


def preset(experiment: str, **overrides) -> TrainConfig:
    """The config of an experiment (A, B, ...), with optional field and option overrides; options
    of other experiments are ignored (they do not apply to this one)."""
    options = dict(overrides.pop("options", {}))
    own = {f.name for f in dataclasses.fields(experiments.of(experiment).Options)}
    for name in option_names() & set(overrides):
        value = overrides.pop(name)
        if name in own:
            options[name] = value
    return TrainConfig(**{**overrides, "experiment": experiment, "options": options})


def resumed(saved: TrainConfig, run_dir: str, **overrides) -> TrainConfig:
    """A saved run's config with `overrides`; ColorizeError for a field a resume cannot change."""
    current = dataclasses.asdict(saved) | saved.options
    refused = sorted(k for k, v in overrides.items()
                     if k not in RESUMABLE and k in current and v != current[k])
    if refused:
        changes = ", ".join(f"--{k.replace('_', '-')} {overrides[k]!r} (the run has "
                            f"{current[k]!r})" for k in refused)
        raise ColorizeError(f"{run_dir}: a resumed run keeps its model, data order and objective; "
                            f"cannot change {changes}. Start a new run with another --out instead",
                            reason="resume_mismatch")
    fields = {k: v for k, v in overrides.items() if k in RESUMABLE}
    return dataclasses.replace(saved, **{**fields, "out": run_dir})


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per config field and per experiment option, named after it, with the field's help
    and default; unset flags keep the preset's value."""
    hints = typing.get_type_hints(TrainConfig)
    choices = {**CHOICES, "experiment": tuple(experiments.EXPERIMENTS)}
    for f in dataclasses.fields(TrainConfig):
        if f.name == "options":
            continue
        help_text = f.metadata["help"]
        if f.name == "experiment":
            help_text += ": " + "; ".join(f"{c.name}: {c.description}"
                                          for c in experiments.EXPERIMENTS.values())
        _add_flag(parser, f.name, hints[f.name], f"{help_text} (default: {f.default!r})",
                  choices.get(f.name))
    for name, (f, kind, owners) in option_fields().items():
        _add_flag(parser, name, kind, f"{f.metadata.get('help', name)} (default: {f.default!r}; experiment "
                  f"{', '.join(owners)})", None)


def _add_flag(parser, name: str, kind: type, help_text: str, choices) -> None:
    flag = "--" + name.replace("_", "-")
    if kind is bool:
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                            help=help_text)
    else:
        parser.add_argument(flag, type=kind, default=None, choices=choices, help=help_text)


def given_values(args: argparse.Namespace) -> dict:
    """The config fields and experiment options whose flags were given on the command line."""
    names = [f.name for f in dataclasses.fields(TrainConfig) if f.name != "options"]
    return {name: getattr(args, name) for name in [*names, *option_fields()]
            if getattr(args, name, None) is not None}


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The preset named by --experiment, overridden by every flag that was given."""
    given = given_values(args)
    try:
        return preset(given.pop("experiment", "A"), **given)
    except ValueError as err:  # a flag's value out of range: one line, not a traceback
        raise ColorizeError(f"bad flags: {err}", reason="bad_value") from None
