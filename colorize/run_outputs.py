"""What a run shows and keeps besides its checkpoints: config.json, console progress, TensorBoard
scalars and image grids (logs/), samples/epoch_NNN.png, metrics.jsonl and the final
generator.keras. Only the chief writes them; on other workers the same calls write nothing, so the
training loop never asks which worker it is."""

from __future__ import annotations

import json
import os
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from colorize import fileio, kernels, progress
from colorize.config import TrainConfig
from colorize.errors import ColorizeError
from colorize.runfolder import RunFolder


class RunOutputs:
    """The run folder's outputs, from this worker. `last_checkpoint` names the last good
    checkpoint in the message of a failed write."""

    def __init__(self, run: RunFolder, test_mode: str, *, chief: bool, log=print,
                 last_checkpoint: Callable[[], str | None]):
        self.run, self.test_mode, self.chief, self.log = run, test_mode, chief, log
        self._last_checkpoint = last_checkpoint
        self._writer = (tf.summary.create_file_writer(run.logs) if chief
                        else tf.summary.create_noop_writer())

    def begin(self, cfg: TrainConfig, setup: str, leftovers: list[str]) -> None:
        """Remove the leftovers of killed writes (`leftovers`, already removed, are reported with
        them), write config.json and say where the run is; call it after a restore, so that a
        failed one changes nothing."""
        if not self.chief:
            return
        leftovers = leftovers + self.run.remove_temporaries()
        if leftovers:
            self.log(f"Removed {len(leftovers)} leftover(s) of an interrupted save: "
                     + ", ".join(os.path.relpath(p, self.run.path) for p in leftovers))
        self.run.create()
        self.run.write_config(cfg)
        self.log(f"Run folder: {self.run.path}  ({setup})")
        self.log(f"TensorBoard: tensorboard --logdir {self.run.logs}")

    def progress_bar(self, steps: int, stateful=()):
        return progress.progress_bar(steps, chief=self.chief, log=self.log, stateful=stateful)

    def scalars(self, step: int, losses: dict, learning_rate: float, images_per_sec: float) -> None:
        """One step's TensorBoard scalars."""
        if not self.chief:
            return
        with self._writer.as_default(step=step):
            for name, value in losses.items():
                tf.summary.scalar(name, value)
            tf.summary.scalar("learning_rate", learning_rate)
            tf.summary.scalar("images_per_sec", images_per_sec)

    def end_epoch(self, record: dict, grid: np.ndarray) -> None:
        """An epoch's record (a line of metrics.jsonl), its sample grid, both in TensorBoard, and
        a line on the console."""
        if not self.chief:
            return
        try:
            fileio.write_image(self.run.sample_path(record["epoch"]), grid)
            with open(self.run.metrics, "a") as f:
                f.write(json.dumps(record) + "\n")
        except OSError as err:
            raise ColorizeError(f"{self.run.path}: could not write the epoch's samples or metrics "
                                f"({err}); the last good checkpoint is "
                                f"{self._last_checkpoint()}", reason="write_failed") from None
        heldout = record["heldout"]
        scores = {k: v for k, v in heldout.items() if k not in ("images", "split", "test_mode")}
        with self._writer.as_default(step=record["step"]):
            tf.summary.image(f"samples ({self.test_mode} test mode)", grid[None])
            for name, value in scores.items():
                tf.summary.scalar(f"heldout_{name}", value)
        summary = ", ".join(f"{k} {v:.4f}" for k, v in scores.items())
        self.log(f"epoch {record['epoch']}: {summary} on {heldout.get('images', 0)} held-out "
                 f"{heldout['split']} images ({self.test_mode} test mode)")

    def export(self, generator: keras.Model) -> str | None:
        """generator.keras, in stock Keras layers, written atomically; its path (None off the chief)."""
        if not self.chief:
            return None
        path = self.run.generator
        tmp = os.path.join(self.run.path, "generator.tmp.keras")
        try:
            kernels.stock(generator).save(tmp)
            os.replace(tmp, path)
        except OSError as err:
            raise ColorizeError(f"{path}: could not write the generator ({err}); the run's "
                                f"checkpoints hold it: {self._last_checkpoint()}",
                                reason="write_failed") from None
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return path

    def close(self) -> None:
        self._writer.close()
