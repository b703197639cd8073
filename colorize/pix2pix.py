"""The model being trained: generator, discriminator, their optimizers and the distributed train step.

The networks come from builders, (cfg, dtype_policy) -> keras.Model, called in the strategy's
scope: the paper's (`colorize.models`) unless others are injected, as tests do with small
stand-ins.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import keras
import tensorflow as tf

from colorize import kernels, runtime
from colorize.config import TrainConfig
from colorize.losses import discriminator_loss, generator_loss
from colorize.models import build_discriminator, build_generator


class Networks(NamedTuple):
    """The builders of the two networks, each (cfg, dtype_policy) -> keras.Model."""

    generator: Callable[[TrainConfig, str], keras.Model] = build_generator
    discriminator: Callable[[TrainConfig, str], keras.Model] = build_discriminator


def make_optimizer(cfg: TrainConfig, precision: str) -> keras.optimizers.Optimizer:
    adam = kernels.adam_class() if cfg.kernels == "fused" else keras.optimizers.Adam
    optimizer = adam(cfg.learning_rate, beta_1=cfg.beta1, beta_2=cfg.beta2, epsilon=cfg.adam_epsilon)
    if precision == "mixed_float16":  # float16 gradients underflow without loss scaling
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


class Pix2Pix:
    """Generator, discriminator, their optimizers and the distributed train step."""

    def __init__(self, cfg: TrainConfig, strategy: tf.distribute.Strategy | None = None,
                 networks: Networks = Networks()):
        self.cfg = cfg
        self.strategy = strategy or tf.distribute.get_strategy()
        self.precision = runtime.resolve_precision(cfg.precision)
        self.global_batch = cfg.batch_size * self.strategy.num_replicas_in_sync
        self.l1_weights = cfg.conditioning.l1_weights  # None: the paper's uniform L1
        with self.strategy.scope():
            self.generator = networks.generator(cfg, self.precision)
            self.discriminator = networks.discriminator(cfg, self.precision)
            self.gen_optimizer = make_optimizer(cfg, self.precision)
            self.disc_optimizer = make_optimizer(cfg, self.precision)
            # Slots exist before any restore, so checkpoints restore optimizer state eagerly.
            self.gen_optimizer.build(self.generator.trainable_variables)
            self.disc_optimizer.build(self.discriminator.trainable_variables)
        # autograph off: the step has no Python control flow on tensors, and converting it (and
        # the code it calls) was a third of a small run's start-up
        self._step_fn = tf.function(self._distributed_step, jit_compile=cfg.jit or None,
                                    autograph=False)

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
            gen_total, gen_gan, gen_l1 = generator_loss(
                fake_logits, fake, target, self.cfg.l1_weight, self.l1_weights(inputs))
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
