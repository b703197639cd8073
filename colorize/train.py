"""pix2pix training: the loop over epochs and steps, fed by the tf.data pipeline.

The model and its train step are `colorize.pix2pix`; the checkpoints `colorize.checkpoints`; what
a run writes into its run folder (`colorize.runfolder`) besides them `colorize.run_outputs`; the
held-out samples and scores `colorize.heldout`.
"""

from __future__ import annotations

import datetime
import math
import os
import time

import keras
import tensorflow as tf

from colorize import data, records, runtime
from colorize.checkpoints import Checkpoints
from colorize.config import TrainConfig, resumed
from colorize.errors import ColorizeError
from colorize.heldout import HeldOut
from colorize.pix2pix import Networks, Pix2Pix
from colorize.run_outputs import RunOutputs
from colorize.runfolder import RunFolder

LOSSES = ("gen_total_loss", "gen_gan_loss", "gen_l1_loss", "disc_loss")


class TrainingDiverged(ColorizeError):
    """A loss became NaN or Inf."""


def lr_factor(cfg: TrainConfig, epoch: int) -> float:
    """The reference's linear decay: 1 until the last `lr_decay_epochs` epochs, then down towards 0."""
    if cfg.lr_decay_epochs <= 0:
        return 1.0
    return 1.0 - max(0, epoch - (cfg.epochs - cfg.lr_decay_epochs) + 1) / (cfg.lr_decay_epochs + 1)


def default_run_dir(cfg: TrainConfig) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join("runs", f"{cfg.experiment}-{stamp}")


class Trainer:
    """The training loop. Its state, saved in every checkpoint, is the model and three counters."""

    def __init__(self, cfg: TrainConfig, run_dir: str, *, log=print,
                 networks: Networks = Networks()):
        self.cfg, self.log = cfg, log
        self.strategy = runtime.make_strategy(cfg.strategy)  # before any TF op (collectives)
        runtime.tune_input_pipeline()  # malloc's blocks reused; OpenCV serial in tf.data
        # Each split is checked once, before anything is written; every epoch reuses its shards.
        self.shards = data.check_records(cfg.data, "train", cfg.image_size)
        heldout_split = "test" if records.shard_paths(cfg.data, "test") else "train"
        heldout_shards = (data.check_records(cfg.data, "test", cfg.image_size)
                          if heldout_split == "test" else self.shards)
        chief = runtime.is_chief(self.strategy)
        keras.utils.set_random_seed(cfg.seed)
        self.model = Pix2Pix(cfg, self.strategy, networks)
        self.step = tf.Variable(0, dtype=tf.int64, name="step")
        self.epoch = tf.Variable(0, dtype=tf.int64, name="epoch")
        self.step_in_epoch = tf.Variable(0, dtype=tf.int64, name="step_in_epoch")
        run = RunFolder(run_dir)
        self.checkpoints = Checkpoints(
            run, chief=chief, keep=cfg.keep_checkpoints,
            generator=self.model.generator, discriminator=self.model.discriminator,
            gen_optimizer=self.model.gen_optimizer, disc_optimizer=self.model.disc_optimizer,
            step=self.step, epoch=self.epoch, step_in_epoch=self.step_in_epoch)
        self.outputs = RunOutputs(run, cfg.test_mode, chief=chief, log=log,
                                  last_checkpoint=lambda: self.checkpoints.latest)
        self.heldout = HeldOut(cfg, heldout_split, heldout_shards, self.model.generator)

    def restore(self) -> bool:
        """Restore the newest checkpoint of the run folder, if any."""
        path = self.checkpoints.restore()
        if path is not None:
            self.log(f"Resumed from {path}: epoch {int(self.epoch) + 1}, step {int(self.step)}.")
        return path is not None

    def _steps_per_epoch(self) -> int:
        if self.cfg.steps_per_epoch > 0:
            return self.cfg.steps_per_epoch
        steps = data.count_examples(self.cfg.data, "train") // self.model.global_batch
        if steps == 0:
            raise ColorizeError(f"{self.cfg.data}: fewer training examples than one batch of "
                                f"{self.model.global_batch}", reason="too_few_examples")
        return steps

    def _batches(self, epoch: int, skip: int, steps: int):
        """The epoch's batches after the first `skip` (those a resumed epoch already trained on)."""
        def dataset_fn(context: tf.distribute.InputContext):
            batch = context.get_per_replica_batch_size(self.model.global_batch)
            ds = data.make_dataset(self.cfg, self.cfg.data, "train", training=True,
                                   batch_size=batch, epoch=epoch, repeat=True,
                                   input_context=context, shards=self.shards)
            return ds.skip(skip).take(steps - skip)
        return self.strategy.distribute_datasets_from_function(dataset_fn)

    def fit(self) -> dict:
        """Train to cfg.epochs, resuming at the restored step; returns the last epoch's losses."""
        cfg, model = self.cfg, self.model
        self.checkpoints.require_same_step(self.strategy, self.step)
        steps = self._steps_per_epoch()
        last_save = time.monotonic()
        epoch_losses: dict = {}
        while int(self.epoch) < cfg.epochs:
            epoch, skip = int(self.epoch), int(self.step_in_epoch)
            learning_rate = cfg.learning_rate * lr_factor(cfg, epoch)
            model.set_learning_rate(learning_rate)
            progbar = self.outputs.progress_bar(steps, stateful=[*LOSSES, "img/s"])
            self.log(f"Epoch {epoch + 1}/{cfg.epochs}")
            sums = dict.fromkeys(LOSSES, 0.0)
            start = tick = time.monotonic()
            for batch in self._batches(epoch, skip, steps):
                losses = {k: float(v) for k, v in model.train_step(batch).items()}
                if not all(math.isfinite(v) for v in losses.values()):
                    raise TrainingDiverged(
                        f"non-finite loss at step {int(self.step) + 1} ({losses}); stopped, the last "
                        f"good checkpoint is {self.checkpoints.latest}. Try a lower "
                        "--learning-rate or --precision float32.", reason="diverged")
                self.step.assign_add(1)
                self.step_in_epoch.assign_add(1)
                for k in LOSSES:
                    sums[k] += losses[k]
                now = time.monotonic()
                rate = model.global_batch / max(now - tick, 1e-9)
                tick = now
                progbar.update(int(self.step_in_epoch), [*losses.items(), ("img/s", rate)])
                if int(self.step) % cfg.log_every == 0:
                    self.outputs.scalars(int(self.step), losses, learning_rate, rate)
                if now - last_save > cfg.checkpoint_minutes * 60:
                    self.checkpoints.save(int(self.step))
                    last_save = now
            done = int(self.step_in_epoch) - skip
            seconds = time.monotonic() - start
            epoch_losses = {k: sums[k] / max(done, 1) for k in LOSSES}
            self.epoch.assign_add(1)
            self.step_in_epoch.assign(0)
            grid, metrics = self.heldout.score()
            self.outputs.end_epoch({
                "epoch": epoch + 1, "step": int(self.step), **epoch_losses,
                "seconds": round(seconds, 2),
                "images_per_sec": round(done * model.global_batch / seconds, 3),
                "heldout": {**metrics, "split": self.heldout.split, "test_mode": cfg.test_mode},
            }, grid)
            self.checkpoints.save(int(self.step))
            last_save = time.monotonic()
        return epoch_losses

    def close(self) -> None:
        self.outputs.close()
        self.checkpoints.close()


def train(cfg: TrainConfig, *, log=print, networks: Networks = Networks()) -> str | None:
    """Train (or resume) the run in cfg.out; returns the run folder (None on non-chief workers).

    Ctrl-C saves a checkpoint before it propagates; a non-finite loss stops without saving, so the
    last checkpoint is the last good state.
    """
    if not cfg.out:
        cfg = cfg.replace(out=default_run_dir(cfg))
    run_dir = cfg.out
    trainer = Trainer(cfg, run_dir, log=log, networks=networks)
    resuming = trainer.restore()  # before the config is (re)written: a failed restore changes nothing
    setup = (f"{runtime.device_summary()}, precision {trainer.model.precision}, "
             f"{trainer.strategy.num_replicas_in_sync} replica(s), global batch "
             f"{trainer.model.global_batch}{', resumed' if resuming else ''}")
    trainer.outputs.begin(cfg, setup, leftovers=trainer.checkpoints.remove_leftovers())
    try:
        trainer.fit()
    except KeyboardInterrupt:
        path = trainer.checkpoints.save(int(trainer.step))
        log(f"\nInterrupted: saved {path}; resume with --resume {run_dir}")
        raise
    finally:
        trainer.close()
    trainer.outputs.export(trainer.model.generator)
    return run_dir if trainer.outputs.chief else None


def has_checkpoints(run_dir: str) -> bool:
    return RunFolder(run_dir).latest_checkpoint() is not None


def config_for_resume(run_dir: str, **overrides) -> TrainConfig:
    """The saved config of a run with `overrides` (more epochs, ...); ColorizeError for fields a
    resume cannot change (`config.RESUMABLE` lists those it can)."""
    return resumed(RunFolder.open(run_dir).config(), run_dir, **overrides)
