"""The held-out examples a run shows and scores at the end of every epoch: the sample grid's rows
and the held-out L1 / PSNR / SSIM, of the generator in the run's test mode."""

from __future__ import annotations

import keras
import numpy as np

from colorize import data, samples
from colorize.config import TrainConfig
from colorize.predictor import Predictor, evaluate


class HeldOut:
    """The `split` (the test split, or the training split of a dataset without one) of checked
    `shards`, and the generator at test time."""

    def __init__(self, cfg: TrainConfig, split: str, shards: list[str], generator: keras.Model):
        self.split, self.cfg = split, cfg
        self.predictor = Predictor(generator, cfg.test_mode)
        self.dataset = data.make_dataset(cfg, cfg.data, split, training=False, shards=shards)
        self.sample_batch = next(iter(data.make_dataset(cfg, cfg.data, split, training=False,
                                                        batch_size=cfg.num_samples, shards=shards)))

    def score(self) -> tuple[np.ndarray, dict]:
        """The sample grid (uint8 RGB) and the metrics over up to cfg.eval_images images ({} for 0)."""
        inputs, target = self.sample_batch
        grid = samples.grid(self.cfg.conditioning, inputs, self.predictor(inputs), target)
        metrics = (evaluate(self.predictor, self.dataset, self.cfg.eval_images)
                   if self.cfg.eval_images > 0 else {})
        return grid, metrics
