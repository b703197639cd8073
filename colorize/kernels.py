"""Faster kernels for the same pix2pix math: drop-in subclasses of the Keras layers and optimizer.

Each computes what its Keras parent computes (tests compare them) and differs only in which
TensorFlow kernels run during training. Profiling the train step on a 2-core AVX-512 BF16 CPU
(docs/performance.md) showed three costs that are not the convolutions themselves:
- Adam: Keras 3 updates each variable with about a dozen element-wise ops, each a pass over
  memory; `FusedAdam` runs TensorFlow's one-pass `ResourceApplyAdam` kernel.
- Batch norm: Keras 3 computes moments and the normalization with separate ops in float32,
  casting bfloat16 activations back and forth; `BatchNormalization` runs the fused kernel
  (`FusedBatchNormV3`, bfloat16 in and out, float32 statistics) in training.
- Weight gradients of convolutions with few output positions (the U-Net's inner levels): oneDNN's
  direct backward-weights kernel reaches 4-290 GFLOP/s there, while the same sum written as one
  matrix product over image patches runs at matmul speed. On CPUs `Conv2D` and
  `Conv2DTranspose` take that route where an image has at most `PATCH_GRAD_MAX_POSITIONS`
  output positions, and TensorFlow's own kernels elsewhere (and always on GPUs, where cuDNN
  picks its own algorithms).
Models saved for use (`stock`) use the plain Keras classes, so they load without this package.
"""

from __future__ import annotations

import functools
import logging

import keras
import tensorflow as tf
from keras import layers

from colorize import upsampling

# The Keras releases FusedAdam was tested with: it reads Adam's slot variables through private
# attributes (`_momentums`, `_velocities`, `_get_variable_index`), which a release may rename.
TESTED_KERAS = ((3, 15),)

log = logging.getLogger(__name__)

# Output positions per image (height * width) up to which a weight gradient is one patch matmul:
# 16x16. Measured per layer of the full-size models (`tools/benchmark.py kernels`, bfloat16 and
# float32, batch 4): the matmul wins by 1.2-7x at 8x8 and below, ties or wins by up to 1.6x at
# 16x16, and ties or loses from 31x31 up.
PATCH_GRAD_MAX_POSITIONS = 256


@functools.cache
def _on_gpu() -> bool:
    return bool(tf.config.list_physical_devices("GPU"))


def patch_weight_gradient(inputs, grad, kernel_size: int, stride: int, padding: str):
    """The weight gradient of conv2d(inputs, w) given grad = dL/d(output), as one matmul.

    dW[kh, kw, c, o] = sum over batch and output positions (i, j) of
    inputs[n, i*stride + kh, j*stride + kw, c] (zero-padded) * grad[n, i, j, o], that is
    patches(inputs)^T @ grad with patches laid out (kh, kw, c) like the kernel.
    (batch, H, W, C), (batch, H', W', O) -> (k, k, C, O)
    """
    k = kernel_size
    # The patches op pads "same" exactly as the convolution ops do (zeros, the odd one after).
    patches = tf.image.extract_patches(inputs, [1, k, k, 1], [1, stride, stride, 1],
                                       [1, 1, 1, 1], padding.upper())  # (batch, H', W', k*k*C)
    channels, outputs = inputs.shape[-1], grad.shape[-1]
    product = tf.matmul(tf.reshape(patches, [-1, k * k * channels]),
                        tf.reshape(grad, [-1, outputs]), transpose_a=True)  # (k*k*C, O)
    return tf.reshape(product, [k, k, channels, outputs])


def use_patch_gradient(layer, positions: int) -> bool:
    """Whether `layer`'s weight gradient over `positions` positions per image is a patch matmul."""
    return (positions <= PATCH_GRAD_MAX_POSITIONS and not _on_gpu()
            and layer.data_format == "channels_last" and tuple(layer.dilation_rate) == (1, 1)
            and layer.kernel_size[0] == layer.kernel_size[1]
            and layer.strides[0] == layer.strides[1] and getattr(layer, "groups", 1) == 1)


@keras.saving.register_keras_serializable(package="colorize")
class Conv2D(layers.Conv2D):
    """keras.layers.Conv2D; on CPUs the weight gradient of small outputs is one patch matmul."""

    def convolution_op(self, inputs, kernel):
        out_shape = self.compute_output_shape(inputs.shape)
        if None in out_shape[1:3] or not use_patch_gradient(self, out_shape[1] * out_shape[2]):
            return super().convolution_op(inputs, kernel)
        stride, padding = self.strides[0], self.padding
        strides, tf_padding = [1, stride, stride, 1], padding.upper()

        @tf.custom_gradient
        def conv(x, w):
            def grad(dy):  # as TensorFlow's Conv2D gradient, but for the weights
                dx = tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(x), filter=w,
                                                    out_backprop=dy, strides=strides,
                                                    padding=tf_padding)
                return dx, patch_weight_gradient(x, dy, self.kernel_size[0], stride, padding)
            return tf.nn.conv2d(x, w, strides, tf_padding), grad

        return conv(inputs, tf.convert_to_tensor(kernel))


@keras.saving.register_keras_serializable(package="colorize")
class Conv2DTranspose(layers.Conv2DTranspose):
    """keras.layers.Conv2DTranspose; on CPUs the weight gradient of small inputs is one matmul.

    A transposed convolution's weight gradient is that of the convolution from its output to its
    input, so its input positions decide.
    """

    def call(self, inputs):
        if (None in inputs.shape[1:3] or self.output_padding is not None
                or not use_patch_gradient(self, inputs.shape[1] * inputs.shape[2])):
            return super().call(inputs)
        stride, padding = self.strides[0], self.padding
        strides, tf_padding = [1, stride, stride, 1], padding.upper()
        out_shape = self.compute_output_shape(inputs.shape)  # (batch, H*s, W*s, filters)
        output_shape = tf.stack([tf.shape(inputs)[0], *out_shape[1:]])

        @tf.custom_gradient
        def conv_transpose(x, w):
            def grad(dy):  # as TensorFlow's Conv2DBackpropInput gradient, but for the weights
                dx = tf.nn.conv2d(dy, w, strides, tf_padding)
                return dx, patch_weight_gradient(dy, x, self.kernel_size[0], stride, padding)
            y = tf.nn.conv2d_transpose(x, w, output_shape, strides, tf_padding)
            return tf.ensure_shape(y, [None, *out_shape[1:]]), grad

        outputs = conv_transpose(inputs, tf.convert_to_tensor(self.kernel))
        if self.use_bias:
            outputs = outputs + self.bias
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


@keras.saving.register_keras_serializable(package="colorize")
class BatchNormalization(layers.BatchNormalization):
    """keras.layers.BatchNormalization; in training, one fused kernel in the input's precision.

    Same statistics as Keras: normalization by the biased batch variance, moving averages of the
    batch mean and biased variance. Synchronized (cross-replica) batch norm, masks and non-image
    inputs use the Keras path.
    """

    def call(self, inputs, training=None, mask=None):
        if (not (training and self.trainable) or self.synchronized or self.renorm
                or mask is not None or len(inputs.shape) != 4 or self.axis not in (-1, 3)
                or not (self.scale and self.center)):
            return super().call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, self.compute_dtype)
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            x, tf.cast(self.gamma, tf.float32), tf.cast(self.beta, tf.float32),
            epsilon=self.epsilon, data_format="NHWC", is_training=True)
        # The kernel reports the unbiased (Bessel-corrected) batch variance; Keras averages the
        # biased one. With one value per channel both are 0.
        count = tf.cast(tf.size(x) // tf.shape(x)[-1], tf.float32)
        variance = variance * (count - 1.0) / tf.maximum(count, 1.0)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return y


@keras.saving.register_keras_serializable(package="colorize")
class FusedAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam updating each variable with TensorFlow's fused ResourceApplyAdam.

    Same update: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
    w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps).
    """

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        var = variable.value if isinstance(variable, keras.Variable) else variable
        dtype = var.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=var.handle, m=self._momentums[index].value.handle,
            v=self._velocities[index].value.handle, beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step), lr=tf.cast(learning_rate, dtype), beta1=beta_1,
            beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype))


def adam_class(version: str = keras.__version__) -> type:
    """FusedAdam on a tested Keras release; elsewhere stock Adam (the same math), with a warning."""
    if tuple(int(v) for v in version.split(".")[:2]) in TESTED_KERAS:
        return FusedAdam
    log.warning("colorize.kernels: FusedAdam is untested with Keras %s (tested: %s); training "
                "with keras.optimizers.Adam instead", version,
                ", ".join(".".join(map(str, v)) for v in TESTED_KERAS))
    return keras.optimizers.Adam


STOCK_CLASSES = {Conv2D: layers.Conv2D, Conv2DTranspose: layers.Conv2DTranspose,
                 BatchNormalization: layers.BatchNormalization,
                 # a "resize" decoder's outer levels (`colorize.upsampling`): the same
                 # configs, and UpSampling2D's defaults are the 2x "nearest" they stand for
                 upsampling.UpSampledHere: layers.UpSampling2D,
                 upsampling.UpSampledConv2D: layers.Conv2D}


def stock_class(layer: layers.Layer) -> type:
    """The plain Keras class of a layer (itself for layers that are not from this module)."""
    return STOCK_CLASSES.get(type(layer), type(layer))


def stock(model: keras.Model) -> keras.Model:
    """A copy of `model` built from plain Keras layers, with the same weights, for saving."""
    if not any(type(layer) in STOCK_CLASSES for layer in model.layers):
        return model
    copy = keras.models.clone_model(
        model, clone_function=lambda layer: stock_class(layer).from_config(layer.get_config()))
    for layer in copy.layers:
        layer.set_weights(model.get_layer(layer.name).get_weights())
    return copy
