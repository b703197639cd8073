import numpy as np
import pytest
import tensorflow as tf

from colorize.config import TrainConfig
from colorize.models import build_discriminator, build_generator, encoder_filters, fold_batch_norm

TINY = TrainConfig(image_size=32, width=4)


@pytest.mark.heavy
def test_full_size_generator_matches_the_paper():
    gen = build_generator(TrainConfig())
    assert gen.count_params() == 54_426_883
    assert gen.input_shape == (None, 256, 256, 4)
    assert gen.output_shape == (None, 256, 256, 3)
    assert encoder_filters(256, 64) == [64, 128, 256, 512, 512, 512, 512, 512]
    dropouts = [layer.name for layer in gen.layers if "dropout" in layer.name]
    assert dropouts == ["up1_dropout", "up2_dropout", "up3_dropout"]


def test_full_size_discriminator_is_a_70x70_patchgan():
    disc = build_discriminator(TrainConfig())
    assert disc.count_params() == 2_771_457
    assert disc.output_shape == (None, 30, 30, 1)


def test_reference_hyperparameters_replace_keras_defaults():
    gen = build_generator(TINY)
    lrelu = gen.get_layer("down2_lrelu")
    bn = gen.get_layer("down2_bn")
    assert lrelu.negative_slope == pytest.approx(0.2)
    assert (bn.momentum, bn.epsilon) == (0.9, 1e-5)


def test_weights_are_initialized_from_n_0_002():
    gen = build_generator(TrainConfig(image_size=64, width=16))
    kernel = gen.get_layer("down3_conv").kernel.numpy()
    assert abs(kernel.mean()) < 0.002
    assert kernel.std() == pytest.approx(0.02, rel=0.1)


def test_levels_follow_the_image_size():
    gen = build_generator(TINY)
    downs = [layer for layer in gen.layers if layer.name.endswith("_conv") and "down" in layer.name]
    assert len(downs) == 5  # 32 -> 16 -> 8 -> 4 -> 2 -> 1


def test_generator_output_is_in_tanh_range():
    gen = build_generator(TINY)
    x = tf.random.uniform((2, 32, 32, 4), -1, 1, seed=1) * 50  # saturate on purpose
    y = gen(x, training=False).numpy()
    assert y.shape == (2, 32, 32, 3)
    assert y.min() >= -1 and y.max() <= 1


def test_discriminator_gives_one_logit_per_patch():
    disc = build_discriminator(TINY)
    logits = disc([tf.zeros((3, 32, 32, 4)), tf.zeros((3, 32, 32, 3))], training=False)
    assert logits.shape == (3, 2, 2, 1)


def test_deterministic_mode_is_deterministic_and_training_mode_is_not():
    gen = build_generator(TINY)
    x = tf.random.uniform((2, 32, 32, 4), -1, 1, seed=2)
    np.testing.assert_array_equal(gen(x, training=False), gen(x, training=False))
    assert not np.array_equal(gen(x, training=True), gen(x, training=True))  # dropout


def _with_trained_statistics(gen):
    """Batch-norm statistics and affine parameters away from their initial identity values."""
    rng = np.random.default_rng(0)
    for v in gen.variables:
        name = v.path.rsplit("/", 1)[-1]
        if name in ("moving_variance", "gamma"):
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
        elif name in ("moving_mean", "beta"):
            v.assign(rng.normal(0, 0.3, v.shape).astype("float32"))
    return gen


@pytest.mark.heavy
def test_folding_batch_norm_keeps_the_deterministic_function():
    gen = _with_trained_statistics(build_generator(TrainConfig(image_size=64, width=8)))
    folded = fold_batch_norm(gen)
    assert not [l for l in folded.layers if isinstance(l, tf.keras.layers.BatchNormalization)]
    x = tf.random.uniform((2, 64, 64, 4), -1, 1, seed=3)
    np.testing.assert_allclose(folded(x), gen(x, training=False), atol=1e-5)


@pytest.mark.heavy
def test_folded_bfloat16_generator_stays_close():
    gen = _with_trained_statistics(build_generator(TrainConfig(image_size=64, width=8)))
    folded = fold_batch_norm(gen, "mixed_bfloat16")
    assert folded.get_layer("down3_conv").compute_dtype == "bfloat16"
    x = tf.random.uniform((2, 64, 64, 4), -1, 1, seed=3)
    y = folded(x)
    assert y.dtype == tf.float32
    np.testing.assert_allclose(y, gen(x, training=False), atol=0.05)


def _nyquist_share(image: np.ndarray) -> float:
    """How much of the central half of an image's variation is the checkerboard: the largest
    amplitude of the period-2 patterns ((-1)^(i+j), (-1)^i, (-1)^j) over its standard deviation."""
    h, w = image.shape[:2]
    center = image[h // 4:3 * h // 4, w // 4:3 * w // 4]
    i, j = np.mgrid[:center.shape[0], :center.shape[1]]
    amplitudes = [np.abs((center * sign[..., None]).mean((0, 1))).max()
                  for sign in ((-1.0) ** (i + j), (-1.0) ** i, (-1.0) ** j)]
    return max(amplitudes) / (center.std() + 1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_resize_upsampling_paints_a_flat_picture_without_the_checkerboard(seed):
    """A flat input (white paper, no hints): the paper's transposed convolutions answer with the
    checkerboard (their uneven kernel overlap), nearest-neighbour resizing then a convolution does
    not (Odena et al. 2016). Untrained weights show it, as the paper's networks start."""
    import keras

    from colorize.config import preset

    shares = {}
    for upsample in ("transposed", "resize"):
        keras.utils.set_random_seed(seed)
        cfg = preset("C", image_size=64, width=8, upsample=upsample, kernels="keras")
        flat = np.zeros((1, 64, 64, 9), np.float32)
        flat[..., 0] = 1.0  # paper, no hints
        shares[upsample] = _nyquist_share(build_generator(cfg)(flat, training=False).numpy()[0])
    assert shares["transposed"] > 0.5  # the pattern is most of what varies
    assert shares["resize"] < 0.01


def test_resize_upsampling_keeps_the_shapes_and_the_decoder_names():
    from colorize.config import preset

    cfg = preset("C", image_size=32, width=4)
    assert cfg.upsample == "resize"
    gen = build_generator(cfg)
    assert gen.output_shape == (None, 32, 32, 3) and gen.input_shape == (None, 32, 32, 9)
    names = {layer.name for layer in gen.layers}
    assert {"up1_resize", "up1_conv", "to_rgb"} <= names and "up1_deconv" not in names
    assert gen.get_layer("up1_conv").kernel_size == (3, 3)
    folded = fold_batch_norm(gen)  # batch norm folds into the 3x3 convolutions too
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 9)).astype(np.float32)
    np.testing.assert_allclose(folded(x).numpy(), gen(x, training=False).numpy(), atol=1e-4)


def test_folded_resize_decoder_upsamples_inside_its_convolutions():
    """Deterministic inference runs a stock "resize" decoder's outer levels' upsampling and 3x3
    convolution as one stock transposed convolution each (`colorize.upsampling`), the same
    function."""
    from colorize import upsampling
    from colorize.config import preset

    cfg = preset("C", image_size=128, width=4, kernels="keras")  # as use builds it
    gen = _with_trained_statistics(build_generator(cfg))
    assert upsampling.pairs(gen) == {"up6_resize": "up6_conv", "to_rgb_resize": "to_rgb"}
    folded = fold_batch_norm(gen)
    for name in ("up6_conv", "to_rgb"):  # inputs of 32x32 and 64x64
        layer = folded.get_layer(name)
        assert type(layer) is tf.keras.layers.Conv2DTranspose and layer.kernel.shape[:2] == (4, 4)
    assert type(folded.get_layer("up5_resize")) is tf.keras.layers.UpSampling2D  # 16x16: kept
    x = tf.random.uniform((2, 128, 128, 9), -1, 1, seed=3)
    np.testing.assert_allclose(folded(x), gen(x, training=False), atol=1e-5)


def test_only_a_convolution_with_one_upsampled_input_is_fused():
    """`upsampling.pairs` leaves a convolution shared by two upsamplings, or after a small one,
    as it is (a generator file may be any Keras model)."""
    import keras

    from colorize import upsampling

    x = keras.Input((32, 32, 3))
    shared = keras.layers.Conv2D(4, 3, padding="same")
    twice = [shared(keras.layers.UpSampling2D(2)(x)), shared(keras.layers.UpSampling2D(2)(x))]
    small = keras.layers.Conv2D(4, 3, padding="same")(
        keras.layers.UpSampling2D(2)(keras.layers.AveragePooling2D(2)(x)))  # a 16x16 input
    once = keras.layers.Conv2D(4, 3, padding="same", name="once")(
        keras.layers.UpSampling2D(2, name="up")(x))
    assert upsampling.pairs(keras.Model(x, [*twice, small, once])) == {"up": "once"}


def test_every_scale_generator_reads_the_pooled_input_at_each_level():
    """condition_scales "every": the input, average-pooled, joins each encoder level's input and
    each decoder level's output of its size; shapes and the folded inference stay the same."""
    from colorize.config import preset

    cfg = preset("C", image_size=32, width=4, condition_scales="every", kernels="keras")
    gen = build_generator(cfg)
    assert gen.input_shape == (None, 32, 32, 9) and gen.output_shape == (None, 32, 32, 3)
    # 32 -> 16 -> 8 -> 4 -> 2 -> 1: pooled inputs at 16, 8, 4, 2 for down2..down5 and up1..up4
    assert gen.get_layer("down2_conv").input.shape[-1] == 4 + 9
    assert gen.get_layer("down5_conv").input.shape[-1] == 4 * 8 + 9
    assert gen.get_layer("to_rgb").input.shape[-1] == 4 + 4 + 9  # up4, skip down1, the input
    for level, size in (("down2", 16), ("up1", 2), ("up4", 16)):
        joined = gen.get_layer(f"{level}_input").output.shape
        assert joined[1] == size
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 9)).astype(np.float32)
    np.testing.assert_allclose(fold_batch_norm(gen)(x).numpy(), gen(x, training=False).numpy(),
                               atol=1e-4)


def test_every_scale_levels_get_the_input_averaged_over_their_cells():
    """What joins a level is the input itself, each cell the mean of the pixels it covers: an
    8x8 stroke reaches the 2x2 level as a quarter-covered 16x16 cell, its color x mask and mask
    shrunk alike (so colors / mask still give the stroke's color)."""
    import keras

    from colorize.config import preset

    cfg = preset("C", image_size=32, width=4, condition_scales="every", kernels="keras")
    gen = build_generator(cfg)
    x = np.zeros((1, 32, 32, 9), np.float32)
    x[..., 0] = 1.0  # paper
    x[0, 4:12, 4:12, 1:5] = [1.0, -0.5, 0.25, 1.0]  # an 8x8 stroke, colors x mask and mask
    probe = keras.Model(gen.input, [gen.get_layer("down5_input").output,
                                    gen.get_layer("up4_input").output])
    deep, shallow = (t.numpy() for t in probe(x, training=False))
    expected_deep = x[0].reshape(2, 16, 2, 16, 9).mean((1, 3))  # 32 -> 2 by 16x16 cells
    np.testing.assert_allclose(deep[0, ..., -9:], expected_deep, atol=1e-6)
    assert deep[0, 0, 0, -9 + 4] == pytest.approx(64 / 256)  # the stroke covers a quarter of a cell
    np.testing.assert_allclose(shallow[0, ..., -9:], x[0].reshape(16, 2, 16, 2, 9).mean((1, 3)),
                               atol=1e-6)
    plain = build_generator(cfg.replace(condition_scales="input"))
    assert not any(layer.name.endswith("_input") for layer in plain.layers[1:])
    assert gen.count_params() > plain.count_params()


def test_condition_scales_resolve_per_experiment_and_old_runs_read_the_input_once():
    import json

    from colorize.config import preset

    assert preset("A").condition_scales == "input" and preset("B").condition_scales == "input"
    assert preset("C", condition_scales="every").condition_scales == "every"
    with pytest.raises(ValueError, match="condition_scales"):
        preset("C", condition_scales="sometimes")
    saved = json.loads(preset("C", condition_scales="every").to_json())
    del saved["condition_scales"]  # a config.json written before the field existed
    assert TrainConfig.from_json(json.dumps(saved)).condition_scales == "input"
