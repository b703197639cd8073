"""A nearest-neighbour 2x upsampling and the 3x3 convolution after it, as one transposed
convolution: the same function as keras.layers.UpSampling2D(2, "nearest") then
keras.layers.Conv2D(filters, 3, padding="same") (tests/test_kernels.py), in 16 instead of 36
multiply-adds per input pixel and output channel, without making the upsampled picture.

Along each axis the upsampled picture repeats every pixel, so the 3x3 window of output 2i covers
input rows i - 1 (tap 0) and i (taps 1 and 2), and that of output 2i + 1 rows i (taps 0 and 1)
and i + 1 (tap 2). A 4x4 stride-2 "same" transposed convolution puts its taps 0..3 on input rows
i + 1, i, i, i - 1 of outputs 2i + 1, 2i, 2i + 1, 2i: with tap p the sum of the 3x3 taps in row p
of TIE (along both axes), it computes both layers at once. Its kernel overlaps evenly, so it
makes no checkerboard: it is the resize-convolution (Odena et al. 2016), computed another way.

TensorFlow's transposed convolution on CPUs is slower than the plain pair on the U-Net's inner
levels (few positions, many channels) and several times faster on the outer ones, so a "resize"
decoder fuses the levels whose input has at least MIN_POSITIONS positions (`fuses`; measured per
level in docs/performance.md): training's generator (`models.build_generator`, fused kernel set)
builds them from the layers below, and deterministic inference (`models.fold_batch_norm`) turns
the stock pair into a stock Conv2DTranspose of the tied kernel (`pairs`, `tied_kernel`).
Saved models hold the stock pair (`kernels.stock`), whose weights are the same.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

TIE = ((0.0, 0.0, 1.0), (0.0, 1.0, 1.0), (1.0, 1.0, 0.0), (1.0, 0.0, 0.0))  # (4, 3)
# Input positions (height x width) from which a level is fused: 32x32. Per level of C's decoder
# on a 2-core AVX2 CPU, fused against the pair (docs/probes/uplevels.py): training (forward and
# gradients, batch 4) 1.4x slower at 8x8 inputs, 1.2x faster at 16x16, 2.9-20x faster from
# 32x32; inference (batch 1) 1.5x slower at 16x16, 1.6-12x faster from 32x32.
MIN_POSITIONS = 32 * 32


def fuses(input_shape) -> bool:
    """Whether a "resize" level whose input (before the upsampling) has `input_shape` (b, h, w, c)
    is computed as one transposed convolution: at least MIN_POSITIONS positions, sizes known."""
    height, width = input_shape[1:3]
    return height is not None and width is not None and height * width >= MIN_POSITIONS


def tied_kernel(kernel) -> tf.Tensor:
    """The 3x3 kernel (3, 3, in, out) of a convolution after a nearest 2x upsampling -> the
    `tf.nn.conv2d_transpose` filter (4, 4, out, in) that computes both, summed in float32."""
    tie = tf.constant(TIE, tf.float32)
    return tf.einsum("pd,qe,deio->pqoi", tie, tie, tf.cast(kernel, tf.float32))


@keras.saving.register_keras_serializable(package="colorize")
class UpSampledConv2D(layers.Conv2D):
    """keras.layers.UpSampling2D(2, "nearest") then this keras.layers.Conv2D (3x3, stride 1,
    "same"), in one layer whose input is the picture before the upsampling: (b, s, s, c) ->
    (b, 2s, 2s, filters), computed by `tf.nn.conv2d_transpose` of `tied_kernel`. Its weights
    are the Conv2D's (3x3 kernel, bias), so that training updates the recipe's own parameters."""

    def build(self, input_shape):
        super().build(_upsampled(input_shape))

    def compute_output_shape(self, input_shape):
        return super().compute_output_shape(_upsampled(input_shape))

    def call(self, inputs):
        kernel = tf.cast(tied_kernel(self.kernel), inputs.dtype)
        shape = tf.shape(inputs)
        output_shape = tf.stack([shape[0], 2 * shape[1], 2 * shape[2], self.filters])
        outputs = tf.nn.conv2d_transpose(inputs, kernel, output_shape, 2, "SAME")
        outputs = tf.ensure_shape(outputs, self.compute_output_shape(inputs.shape))
        if self.use_bias:
            outputs = outputs + tf.cast(self.bias, outputs.dtype)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


@keras.saving.register_keras_serializable(package="colorize")
class UpSampledHere(layers.Identity):
    """The identity, where keras.layers.UpSampling2D(2, "nearest") stands in the stock model,
    in a model whose next layer (`UpSampledConv2D`) upsamples: both models list the same
    operations, so their checkpoints are interchangeable."""


def _upsampled(shape):
    return (shape[0], *(None if n is None else 2 * n for n in shape[1:3]), shape[3])


def pairs(model: keras.Model) -> dict[str, str]:
    """The levels `fold_batch_norm` fuses: {upsampling layer name: convolution layer name} for
    each stock UpSampling2D(2, "nearest") that only feeds a 3x3 stride-1 "same" Conv2D and whose
    input `fuses` (and each pair of this module's layers, as a training generator has them)."""
    found = {}
    for layer in model.layers:
        if (not isinstance(layer, layers.Conv2D) or isinstance(layer, layers.Conv2DTranspose)
                or len(layer._inbound_nodes) != 1):  # (a layer called twice has no one input)
            continue
        source = layer.input._keras_history.operation
        if isinstance(layer, UpSampledConv2D) and isinstance(source, UpSampledHere):
            found[source.name] = layer.name
        elif (type(layer) is layers.Conv2D and tuple(layer.kernel_size) == (3, 3)
              and tuple(layer.strides) == (1, 1) and layer.padding == "same"
              and tuple(layer.dilation_rate) == (1, 1) and layer.groups == 1
              and layer.data_format == "channels_last"
              and type(source) is layers.UpSampling2D and tuple(source.size) == (2, 2)
              and source.interpolation == "nearest" and source.data_format == "channels_last"
              and len(source._outbound_nodes) == 1 and fuses(source.input.shape)):
            found[source.name] = layer.name
    return found

