import math

import numpy as np
import pytest
import tensorflow as tf

from colorize.losses import discriminator_loss, generator_loss

LOG2 = math.log(2.0)


def test_zero_logits_cost_log2():
    zeros = tf.zeros((2, 3, 3, 1))
    np.testing.assert_allclose(discriminator_loss(zeros, zeros), [LOG2, LOG2], rtol=1e-6)
    img = tf.zeros((2, 4, 4, 3))
    total, gan, l1 = generator_loss(zeros, img, img, l1_weight=100.0)
    np.testing.assert_allclose(gan, [LOG2, LOG2], rtol=1e-6)
    np.testing.assert_allclose(l1, [0, 0])
    np.testing.assert_allclose(total, gan, rtol=1e-6)


def test_discriminator_loss_is_half_the_sum():
    real = tf.fill((1, 2, 2, 1), 2.0)
    fake = tf.fill((1, 2, 2, 1), -1.0)
    expected = 0.5 * (math.log1p(math.exp(-2.0)) + math.log1p(math.exp(-1.0)))
    assert float(discriminator_loss(real, fake)[0]) == pytest.approx(expected, rel=1e-6)


def test_generator_loss_weights_l1_by_100():
    logits = tf.fill((1, 2, 2, 1), 3.0)
    fake = tf.fill((1, 4, 4, 3), 0.5)
    target = tf.fill((1, 4, 4, 3), -0.5)
    total, gan, l1 = generator_loss(logits, fake, target, l1_weight=100.0)
    assert float(gan[0]) == pytest.approx(math.log1p(math.exp(-3.0)), rel=1e-6)
    assert float(l1[0]) == pytest.approx(1.0)
    assert float(total[0]) == pytest.approx(float(gan[0]) + 100.0, rel=1e-6)


def test_losses_are_per_example():
    logits = tf.constant([[[[5.0]]], [[[-5.0]]]])
    loss = discriminator_loss(logits, logits)
    assert loss.shape == (2,)
    assert float(loss[0]) == pytest.approx(float(loss[1]), rel=1e-6)  # symmetric in real/fake


def test_bfloat16_logits_give_float32_losses():
    logits = tf.zeros((1, 2, 2, 1), tf.bfloat16)
    assert discriminator_loss(logits, logits).dtype == tf.float32


def test_pixel_weights_weigh_the_l1_per_pixel():
    logits = tf.zeros((2, 2, 2, 1))
    rng = np.random.default_rng(0)
    fake, target = (tf.constant(rng.uniform(-1, 1, (2, 4, 4, 3)), tf.float32) for _ in "ft")
    plain = generator_loss(logits, fake, target)[2]
    np.testing.assert_allclose(generator_loss(logits, fake, target,
                                              pixel_weights=tf.ones((2, 4, 4, 1)))[2], plain,
                               rtol=1e-6)
    weights = np.ones((2, 4, 4, 1), np.float32)
    weights[:, :2] = 3.0  # the top half counts three times
    error = np.abs(target.numpy() - fake.numpy())
    total, _, l1 = generator_loss(logits, fake, target, pixel_weights=tf.constant(weights))
    np.testing.assert_allclose(l1, (error * weights).mean(axis=(1, 2, 3)), rtol=1e-5)
    assert (l1.numpy() > plain.numpy()).all()
