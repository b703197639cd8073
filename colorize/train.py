"""pix2pix training: a custom tf.function step with two GradientTapes, fed by the tf.data pipeline.

A run writes everything it produces into its run folder (`colorize.runfolder`): config, checkpoints,
TensorBoard logs, sample grids, per-epoch metrics and the final generator.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import shutil
import sys
import tempfile
import time

import keras
import tensorflow as tf

from colorize import data, fileio, kernels, records, runtime, samples
from colorize.config import TrainConfig, resumed
from colorize.errors import ColorizeError
from colorize.losses import discriminator_loss, generator_loss
from colorize.models import build_discriminator, build_generator
from colorize.predictor import Predictor, evaluate
from colorize.runfolder import RunFolder

LOSSES = ("gen_total_loss", "gen_gan_loss", "gen_l1_loss", "disc_loss")
PROGRESS_SECONDS = 30  # how often a redirected log gets a progress line (and one per epoch)


class TrainingDiverged(ColorizeError):
    """A loss became NaN or Inf."""


def make_optimizer(cfg: TrainConfig, precision: str) -> keras.optimizers.Optimizer:
    adam = kernels.adam_class() if cfg.kernels == "fused" else keras.optimizers.Adam
    optimizer = adam(cfg.learning_rate, beta_1=cfg.beta1, beta_2=cfg.beta2, epsilon=cfg.adam_epsilon)
    if precision == "mixed_float16":  # float16 gradients underflow without loss scaling
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def lr_factor(cfg: TrainConfig, epoch: int) -> float:
    """The reference's linear decay: 1 until the last `lr_decay_epochs` epochs, then down towards 0."""
    if cfg.lr_decay_epochs <= 0:
        return 1.0
    return 1.0 - max(0, epoch - (cfg.epochs - cfg.lr_decay_epochs) + 1) / (cfg.lr_decay_epochs + 1)


class Pix2Pix:
    """Generator, discriminator, their optimizers and the distributed train step."""

    def __init__(self, cfg: TrainConfig, strategy: tf.distribute.Strategy | None = None):
        self.cfg = cfg
        self.strategy = strategy or tf.distribute.get_strategy()
        self.precision = runtime.resolve_precision(cfg.precision)
        self.global_batch = cfg.batch_size * self.strategy.num_replicas_in_sync
        with self.strategy.scope():
            self.generator = build_generator(cfg, self.precision)
            self.discriminator = build_discriminator(cfg, self.precision)
            self.gen_optimizer = make_optimizer(cfg, self.precision)
            self.disc_optimizer = make_optimizer(cfg, self.precision)
            # Slots exist before any restore, so checkpoints restore optimizer state eagerly.
            self.gen_optimizer.build(self.generator.trainable_variables)
            self.disc_optimizer.build(self.discriminator.trainable_variables)
        self._step_fn = tf.function(self._distributed_step, jit_compile=cfg.jit or None)

    def set_learning_rate(self, value: float) -> None:
        for optimizer in (self.gen_optimizer, self.disc_optimizer):
            optimizer.learning_rate.assign(value)

    def _replica_step(self, inputs, target):
        def average(per_example):
            return tf.nn.compute_average_loss(per_example, global_batch_size=self.global_batch)

        gen, disc = self.generator, self.discriminator
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            fake = gen(inputs, training=True)
            real_logits = disc([inputs, target], training=True)
            fake_logits = disc([inputs, fake], training=True)
            gen_total, gen_gan, gen_l1 = generator_loss(fake_logits, fake, target, self.cfg.l1_weight)
            gen_loss = average(gen_total)
            disc_loss = average(discriminator_loss(real_logits, fake_logits))
            gen_scaled = self.gen_optimizer.scale_loss(gen_loss)
            disc_scaled = self.disc_optimizer.scale_loss(disc_loss)
        gen_grads = gen_tape.gradient(gen_scaled, gen.trainable_variables)
        disc_grads = disc_tape.gradient(disc_scaled, disc.trainable_variables)
        self.gen_optimizer.apply_gradients(zip(gen_grads, gen.trainable_variables))
        self.disc_optimizer.apply_gradients(zip(disc_grads, disc.trainable_variables))
        return {"gen_total_loss": gen_loss, "gen_gan_loss": average(gen_gan),
                "gen_l1_loss": average(gen_l1), "disc_loss": disc_loss}

    def _distributed_step(self, batch):
        per_replica = self.strategy.run(self._replica_step, args=batch)
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                for k, v in per_replica.items()}

    def train_step(self, batch) -> dict:
        """One optimization step of both networks on a (distributed) batch; global-mean losses."""
        return self._step_fn(batch)


class LogProgress:
    """Progress for a log file or a pipe: a plain line every `every` seconds and one at the
    epoch's end. Keras' Progbar redraws its bar with carriage returns and escape codes up to 20
    times a second, and a redirected log keeps every frame."""

    def __init__(self, target: int, log=print, every: float = PROGRESS_SECONDS):
        self.target, self.log, self.every = target, log, every
        self._sums: dict[str, float] = {}
        self._count = 0
        self._start = self._last = time.monotonic()

    def update(self, current: int, values) -> None:
        """As Progbar.update: the step within the epoch and this step's (name, value) pairs; the
        line shows their means over the epoch so far."""
        for name, value in values:
            self._sums[name] = self._sums.get(name, 0.0) + float(value)
        self._count += 1
        now = time.monotonic()
        if current < self.target and now - self._last < self.every:
            return
        self._last = now
        elapsed = now - self._start
        eta = elapsed / self._count * (self.target - current)
        timing = f"{elapsed:.0f} s" + (f", {eta:.0f} s to go" if current < self.target else "")
        means = ", ".join(f"{k} {v / self._count:.4f}" for k, v in self._sums.items())
        self.log(f"  {current}/{self.target} steps ({timing}): {means}")


def _interactive() -> bool:
    """Whether stdout shows a live bar (a terminal or a notebook) rather than keeping each frame."""
    try:
        return sys.stdout.isatty() or "ipykernel" in sys.modules
    except (AttributeError, ValueError):  # no stdout, or a closed one
        return False


def default_run_dir(cfg: TrainConfig) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join("runs", f"{cfg.experiment}-{stamp}")


class Trainer:
    """Runs the epochs: data, steps, logging, samples, held-out metrics, checkpoints, export."""

    def __init__(self, cfg: TrainConfig, run_dir: str, *, log=print):
        self.log = log
        self.strategy = runtime.make_strategy(cfg.strategy)  # before any TF op (collectives)
        data.check_records(cfg.data, "train", cfg.image_size)  # before anything is written
        self.chief = runtime.is_chief(self.strategy)
        keras.utils.set_random_seed(cfg.seed)
        self.cfg = cfg
        self.run_dir = run_dir
        self.run = RunFolder(run_dir)
        self.model = Pix2Pix(cfg, self.strategy)
        self.precision = self.model.precision
        self.step = tf.Variable(0, dtype=tf.int64, name="step")
        self.epoch = tf.Variable(0, dtype=tf.int64, name="epoch")
        self.step_in_epoch = tf.Variable(0, dtype=tf.int64, name="step_in_epoch")
        self.checkpoint = tf.train.Checkpoint(
            generator=self.model.generator, discriminator=self.model.discriminator,
            gen_optimizer=self.model.gen_optimizer, disc_optimizer=self.model.disc_optimizer,
            step=self.step, epoch=self.epoch, step_in_epoch=self.step_in_epoch)
        # Every worker takes part in saving (a collective under MultiWorkerMirroredStrategy); only
        # the chief's copy is kept, the others write to a temporary folder.
        self._scratch = None if self.chief else tempfile.mkdtemp(prefix="colorize-worker-")
        checkpoint_dir = RunFolder(self._scratch).checkpoints if self._scratch else self.run.checkpoints
        self.manager = tf.train.CheckpointManager(self.checkpoint, checkpoint_dir,
                                                  max_to_keep=cfg.keep_checkpoints)
        self.writer = (tf.summary.create_file_writer(self.run.logs) if self.chief
                       else tf.summary.create_noop_writer())
        self.predictor = Predictor(self.model.generator, cfg.test_mode)

    # -- setup -------------------------------------------------------------------------------

    def restore(self) -> bool:
        """Restore the newest checkpoint of the run folder, if any."""
        path = self.run.latest_checkpoint()
        if path is None:
            return False
        try:
            self.checkpoint.restore(path).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as err:
            raise ColorizeError(f"{path}: does not fit this run's config ({type(err).__name__}: "
                                f"{_first_line(err)[:200]})") from None
        self.log(f"Resumed from {path}: epoch {int(self.epoch) + 1}, step {int(self.step)}.")
        return True

    def _check_workers_start_together(self) -> None:
        """Every worker must start at the same step: one that cannot read the chief's checkpoints
        would otherwise train different weights in lockstep, silently."""
        if not isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return
        gather = tf.function(lambda: self.strategy.gather(
            self.strategy.run(lambda: tf.reshape(tf.identity(self.step), [1])), axis=0))
        steps = gather().numpy().tolist()  # one per replica
        if len(set(steps)) > 1:
            raise ColorizeError(
                f"{self.run_dir}: the workers start at different steps {steps}: every worker "
                "must read the run folder's checkpoints (give all the same --out on a shared "
                "filesystem)")

    def _heldout_split(self) -> str:
        return "test" if records.shard_paths(self.cfg.data, "test") else "train"

    def _steps_per_epoch(self) -> int:
        if self.cfg.steps_per_epoch > 0:
            return self.cfg.steps_per_epoch
        steps = data.count_examples(self.cfg.data, "train") // self.model.global_batch
        if steps == 0:
            raise ColorizeError(f"{self.cfg.data}: fewer training examples than one batch of "
                                f"{self.model.global_batch}")
        return steps

    def _train_dataset(self, epoch: int, skip: int, steps: int):
        def dataset_fn(context: tf.distribute.InputContext):
            batch = context.get_per_replica_batch_size(self.model.global_batch)
            ds = data.make_dataset(self.cfg, self.cfg.data, "train", training=True,
                                   batch_size=batch, epoch=epoch, repeat=True,
                                   input_context=context)
            return ds.skip(skip).take(steps - skip)
        return self.strategy.distribute_datasets_from_function(dataset_fn)

    # -- outputs -----------------------------------------------------------------------------

    def save_checkpoint(self) -> str | None:
        """Save both models and optimizers; a failed write (disk full) is a one-line error and
        leaves the last good checkpoint as it was (the manager writes under temporary names)."""
        try:
            path = self.manager.save(checkpoint_number=int(self.step))
        except (OSError, tf.errors.OpError) as err:
            raise ColorizeError(
                f"{self.manager.directory}: could not write the checkpoint of step "
                f"{int(self.step)} ({type(err).__name__}: {_first_line(err)}); the last good "
                f"checkpoint is {self.manager.latest_checkpoint}") from None
        return path if self.chief else None

    def _log_scalars(self, losses: dict, images_per_sec: float) -> None:
        with self.writer.as_default(step=int(self.step)):
            for name, value in losses.items():
                tf.summary.scalar(name, value)
            # .numpy(): float() of a variable fails when it is mirrored (under a strategy)
            learning_rate = float(self.model.gen_optimizer.learning_rate.numpy())
            tf.summary.scalar("learning_rate", learning_rate)
            tf.summary.scalar("images_per_sec", images_per_sec)

    def _end_of_epoch(self, epoch: int, epoch_losses: dict, seconds: float, images: int,
                      sample_batch, heldout) -> None:
        inputs, target = sample_batch
        outputs = self.predictor(inputs)
        grid = samples.grid(self.cfg.conditioning, inputs, outputs, target)
        metrics = (evaluate(self.predictor, heldout, self.cfg.eval_images)
                   if self.cfg.eval_images > 0 else {})
        record = {"epoch": epoch + 1, "step": int(self.step), **epoch_losses,
                  "seconds": round(seconds, 2), "images_per_sec": round(images / seconds, 3),
                  "heldout": {**metrics, "split": self._heldout, "test_mode": self.cfg.test_mode}}
        if not self.chief:
            return
        try:
            fileio.write_image(self.run.sample_path(epoch + 1), grid)
            with open(self.run.metrics, "a") as f:
                f.write(json.dumps(record) + "\n")
        except OSError as err:
            raise ColorizeError(f"{self.run_dir}: could not write the epoch's samples or metrics "
                                f"({err}); the last good checkpoint is "
                                f"{self.manager.latest_checkpoint}") from None
        with self.writer.as_default(step=int(self.step)):
            tf.summary.image(f"samples ({self.cfg.test_mode} test mode)", grid[None])
            for name, value in metrics.items():
                if name != "images":
                    tf.summary.scalar(f"heldout_{name}", value)
        summary = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k != "images")
        self.log(f"epoch {epoch + 1}: {summary} on {metrics.get('images', 0)} held-out "
                 f"{self._heldout} images ({self.cfg.test_mode} test mode)")

    def export_generator(self) -> str | None:
        if not self.chief:
            return None
        path = self.run.generator
        tmp = os.path.join(self.run_dir, "generator.tmp.keras")
        try:
            kernels.stock(self.model.generator).save(tmp)
            os.replace(tmp, path)
        except OSError as err:
            raise ColorizeError(f"{path}: could not write the generator ({err}); the run's "
                                f"checkpoints hold it: {self.manager.latest_checkpoint}") from None
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return path

    # -- the loop ----------------------------------------------------------------------------

    def fit(self) -> dict:
        """Train to cfg.epochs, resuming at the restored step; returns the last epoch's record."""
        cfg = self.cfg
        self._check_workers_start_together()
        steps = self._steps_per_epoch()
        self._heldout = self._heldout_split()
        heldout = data.make_dataset(cfg, cfg.data, self._heldout, training=False)
        sample_batch = next(iter(data.make_dataset(cfg, cfg.data, self._heldout, training=False,
                                                   batch_size=cfg.num_samples)))
        last_save = time.monotonic()
        epoch_losses: dict = {}
        while int(self.epoch) < cfg.epochs:
            epoch, skip = int(self.epoch), int(self.step_in_epoch)
            self.model.set_learning_rate(cfg.learning_rate * lr_factor(cfg, epoch))
            if self.chief and not _interactive():
                progbar = LogProgress(steps, self.log)
            else:
                progbar = keras.utils.Progbar(steps, stateful_metrics=[*LOSSES, "img/s"],
                                              verbose=1 if self.chief else 0)
            self.log(f"Epoch {epoch + 1}/{cfg.epochs}")
            sums = dict.fromkeys(LOSSES, 0.0)
            start = tick = time.monotonic()
            for batch in self._train_dataset(epoch, skip, steps):
                losses = {k: float(v) for k, v in self.model.train_step(batch).items()}
                if not all(math.isfinite(v) for v in losses.values()):
                    raise TrainingDiverged(
                        f"non-finite loss at step {int(self.step) + 1} ({losses}); stopped, the last "
                        f"good checkpoint is {self.manager.latest_checkpoint}. Try a lower "
                        "--learning-rate or --precision float32.")
                self.step.assign_add(1)
                self.step_in_epoch.assign_add(1)
                for k in LOSSES:
                    sums[k] += losses[k]
                now = time.monotonic()
                rate = self.model.global_batch / max(now - tick, 1e-9)
                tick = now
                progbar.update(int(self.step_in_epoch), [*losses.items(), ("img/s", rate)])
                if int(self.step) % cfg.log_every == 0:
                    self._log_scalars(losses, rate)
                if now - last_save > cfg.checkpoint_minutes * 60:
                    self.save_checkpoint()
                    last_save = now
            done = int(self.step_in_epoch) - skip
            epoch_losses = {k: sums[k] / max(done, 1) for k in LOSSES}
            self.epoch.assign_add(1)
            self.step_in_epoch.assign(0)
            self._end_of_epoch(epoch, epoch_losses, time.monotonic() - start,
                               done * self.model.global_batch, sample_batch, heldout)
            self.save_checkpoint()
            last_save = time.monotonic()
        return epoch_losses

    def close(self) -> None:
        self.writer.close()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)


def prepare_run_dir(cfg: TrainConfig) -> str:
    """Create the run folder and write config.json (atomically, by the caller's chief)."""
    run = RunFolder(cfg.out)
    run.create()
    run.write_config(cfg)
    return run.path


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [""])[0]


def train(cfg: TrainConfig, *, log=print) -> str | None:
    """Train (or resume) the run in cfg.out; returns the run folder (None on non-chief workers).

    Ctrl-C saves a checkpoint before it propagates; a non-finite loss stops without saving, so the
    last checkpoint is the last good state.
    """
    if not cfg.out:
        cfg = cfg.replace(out=default_run_dir(cfg))
    run_dir = cfg.out
    trainer = Trainer(cfg, run_dir, log=log)
    resuming = trainer.restore()  # before the config is (re)written: a failed restore changes nothing
    if trainer.chief:  # other workers write nothing into the run folder
        leftovers = trainer.run.remove_temporaries()
        if leftovers:
            log(f"Removed {len(leftovers)} leftover(s) of an interrupted save: "
                + ", ".join(os.path.relpath(p, run_dir) for p in leftovers))
        prepare_run_dir(cfg)
        log(f"Run folder: {run_dir}  ({runtime.device_summary()}, precision {trainer.precision}, "
            f"{trainer.strategy.num_replicas_in_sync} replica(s), global batch "
            f"{trainer.model.global_batch}{', resumed' if resuming else ''})")
        log(f"TensorBoard: tensorboard --logdir {trainer.run.logs}")
    try:
        trainer.fit()
    except KeyboardInterrupt:
        path = trainer.save_checkpoint()
        log(f"\nInterrupted: saved {path}; resume with --resume {run_dir}")
        raise
    finally:
        trainer.close()
    trainer.export_generator()
    return run_dir if trainer.chief else None


def has_checkpoints(run_dir: str) -> bool:
    return RunFolder(run_dir).latest_checkpoint() is not None


def config_for_resume(run_dir: str, **overrides) -> TrainConfig:
    """The saved config of a run with `overrides` (more epochs, ...); ColorizeError for fields a
    resume cannot change (`config.RESUMABLE` lists those it can)."""
    return resumed(RunFolder.open(run_dir).config(), run_dir, **overrides)
