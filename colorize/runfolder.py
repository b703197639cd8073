"""The run folder: where training writes a run, and where every other command reads it.

    config.json           the full TrainConfig
    checkpoints/          tf.train.CheckpointManager: both models, both optimizers, step, epoch
    logs/                 TensorBoard scalars and per-epoch image grids
    samples/epoch_NNN.png held-out rows of the experiment's grid columns, one file per epoch
    metrics.jsonl         per epoch: mean losses and held-out L1 / PSNR / SSIM
    generator.keras       the trained generator, written at the end
    evaluation-*.json     `colorize evaluate` results

Training, inference, evaluation, export, the notebooks and the app all use this class, so the layout
is written down once.
"""

from __future__ import annotations

import datetime
import os
import re

from colorize import fileio
from colorize.config import TrainConfig
from colorize.errors import ColorizeError

CONFIG = "config.json"
GENERATOR = "generator.keras"


class RunFolder:
    """The paths of one run folder, and reading its config and newest checkpoint."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self.config_path = os.path.join(self.path, CONFIG)
        self.checkpoints = os.path.join(self.path, "checkpoints")
        self.logs = os.path.join(self.path, "logs")
        self.samples = os.path.join(self.path, "samples")
        self.metrics = os.path.join(self.path, "metrics.jsonl")
        self.generator = os.path.join(self.path, GENERATOR)

    def __repr__(self) -> str:
        return f"RunFolder({self.path!r})"

    @staticmethod
    def is_run(path: str | os.PathLike) -> bool:
        """Whether `path` is a run folder (it has a config.json)."""
        return os.path.isfile(os.path.join(os.fspath(path), CONFIG))

    @classmethod
    def open(cls, path: str | os.PathLike) -> RunFolder:
        """An existing run folder; ColorizeError when `path` is not one."""
        path = os.fspath(path)
        if not os.path.isdir(path):
            raise ColorizeError(f"{path}: no such run folder")
        if not cls.is_run(path):
            raise ColorizeError(f"{path}: not a run folder (no {CONFIG})")
        return cls(path)

    def sample_path(self, epoch: int) -> str:
        return os.path.join(self.samples, f"epoch_{epoch:03d}.png")

    def evaluation(self, split: str, experiment: str) -> str:
        """Where `colorize evaluate` writes its results by default."""
        return os.path.join(self.path, f"evaluation-{split}-{experiment}.json")

    def config(self) -> TrainConfig:
        """The run's config; ColorizeError when config.json is not a valid one."""
        try:
            return TrainConfig.load(self.path)
        except (OSError, ValueError, TypeError) as err:  # bad JSON, unknown values
            raise ColorizeError(f"{self.config_path}: not a valid run config ({err})") from None

    def create(self) -> None:
        """Make the folder and its subfolders (config.json comes with `write_config`)."""
        for sub in (self.checkpoints, self.logs, self.samples):
            os.makedirs(sub, exist_ok=True)

    def write_config(self, cfg: TrainConfig) -> None:
        fileio.write_text(self.config_path, cfg.to_json() + "\n")

    def latest_checkpoint(self) -> str | None:
        """The path prefix of the newest checkpoint, or None: what tf.train.latest_checkpoint reads
        from the CheckpointManager's text index, checked to exist."""
        index = os.path.join(self.checkpoints, "checkpoint")
        try:
            with open(index, encoding="utf-8") as f:
                found = re.search(r'^model_checkpoint_path: "(.*)"$', f.read(), re.MULTILINE)
        except OSError:
            return None
        if not found:
            return None
        path = os.path.join(self.checkpoints, found.group(1))
        return path if os.path.exists(path + ".index") else None

    def require_checkpoint(self) -> str:
        path = self.latest_checkpoint()
        if path is None:
            raise ColorizeError(f"{self.path}: no checkpoints in {self.checkpoints} (train the "
                                "run first, or pass --model FILE)")
        return path

    def step(self) -> int | None:
        """The training step of the newest checkpoint (`ckpt-<step>`), or None."""
        path = self.latest_checkpoint()
        found = re.search(r"-(\d+)$", path or "")
        return int(found.group(1)) if found else None

    def trained_at(self) -> datetime.datetime | None:
        """When the newest checkpoint was written (local time), or None."""
        path = self.latest_checkpoint()
        if path is None:
            return None
        return datetime.datetime.fromtimestamp(os.path.getmtime(path + ".index"))
