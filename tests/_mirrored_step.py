"""Test helper: one pix2pix step on two mirrored replicas, run in its own process; and the steps on
one device the test compares it with, which it runs in its own process meanwhile.

Logical CPU devices can only be configured before TensorFlow initializes its devices, hence a
separate process. Reads IN.npz (the initial weights and a batch of 4), writes OUT.npz with the
weights after one step on two replicas (2 examples each).

Usage: python tests/_mirrored_step.py IN.npz OUT.npz
"""

from __future__ import annotations

import sys

import numpy as np
import tensorflow as tf

REPLICAS, PER_REPLICA = 2, 2
GLOBAL = REPLICAS * PER_REPLICA

if __name__ == "__main__":  # before TensorFlow initializes its devices (the test imports this)
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0],
        [tf.config.LogicalDeviceConfiguration()] * REPLICAS)

from colorize.config import preset  # noqa: E402  (after the device setup)
from colorize.pix2pix import Pix2Pix  # noqa: E402

# No dropout (its masks are per replica); synchronized batch norm. Adam's update is invariant to
# the gradient's scale except through epsilon: a large epsilon makes the update proportional to the
# gradient, so a wrong loss scaling changes the weights.
CFG = preset("B", image_size=32, width=4, precision="float32", dropout=0.0, sync_batch_norm=True,
             adam_epsilon=1.0, learning_rate=0.05)


def weights(model: Pix2Pix) -> list[np.ndarray]:
    """Every variable of both networks, batch-norm statistics included."""
    return [v.numpy() for v in model.generator.weights + model.discriminator.weights]


def set_weights(model: Pix2Pix, values: list[np.ndarray]) -> None:
    for v, value in zip(model.generator.weights + model.discriminator.weights, values):
        v.assign(value)


def single_step(batch, initial, global_batch: int = GLOBAL) -> list[np.ndarray]:
    """Weights after one step on one device with the whole batch, the loss averaged over
    `global_batch` examples."""
    model = Pix2Pix(CFG.replace(batch_size=GLOBAL))
    model.global_batch = global_batch
    set_weights(model, initial)
    model.train_step(batch)
    return weights(model)


def mirrored_step(batch, initial, global_batch: int = GLOBAL) -> list[np.ndarray]:
    """Weights after one step on two logical CPUs, replica r getting examples [2r, 2r + 2)."""
    strategy = tf.distribute.MirroredStrategy(
        [f"/cpu:{i}" for i in range(REPLICAS)],
        cross_device_ops=tf.distribute.ReductionToOneDevice())  # see runtime.make_strategy
    model = Pix2Pix(CFG.replace(batch_size=PER_REPLICA), strategy)
    model.global_batch = global_batch
    set_weights(model, initial)
    per_replica = strategy.experimental_distribute_values_from_function(
        lambda ctx: tuple(x[ctx.replica_id_in_sync_group * PER_REPLICA:][:PER_REPLICA]
                          for x in batch))
    model.train_step(per_replica)
    return weights(model)


def main(inputs: str, out: str) -> None:
    given = np.load(inputs)
    initial = [given[f"initial_{i}"] for i in range(len(given.files) - 2)]
    batch = (given["inputs"], given["color"])
    np.savez(out, *mirrored_step(batch, initial))


if __name__ == "__main__":
    main(*sys.argv[1:])
