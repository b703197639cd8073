"""Per level of the full-size experiment-C decoder, ms of the stock pair (UpSampling2D then a 3x3
Conv2D) against the fused layer (`colorize.upsampling.UpSampledConv2D`): `train`, forward and
both gradients at batch 4 (the pair's convolution as training builds it, `colorize.kernels`);
`infer`, the forward pass at batch 1 with the tied kernel ready, as the folded generator runs it
(docs/performance.md, "C's resize decoder as transposed convolutions"). float32.
Usage: python uplevels.py train|infer"""
import sys
import time

import keras
import tensorflow as tf

from colorize import kernels, upsampling
from colorize.config import preset
from colorize.models import build_generator


def ms(fn, *args, n=3):
    [v.numpy() for v in tf.nest.flatten(fn(*args))]  # traced
    start = time.perf_counter()
    for _ in range(n):
        [v.numpy() for v in tf.nest.flatten(fn(*args))]
    return (time.perf_counter() - start) / n * 1e3


def gradients(layer, before=lambda x: x):
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(before(x))
            loss = tf.reduce_sum(y * y)
        return tape.gradient(loss, [x, layer.kernel])
    return step


generator = build_generator(preset("C", kernels="keras"))
for layer in generator.layers:
    if type(layer) is not keras.layers.Conv2D or layer.kernel_size != (3, 3):
        continue
    size, cin, cout = layer.input.shape[1] // 2, layer.input.shape[3], layer.filters
    batch = 4 if sys.argv[1] == "train" else 1
    x = tf.random.normal([batch, size, size, cin])
    if sys.argv[1] == "train":
        pair = kernels.Conv2D(cout, 3, padding="same", use_bias=False)
        fused = upsampling.UpSampledConv2D(cout, 3, padding="same", use_bias=False)
        pair.build((batch, 2 * size, 2 * size, cin))
        fused.build(x.shape)
        upsample = keras.layers.UpSampling2D(2)
        times = ms(gradients(pair, upsample), x), ms(gradients(fused), x)
    else:
        kernel = tf.random.normal([3, 3, cin, cout]) * 0.02
        tied = upsampling.tied_kernel(kernel)
        upsample = keras.layers.UpSampling2D(2)
        pair = tf.function(lambda x, k: tf.nn.conv2d(upsample(x), k, 1, "SAME"))
        fused = tf.function(lambda x, w: tf.nn.conv2d_transpose(
            x, w, [1, 2 * size, 2 * size, cout], 2, "SAME"))
        times = ms(pair, x, kernel), ms(fused, x, tied)
    print(f"{sys.argv[1]} {layer.name} {size}->{2 * size}, {cin}->{cout}: pair {times[0]:.1f} ms, "
          f"fused {times[1]:.1f} ms", flush=True)
