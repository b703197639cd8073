"""Milliseconds per experiment-C train step (256 px, batch 4, C's defaults: the "resize" decoder,
nine input channels) and per forward pass of the folded C generator that use runs (256 px, batch
1 and 8; any sketch is brought to the model's size), of
the tree on sys.path, so that two trees can be run in turn (docs/performance.md, "C's resize
decoder as transposed convolutions"). Usage: python cstep.py [STEPS]"""
import sys
import time

import tensorflow as tf

import colorize
from colorize.config import preset
from colorize.models import build_generator, fold_batch_norm
from colorize.pix2pix import Pix2Pix

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
cfg = preset("C", batch_size=4)
model = Pix2Pix(cfg)
batch = (tf.random.uniform((4, 256, 256, 9), -1, 1, seed=1),
         tf.random.uniform((4, 256, 256, 3), -1, 1, seed=2))
float(model.train_step(batch)["gen_total_loss"])  # traced
start = time.perf_counter()
for _ in range(steps):
    float(model.train_step(batch)["gen_total_loss"])
print(f"{colorize.__file__}: train step {(time.perf_counter() - start) / steps * 1e3:.0f} ms "
      f"({cfg.upsample}, {model.precision})", flush=True)
folded = tf.function(fold_batch_norm(build_generator(cfg.replace(kernels="keras"))))
for images in (1, 8):
    x = tf.random.uniform((images, 256, 256, 9), -1, 1, seed=3)
    folded(x).numpy()
    start = time.perf_counter()
    for _ in range(5):
        folded(x).numpy()
    print(f"{colorize.__file__}: folded generator, batch {images}: "
          f"{(time.perf_counter() - start) / 5 * 1e3:.0f} ms", flush=True)
