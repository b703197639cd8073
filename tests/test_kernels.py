"""colorize.kernels computes what the Keras layers and optimizer it replaces compute."""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from colorize import kernels, upsampling
from colorize.config import preset
from colorize.models import build_generator


def _grads(layer, x):
    """Output and gradients (input, then weights) of a fixed, uneven weighting of the output."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        weights = tf.reshape(tf.cos(tf.range(tf.size(y), dtype=y.dtype)), y.shape)
        loss = tf.reduce_sum(y * weights)
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    assert all(g is not None for g in grads)
    return y, grads


def _pair(fast_cls, stock_cls, input_shape, **kwargs):
    fast, stock = fast_cls(**kwargs), stock_cls(**kwargs)
    fast.build(input_shape)
    stock.build(input_shape)
    stock.set_weights(fast.get_weights())
    return fast, stock


def test_patch_weight_gradient_of_a_hand_computed_case():
    x = tf.reshape(tf.range(1.0, 10.0), (1, 3, 3, 1))  # 1 2 3 / 4 5 6 / 7 8 9
    dy = tf.ones((1, 2, 2, 1))  # a 2x2 valid convolution, stride 1, every output weighted 1
    dw = kernels.patch_weight_gradient(x, dy, kernel_size=2, stride=1, padding="valid")
    np.testing.assert_array_equal(dw.numpy().reshape(2, 2), [[12, 16], [24, 28]])


CONVS = [  # (class, input shape, kwargs): every one has at most 256 output (or input) positions
    (kernels.Conv2D, (2, 8, 8, 3), dict(filters=5, kernel_size=4, strides=2, padding="same")),
    (kernels.Conv2D, (2, 7, 7, 3), dict(filters=5, kernel_size=4, strides=2, padding="same")),
    (kernels.Conv2D, (2, 9, 9, 3), dict(filters=2, kernel_size=4, strides=1, padding="valid")),
    (kernels.Conv2D, (2, 8, 8, 3), dict(filters=4, kernel_size=4, strides=2, padding="same",
                                        use_bias=True)),
    (kernels.Conv2DTranspose, (2, 4, 4, 6), dict(filters=3, kernel_size=4, strides=2,
                                                 padding="same")),
    (kernels.Conv2DTranspose, (2, 1, 1, 6), dict(filters=3, kernel_size=4, strides=2,
                                                 padding="same", use_bias=True)),
]


@pytest.mark.parametrize("cls, shape, kwargs", CONVS)
def test_convolution_output_and_gradients_match_keras(cls, shape, kwargs):
    fast, stock = _pair(cls, kernels.STOCK_CLASSES[cls], shape, **kwargs)
    x = tf.random.normal(shape, seed=1)
    y_fast, g_fast = _grads(fast, x)
    y_stock, g_stock = _grads(stock, x)
    np.testing.assert_allclose(y_fast, y_stock, atol=1e-5)
    for a, b in zip(g_fast, g_stock, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("use_bias", [False, True])
@pytest.mark.parametrize("shape", [(2, 4, 4, 6), (1, 5, 7, 3), (2, 32, 32, 3)])
def test_upsampled_convolution_is_the_upsampling_then_the_convolution(shape, use_bias):
    fast = upsampling.UpSampledConv2D(filters=5, kernel_size=3, padding="same",
                                      use_bias=use_bias, bias_initializer="random_normal")
    fast.build(shape)
    stock = keras.Sequential([keras.layers.UpSampling2D(2, interpolation="nearest"),
                              keras.layers.Conv2D(5, 3, padding="same", use_bias=use_bias)])
    stock.build(shape)
    stock.set_weights(fast.get_weights())
    x = tf.random.normal(shape, seed=1)
    y_fast, g_fast = _grads(fast, x)
    y_stock, g_stock = _grads(stock, x)
    assert y_fast.shape == (shape[0], 2 * shape[1], 2 * shape[2], 5)
    np.testing.assert_allclose(y_fast, y_stock, atol=1e-5)
    for a, b in zip(g_fast, g_stock, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_upsampled_convolution_keeps_bfloat16_and_trains_its_float32_kernel():
    layer = upsampling.UpSampledConv2D(4, 3, padding="same", use_bias=True,
                                       dtype="mixed_bfloat16")
    x = tf.random.normal((2, 8, 8, 3), seed=3)
    with tf.GradientTape() as tape:
        y = layer(x)
        loss = tf.reduce_sum(tf.cast(y, tf.float32))
    kernel_grad = tape.gradient(loss, layer.kernel)
    assert y.dtype == tf.bfloat16 and layer.kernel.dtype == "float32"
    assert kernel_grad is not None and kernel_grad.dtype == tf.float32
    stock = keras.Sequential([keras.layers.UpSampling2D(2),
                              keras.layers.Conv2D(4, 3, padding="same")])
    stock.build(x.shape)
    stock.set_weights(layer.get_weights())
    np.testing.assert_allclose(tf.cast(y, tf.float32), stock(x), atol=0.05)


def test_tied_kernel_sums_the_taps_each_output_phase_reads():
    kernel = tf.reshape(tf.range(1.0, 10.0), (3, 3, 1, 1))  # rows 1 2 3 / 4 5 6 / 7 8 9
    tied = upsampling.tied_kernel(kernel).numpy()[..., 0, 0]
    along = np.array(upsampling.TIE)  # (4, 3): tap p of the transposed kernel sums row p's taps
    np.testing.assert_array_equal(tied, along @ kernel.numpy()[..., 0, 0] @ along.T)
    assert tied[1, 1] == 5 + 6 + 8 + 9 and tied[3, 3] == 1 and tied[0, 3] == 7


def _gradient_ops(layer, x) -> set[str]:
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x))
        return tape.gradient(loss, layer.trainable_weights)
    return {op.type for op in step.get_concrete_function(x).graph.get_operations()}


def test_small_outputs_take_the_patch_matmul():
    layer = kernels.Conv2D(4, 4, strides=2, padding="same")
    assert "ExtractImagePatches" in _gradient_ops(layer, tf.zeros((1, 32, 32, 2)))  # 16x16 out


def test_large_outputs_keep_the_tensorflow_kernel():
    layer = kernels.Conv2D(4, 4, strides=2, padding="same")
    ops = _gradient_ops(layer, tf.zeros((1, 64, 64, 2)))  # 32x32 out
    assert "ExtractImagePatches" not in ops
    assert "Conv2DBackpropFilter" in ops


def test_fused_batch_norm_trains_like_keras():
    shape = (4, 5, 5, 6)
    fast, stock = _pair(kernels.BatchNormalization, keras.layers.BatchNormalization, shape,
                        momentum=0.9, epsilon=1e-5)
    gamma = np.random.default_rng(0).uniform(0.5, 1.5, 6).astype("float32")
    for layer in (fast, stock):
        layer.gamma.assign(gamma)
        layer.beta.assign(np.linspace(-1, 1, 6).astype("float32"))
    x = tf.random.normal(shape, seed=2) * 3 + 1
    y_fast, g_fast = _grads(fast, x)
    y_stock, g_stock = _grads(stock, x)
    np.testing.assert_allclose(y_fast, y_stock, atol=1e-5)
    for a, b in zip(g_fast, g_stock, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(fast.moving_mean, stock.moving_mean, atol=1e-6)
    np.testing.assert_allclose(fast.moving_variance, stock.moving_variance, rtol=1e-5)


def test_fused_batch_norm_of_one_value_per_channel_is_finite():
    layer = kernels.BatchNormalization(momentum=0.9, epsilon=1e-5)
    y = layer(tf.constant([[[[3.0, -2.0]]]]), training=True)  # the U-Net bottleneck at batch 1
    np.testing.assert_array_equal(y, np.zeros((1, 1, 1, 2)))
    np.testing.assert_allclose(layer.moving_variance, [0.9, 0.9])  # 0.9 * 1 + 0.1 * 0


def test_fused_batch_norm_keeps_bfloat16():
    layer = kernels.BatchNormalization(dtype="mixed_bfloat16")
    x = tf.random.normal((2, 4, 4, 3), seed=3)
    y = layer(x, training=True)
    assert y.dtype == tf.bfloat16
    reference = keras.layers.BatchNormalization()(x, training=True)
    np.testing.assert_allclose(tf.cast(y, tf.float32), reference, atol=0.05)


def test_fused_adam_updates_like_keras_adam():
    rng = np.random.default_rng(4)
    start = [rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=5).astype("float32")]
    grads = [[rng.normal(size=v.shape).astype("float32") for v in start] for _ in range(3)]
    results = []
    for cls in (kernels.FusedAdam, keras.optimizers.Adam):
        variables = [keras.Variable(v) for v in start]
        optimizer = cls(2e-4, beta_1=0.5, beta_2=0.999, epsilon=1e-8)
        for step in grads:
            optimizer.apply(step, variables)
        results.append(([v.numpy() for v in variables],
                        [v.numpy() for v in optimizer.variables]))
    (fast, fast_slots), (ref, ref_slots) = results
    # The kernel forms 1 - beta_2 in float32 (1 - 0.999f = 0.00099999), Keras in float64 (0.001).
    for a, b in zip(fast + fast_slots, ref + ref_slots, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-9)
    assert not np.allclose(fast[0], start[0])  # the update did happen


@pytest.mark.parametrize("experiment, tolerance", [("B", 0.0), ("C", 1e-5)])
def test_stock_copy_is_plain_keras_with_the_same_function(tmp_path, experiment, tolerance):
    """B's transposed decoder computes with the same kernels either way; C's "resize" decoder
    becomes the stock upsampling and 3x3 convolution where its outer level (to_rgb's 32x32
    input at 64 px) computes them as one."""
    cfg = preset(experiment, image_size=64, width=4)
    gen = build_generator(cfg)
    copy = kernels.stock(gen)
    assert all(type(layer).__module__.startswith("keras.") for layer in copy.layers)
    assert [layer.name for layer in copy.layers] == [layer.name for layer in gen.layers]
    x = tf.random.uniform((2, 64, 64, cfg.conditioning.input_channels), -1, 1, seed=5)
    np.testing.assert_allclose(copy(x, training=False), gen(x, training=False), rtol=0,
                               atol=tolerance)
    path = tmp_path / "generator.keras"
    copy.save(path)
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    assert "colorize" not in json.dumps(config)  # loads without this package


def test_resize_decoders_of_both_kernel_sets_share_checkpoints(tmp_path):
    """The fused "resize" decoder keeps the stock model's list of operations (`UpSampledHere` where
    UpSampling2D stands), so a training checkpoint restores into the generator use builds."""
    cfg = preset("C", image_size=128, width=4)
    fused, plain = build_generator(cfg), build_generator(cfg.replace(kernels="keras"))
    # inputs of 32x32 and more: up6 (32x32 -> 64x64) and to_rgb (64x64 -> 128x128)
    assert {name for name in ("up5_conv", "up6_conv", "to_rgb")
            if isinstance(fused.get_layer(name), upsampling.UpSampledConv2D)} == {"up6_conv",
                                                                                 "to_rgb"}
    assert type(fused.get_layer("up5_conv")) is kernels.Conv2D
    assert type(plain.get_layer("up6_resize")) is keras.layers.UpSampling2D
    x = tf.random.uniform((2, 128, 128, 9), -1, 1, seed=7)
    assert not np.allclose(plain(x, training=False), fused(x, training=False), atol=1e-3)
    path = tf.train.Checkpoint(generator=fused).save(str(tmp_path / "ckpt"))
    tf.train.Checkpoint(generator=plain).restore(path).assert_existing_objects_matched()
    np.testing.assert_allclose(plain(x, training=False), fused(x, training=False), atol=1e-6)


def _two_steps(kernel_set: str, experiment: str):
    keras.utils.set_random_seed(0)
    from colorize.pix2pix import Pix2Pix

    size = 64 if experiment == "C" else 32  # C: to_rgb's 32x32 input is fused
    cfg = preset(experiment, image_size=size, width=4, batch_size=2, precision="float32",
                 kernels=kernel_set)
    model = Pix2Pix(cfg)
    channels = cfg.conditioning.input_channels
    x = tf.random.stateless_uniform((2, size, size, channels), (1, 2), -1, 1)
    y = tf.random.stateless_uniform((2, size, size, 3), (3, 4), -1, 1)
    losses = [model.train_step((x, y)) for _ in range(2)]
    return losses, model.generator.get_weights()


@pytest.mark.heavy
@pytest.mark.parametrize("experiment", ["B", "C"])  # the paper's decoder, and C's "resize" one
def test_both_kernel_sets_train_the_same_model(experiment):
    (fused_losses, fused), (keras_losses, stock) = (_two_steps("fused", experiment),
                                                    _two_steps("keras", experiment))
    for a, b in zip(fused_losses, keras_losses, strict=True):
        for name in a:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-4)
    for a, b in zip(fused, stock, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_fused_adam_only_on_a_tested_keras_release(caplog):
    import keras

    assert kernels.adam_class() is kernels.FusedAdam  # the installed release is a tested one
    with caplog.at_level("WARNING"):
        assert kernels.adam_class("9.1.0") is keras.optimizers.Adam
    assert "untested with Keras 9.1.0" in caplog.text
