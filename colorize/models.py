"""pix2pix networks (Isola et al. 2017) in the Keras functional API.

Generator: U-Net, encoder C64-C128-C256-C512-C512-C512-C512-C512, decoder
CD512-CD512-CD512-C512-C256-C128-C64 with skip connections, tanh output. Discriminator: the 70x70
PatchGAN, C64-C128-C256-C512 then a 1-channel convolution, one logit per overlapping 70x70 patch.
Layer arrangement as in the TensorFlow pix2pix tutorial (no convolution bias where batch norm
follows, and none on the first, norm-free convolutions); hyper-parameters as in the reference.
Shape comments are for the paper's setting: 256x256 input, width 64, experiment A or B (4 input
channels: the sketch and a cue; `cfg.conditioning` says how many). Convolutions and batch norm are
`colorize.kernels`' drop-in subclasses of the Keras layers (same math, faster training kernels)
unless `cfg.kernels` is "keras". With `cfg.condition_scales` "every" (not the paper's), the
input average-pooled to each level's size also joins every encoder and decoder level. Layers
compute in the `dtype_policy` given to the builders ("float32", "mixed_bfloat16", ...); outputs
(tanh, logits) are always float32.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers

from colorize import upsampling
from colorize.config import TrainConfig

COLOR_CHANNELS = 3


def _init(cfg: TrainConfig):
    return keras.initializers.RandomNormal(mean=0.0, stddev=cfg.init_stddev)


def _layers(cfg: TrainConfig):
    """Where the convolution and batch-norm classes come from: colorize.kernels or keras.layers.

    Imported only when asked for, so inference (which builds plain Keras layers) never loads it.
    """
    if cfg.kernels == "fused":
        from colorize import kernels

        return kernels
    return layers


def keras_class(layer: layers.Layer) -> type:
    """The plain Keras class a layer is (or subclasses, as colorize.kernels' layers do)."""
    return next(c for c in type(layer).__mro__ if c.__module__.startswith("keras."))


def _batch_norm(cfg: TrainConfig, name: str, dtype: str):
    return _layers(cfg).BatchNormalization(momentum=cfg.bn_momentum, epsilon=cfg.bn_epsilon,
                                           synchronized=cfg.sync_batch_norm, name=name,
                                           dtype=dtype)


def _down(x, filters: int, cfg: TrainConfig, name: str, dtype: str, batch_norm: bool = True,
          strides: int = 2):
    """Ck: 4x4 convolution, batch norm, LeakyReLU(0.2)."""
    padding = "same" if strides == 2 else "valid"
    x = _layers(cfg).Conv2D(filters, 4, strides=strides, padding=padding,
                            kernel_initializer=_init(cfg), use_bias=False, name=f"{name}_conv",
                            dtype=dtype)(x)
    if batch_norm:
        x = _batch_norm(cfg, f"{name}_bn", dtype)(x)
    return layers.LeakyReLU(negative_slope=cfg.leaky_slope, name=f"{name}_lrelu", dtype=dtype)(x)


def _upsample(x, filters: int, cfg: TrainConfig, name: str, dtype: str, use_bias: bool,
              conv_name: str | None = None):
    """(b, s, s, c) -> (b, 2s, 2s, filters): the paper's 4x4 stride-2 transposed convolution, or
    with cfg.upsample "resize" a nearest-neighbour 2x resize then a 3x3 convolution, which cannot
    make the transposed convolution's checkerboard (its uneven kernel overlap; Odena et al.
    2016)."""
    if cfg.upsample == "resize":
        conv = dict(filters=filters, kernel_size=3, padding="same", kernel_initializer=_init(cfg),
                    use_bias=use_bias, name=conv_name or f"{name}_conv", dtype=dtype)
        if cfg.kernels == "fused" and upsampling.fuses(x.shape):  # the same math, in one layer
            x = upsampling.UpSampledHere(name=f"{name}_resize", dtype=dtype)(x)  # (b, s, s, c)
            return upsampling.UpSampledConv2D(**conv)(x)  # (b, 2s, 2s, filters)
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_resize", dtype=dtype)(x)
        return _layers(cfg).Conv2D(**conv)(x)
    return _layers(cfg).Conv2DTranspose(filters, 4, strides=2, padding="same",
                                        kernel_initializer=_init(cfg), use_bias=use_bias,
                                        name=conv_name or f"{name}_deconv", dtype=dtype)(x)


def _up(x, filters: int, cfg: TrainConfig, name: str, dtype: str, dropout: bool):
    """Ck / CDk: 2x upsampling (`_upsample`), batch norm, dropout (CD only), ReLU."""
    x = _upsample(x, filters, cfg, name, dtype, use_bias=False)
    x = _batch_norm(cfg, f"{name}_bn", dtype)(x)
    if dropout:
        x = layers.Dropout(cfg.dropout, name=f"{name}_dropout", dtype=dtype)(x)
    return layers.ReLU(name=f"{name}_relu", dtype=dtype)(x)


def encoder_filters(image_size: int, width: int) -> list[int]:
    """Filters per U-Net level: width * 2^i capped at 8 * width, one level per halving to 1x1."""
    return [width * min(2 ** i, 8) for i in range(int(math.log2(image_size)))]


def _condition_input(cfg: TrainConfig) -> keras.KerasTensor:
    """The generator input: the sketch and the experiment's condition channels, (b, S, S, C)."""
    cond = cfg.conditioning
    return keras.Input((cfg.image_size, cfg.image_size, cond.input_channels), name=cond.input_name)


def _pyramid(inputs, cfg: TrainConfig, dtype: str) -> dict:
    """The generator input average-pooled by 2, 4, ... down to 2x2: {size: (b, size, size, C)}.

    Pooling keeps what the condition means: a stroke's colors x mask and its mask shrink to the
    share of each cell it covers, so a few painted pixels still reach the deepest levels, where
    one kernel sees the whole picture (measured in docs/experiment-c.md, "Round seven")."""
    pooled, x, size = {}, inputs, cfg.image_size
    while size > 2:
        size //= 2
        x = layers.AveragePooling2D(2, name=f"input_pool{size}", dtype=dtype)(x)
        pooled[size] = x
    return pooled


def _with_input(x, pooled: dict, name: str, dtype: str):
    """x (b, s, s, c) with the pooled input of its size concatenated, where `pooled` has it (the
    first layer has the input itself; the 1x1 bottleneck has none)."""
    if x.shape[1] not in pooled:
        return x
    return layers.Concatenate(name=f"{name}_input", dtype=dtype)([x, pooled[x.shape[1]]])


def build_generator(cfg: TrainConfig, dtype_policy: str = "float32") -> keras.Model:
    """The U-Net generator: (batch, S, S, C) sketch+condition in [-1, 1] -> (batch, S, S, 3)."""
    dtype = dtype_policy
    inputs = _condition_input(cfg)  # (b, 256, 256, 4)
    filters = encoder_filters(cfg.image_size, cfg.width)  # [64, 128, 256, 512, 512, 512, 512, 512]

    # with condition_scales "every", the input average-pooled to each level's size: {size: tensor}
    pooled = _pyramid(inputs, cfg, dtype) if cfg.condition_scales == "every" else {}

    x, skips = inputs, []
    for i, f in enumerate(filters):
        # (b, 128, 128, 64) -> (b, 64, 64, 128) -> ... -> (b, 1, 1, 512)
        x = _with_input(x, pooled, f"down{i + 1}", dtype)  # (b, s, s, c) -> (b, s, s, c+C)
        x = _down(x, f, cfg, name=f"down{i + 1}", dtype=dtype, batch_norm=i > 0)
        skips.append(x)

    for i, (f, skip) in enumerate(zip(reversed(filters[:-1]), reversed(skips[:-1]))):
        # (b, 2, 2, 512+512) -> (b, 4, 4, 512+512) -> ... -> (b, 128, 128, 64+64)
        x = _up(x, f, cfg, name=f"up{i + 1}", dtype=dtype, dropout=i < 3)
        x = layers.Concatenate(name=f"skip{i + 1}", dtype=dtype)([x, skip])
        x = _with_input(x, pooled, f"up{i + 1}", dtype)  # (b, s, s, c) -> (b, s, s, c+C)

    x = _upsample(x, COLOR_CHANNELS, cfg, "to_rgb", dtype, use_bias=True,
                  conv_name="to_rgb")  # (b, 256, 256, 3)
    # tanh in float32 so mixed-precision outputs keep their full range
    outputs = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, outputs, name="generator")


def build_discriminator(cfg: TrainConfig, dtype_policy: str = "float32") -> keras.Model:
    """The 70x70 PatchGAN: (generator input, color image) -> (batch, 30, 30, 1) logits for 256x256."""
    dtype, size, w = dtype_policy, cfg.image_size, cfg.width
    condition = _condition_input(cfg)  # (b, 256, 256, 4)
    color = keras.Input((size, size, COLOR_CHANNELS), name="color")  # (b, 256, 256, 3)
    x = layers.Concatenate(name="pair", dtype=dtype)([condition, color])  # (b, 256, 256, 7)
    x = _down(x, w, cfg, name="d1", dtype=dtype, batch_norm=False)  # (b, 128, 128, 64)
    x = _down(x, 2 * w, cfg, name="d2", dtype=dtype)  # (b, 64, 64, 128)
    x = _down(x, 4 * w, cfg, name="d3", dtype=dtype)  # (b, 32, 32, 256)
    x = layers.ZeroPadding2D(name="pad1", dtype=dtype)(x)  # (b, 34, 34, 256)
    x = _down(x, 8 * w, cfg, name="d4", dtype=dtype, strides=1)  # (b, 31, 31, 512)
    x = layers.ZeroPadding2D(name="pad2", dtype=dtype)(x)  # (b, 33, 33, 512)
    x = _layers(cfg).Conv2D(1, 4, strides=1, kernel_initializer=_init(cfg), name="patch_logits",
                            dtype=dtype)(x)
    logits = layers.Activation("linear", dtype="float32", name="logits")(x)  # (b, 30, 30, 1)
    return keras.Model([condition, color], logits, name="discriminator")


class _Passthrough(layers.Layer):
    """Stands in for a folded batch norm, an inference-time dropout or an upsampling that the next
    layer does."""

    def call(self, inputs, training=None, mask=None):
        return inputs


def fold_batch_norm(generator: keras.Model, dtype_policy: str = "float32") -> keras.Model:
    """The generator for deterministic inference, with each batch norm folded into its convolution.

    y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta is a convolution with its kernel scaled
    by s = gamma / sqrt(var + eps) per output channel and bias beta - s * mean: the same function
    as `generator(x, training=False)` in one op instead of two. Dropout is the identity there.
    A "resize" decoder's outer levels (`colorize.upsampling`) become one transposed convolution
    each, of the tied kernel (the same function, 2.25x fewer multiply-adds), their upsamplings
    the identity. Layers compute in `dtype_policy` (e.g. "mixed_bfloat16"); the tanh output
    stays float32.
    """
    names = {layer.name for layer in generator.layers}
    fused = upsampling.pairs(generator)  # {upsampling: the convolution that now does it}
    transposed = set(fused.values())

    def bn_of(layer) -> str | None:
        name = layer.name.rsplit("_", 1)[0] + "_bn"
        is_conv = isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose))
        return name if is_conv and name in names else None

    def clone(layer):
        if isinstance(layer, (layers.BatchNormalization, layers.Dropout)) or layer.name in fused:
            return _Passthrough(name=layer.name)
        config = layer.get_config()
        if layer.dtype_policy.name == "float32" and layer.name != "tanh":
            config["dtype"] = dtype_policy
        if bn_of(layer):
            config["use_bias"] = True
        if layer.name in transposed:  # upsamples by itself
            return layers.Conv2DTranspose(config["filters"], 4, strides=2, padding="same",
                                          activation=config["activation"],
                                          use_bias=config["use_bias"], name=config["name"],
                                          dtype=config["dtype"])
        return keras_class(layer).from_config(config)

    folded = keras.models.clone_model(generator, clone_function=clone)
    for layer in folded.layers:
        source = generator.get_layer(layer.name)
        if not layer.weights:
            continue
        weights = source.get_weights()
        if bn_of(layer):
            bn = generator.get_layer(bn_of(layer))
            gamma, beta, mean, var = (np.asarray(w, np.float64) for w in bn.get_weights())
            scale = gamma / np.sqrt(var + bn.epsilon)
            # Conv2D kernels are (k, k, in, out), Conv2DTranspose kernels (4, 4, out, in).
            out_axis = 2 if isinstance(source, layers.Conv2DTranspose) else 3
            shape = [1, 1, 1, 1]
            shape[out_axis] = -1
            weights = [weights[0] * scale.reshape(shape), beta - scale * mean]
        if layer.name in transposed:
            weights[0] = upsampling.tied_kernel(weights[0]).numpy()
        layer.set_weights([np.asarray(w, np.float32) for w in weights])
    return folded
