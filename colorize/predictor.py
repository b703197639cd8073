"""The generator at test time, and held-out metrics: shared by training, evaluation and inference.

Imports nothing from training or building, so inference can run a generator on its own.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from colorize.metrics import MeanMetrics, to_unit


class Predictor:
    """The generator at test time, in the run's test mode, without side effects on the model.

    pix2pix mode runs the generator as in training (dropout on, batch statistics), as the paper did
    at test time; it would also move the batch-norm averages and the dropout seeds, so those are
    put back afterwards. deterministic mode uses the averages and no dropout.
    """

    def __init__(self, generator: keras.Model, test_mode: str):
        self.generator = generator
        self.training = test_mode == "pix2pix"
        self._call = tf.function(lambda x: generator(x, training=self.training), autograph=False)

    def __call__(self, inputs) -> tf.Tensor:
        if not self.training:
            return self._call(inputs)
        state = [v.numpy() for v in self.generator.non_trainable_variables]
        outputs = self._call(inputs)
        for v, value in zip(self.generator.non_trainable_variables, state):
            v.assign(value)
        return outputs


def evaluate(predictor: Predictor, dataset: tf.data.Dataset, max_images: int) -> dict:
    """Mean L1 / PSNR / SSIM (images in [0, 1]) of the predictor over up to `max_images` images."""
    meter = MeanMetrics()
    for inputs, target in dataset:
        if meter.count >= max_images:
            break
        keep = max_images - meter.count
        outputs = predictor(inputs)[:keep]
        meter.update(to_unit(outputs), to_unit(target[:keep]))
    return meter.result()
