"""Test helper, run in its own process: one pix2pix step on one device and on two mirrored replicas.

Logical CPU devices can only be configured before TensorFlow initializes its devices, hence a
separate process. Writes OUT.npz with the initial weights, the weights after one step on one device
(batch 4), after one step on two replicas (2 each), and after a replica step that averages over the
per-replica batch instead of the global one (the loss-scaling bug the comparison must catch).

Usage: python tests/_mirrored_step.py OUT.npz
"""

from __future__ import annotations

import sys

import numpy as np
import tensorflow as tf

REPLICAS, PER_REPLICA = 2, 2
GLOBAL = REPLICAS * PER_REPLICA

tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * REPLICAS)

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


def mirrored_step(batch, initial, global_batch: int) -> list[np.ndarray]:
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


def main(out: str) -> None:
    rng = np.random.default_rng(0)
    batch = (rng.uniform(-1, 1, (GLOBAL, 32, 32, 4)).astype(np.float32),  # sketch + cue
             rng.uniform(-1, 1, (GLOBAL, 32, 32, 3)).astype(np.float32))  # color
    tf.keras.utils.set_random_seed(0)
    single = Pix2Pix(CFG.replace(batch_size=GLOBAL))
    initial = weights(single)
    single.train_step(batch)
    arrays = {"initial": initial, "single": weights(single),
              "mirrored": mirrored_step(batch, initial, GLOBAL),
              "wrong_scaling": mirrored_step(batch, initial, PER_REPLICA)}
    np.savez(out, **{f"{name}_{i}": w for name, ws in arrays.items() for i, w in enumerate(ws)})


if __name__ == "__main__":
    main(sys.argv[1])
