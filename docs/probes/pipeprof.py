"""Images/s of C's training pipeline with parts of its per-example work turned off, on the faces
records (docs/experiment-c.md "Round ten"). Usage: python pipeprof.py, in the folder holding faces256."""
import time, sys
from colorize.config import preset
from colorize.data import make_dataset
variants = {
    "default": {},
    "threshold only": dict(sketch_styles="threshold:1"),
    "no fill": dict(hint_fill=False),
    "random strokes only": dict(hint_region_share=0.0),
    "no jitter": dict(jitter=False),
}
for name, kw in variants.items():
    cfg = preset("C", batch_size=4, **kw)
    it = iter(make_dataset(cfg, "faces256", "train", training=True, repeat=True))
    for _ in range(20): next(it)
    t = time.perf_counter()
    for _ in range(100): next(it)
    print(f"{name:22s} {400 / (time.perf_counter() - t):7.1f} images/s", flush=True)
