"""Image quality metrics on [0, 1] images: L1, PSNR (data range 1.0) and SSIM (tf.image)."""

from __future__ import annotations

import tensorflow as tf

METRICS = ("l1", "psnr", "ssim")


def to_unit(images):
    """[-1, 1] model space -> [0, 1]."""
    return tf.clip_by_value((tf.cast(images, tf.float32) + 1.0) / 2.0, 0.0, 1.0)


def image_metrics(output, target):
    """Per-image L1, PSNR and SSIM of [0, 1] images (batch, H, W, 3); each value is (batch,)."""
    output = tf.cast(output, tf.float32)
    target = tf.cast(target, tf.float32)
    return {
        "l1": tf.reduce_mean(tf.abs(output - target), axis=[1, 2, 3]),
        "psnr": tf.image.psnr(output, target, max_val=1.0),
        "ssim": tf.image.ssim(output, target, max_val=1.0),
    }


class MeanMetrics:
    """Accumulates per-image metrics and reports their means (PSNR: mean of per-image dB values)."""

    def __init__(self):
        self._sums = {k: 0.0 for k in METRICS}
        self.count = 0

    def update(self, output, target) -> None:
        values = image_metrics(output, target)
        # An identical image has infinite PSNR; cap it at 100 dB so one image cannot poison the mean.
        values["psnr"] = tf.minimum(values["psnr"], 100.0)
        for k in METRICS:
            self._sums[k] += float(tf.reduce_sum(values[k]))
        self.count += int(tf.shape(output)[0])

    def result(self) -> dict:
        return {k: self._sums[k] / max(self.count, 1) for k in METRICS} | {"images": self.count}
