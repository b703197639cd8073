"""CPU milliseconds per example of the map function inside a one-thread tf.data, by variant, with the
numpy steps timed apart (docs/performance.md, "The strokes' numpy step"). Usage: python stepcpu.py
[VARIANT ...], in the folder holding faces256."""
import time, sys, collections, os
import tensorflow as tf
from colorize.config import preset
from colorize import data, records, regions, sketch_styles, runtime
runtime.tune_input_pipeline()  # as the Trainer does: malloc's blocks kept, OpenCV serial
from colorize.experiments import strokes
T = collections.Counter()
def timed(mod, name):
    f = getattr(mod, name)
    def g(*a, **k):
        t = time.thread_time(); r = f(*a, **k); T[name] += time.thread_time() - t; return r
    setattr(mod, name, g)
for mod, name in [(strokes, "draw_region_strokes"), (strokes, "_draw_strokes"), (regions, "fill_np"),
                  (sketch_styles, "_draw_np"), (strokes, "find_regions"),
                  (strokes, "generator_input_np")]:  # (the last includes fill_np)
    timed(mod, name)
N = int(os.environ.get("N", 400))
recs = tf.data.TFRecordDataset(records.shard_paths("faces256", "train")).take(64).cache()
def cost(exp, **kw):
    cfg = preset(exp, batch_size=4, **kw)
    seeds = tf.data.Dataset.random(seed=5).batch(4)
    ds = tf.data.Dataset.zip((recs.repeat(), seeds)).map(data._example_fn(cfg, jitter=True, keep_cue=False))
    o = tf.data.Options(); o.threading.private_threadpool_size = 1; o.threading.max_intra_op_parallelism = 1
    o.autotune.enabled = False
    ds = ds.with_options(o)
    it = iter(ds)
    for _ in range(64): next(it)
    T.clear()
    t = time.process_time()
    for _ in range(N): next(it)
    return (time.process_time() - t) / N * 1000
V = {
    "A": ("A", {}),
    "C thr, none, no fill": ("C", dict(sketch_styles="threshold:1", hint_free_share=1.0, hint_fill=False)),
    "C thr, none": ("C", dict(sketch_styles="threshold:1", hint_free_share=1.0)),
    "C mix, none": ("C", dict(hint_free_share=1.0)),
    "C mix, random": ("C", dict(hint_region_share=0.0)),
    "C thr default": ("C", dict(sketch_styles="threshold:1")),
    "C default": ("C", {}),
}
for name in (sys.argv[1:] or V):
    total = cost(V[name][0], **V[name][1])
    print(f"{name:26s} {total:6.2f} ms  " + "  ".join(f"{k} {v / N * 1000:.2f}" for k, v in T.items()), flush=True)
os._exit(0)
