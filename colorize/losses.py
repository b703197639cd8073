"""The pix2pix objective, per example, so that replicas can average over the global batch.

Generator: BCE-with-logits against "real" + l1_weight * L1. Discriminator: (real loss + fake loss) / 2,
the reference's halving, which slows D relative to G. Patch losses are means over the logit map.
"""

from __future__ import annotations

import tensorflow as tf


def _bce_per_example(labels_like, logits, label: float):
    labels = tf.fill(tf.shape(labels_like), tf.constant(label, logits.dtype))
    bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    return tf.reduce_mean(bce, axis=[1, 2, 3])  # (batch,)


def generator_loss(fake_logits, fake, target, l1_weight: float = 100.0, pixel_weights=None):
    """Per-example (total, gan, l1) generator losses, each (batch,). `pixel_weights`
    (batch, H, W, 1), if given, weigh the L1 per pixel (an experiment's, e.g. C's fill)."""
    fake_logits = tf.cast(fake_logits, tf.float32)
    gan = _bce_per_example(fake_logits, fake_logits, 1.0)
    error = tf.abs(tf.cast(target, tf.float32) - tf.cast(fake, tf.float32))
    if pixel_weights is not None:
        error = error * pixel_weights
    l1 = tf.reduce_mean(error, axis=[1, 2, 3])
    return gan + l1_weight * l1, gan, l1


def discriminator_loss(real_logits, fake_logits):
    """Per-example discriminator loss, (batch,): (BCE(real, 1) + BCE(fake, 0)) / 2."""
    real_logits = tf.cast(real_logits, tf.float32)
    fake_logits = tf.cast(fake_logits, tf.float32)
    real = _bce_per_example(real_logits, real_logits, 1.0)
    fake = _bce_per_example(fake_logits, fake_logits, 0.0)
    return 0.5 * (real + fake)
