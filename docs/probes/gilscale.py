"""C's numpy steps replayed by T threads at once, each thread the whole list: examples/s in all,
so that one thread, two threads and two processes (two copies of `python gilscale.py 1` started
together) can be compared (docs/performance.md, "The benchmark consumes as training does").
Usage, in the folder holding faces256: python gilscale.py [T=2] [ROUNDS=3]; with ONLY=NAME only
that numpy step's calls (`_fast`: the styles, `_numpy_strokes`: strokes, fill and assembly), with
STUB=strokes the region strokes or STUB=assembly the fill and assembly replaced by zeros."""
import os, sys, threading, time
import numpy as np
from colorize import runtime
from colorize.experiments import strokes  # (its stand-ins are looked up per call)
from npstep import record_steps  # (this folder)

runtime.tune_input_pipeline()
THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
N = 300
calls, _ = record_steps(N)
if os.environ.get("ONLY"):
    calls[:] = [c for c in calls if c[0].__qualname__.split(".")[0] == os.environ["ONLY"]]
if os.environ.get("STUB") == "strokes":
    strokes.draw_region_strokes = lambda color, *a, **k: np.zeros((*color.shape[:2], 4), np.float32)
elif os.environ.get("STUB") == "assembly":
    strokes.generator_input_np = lambda hints, *a, **k: np.zeros((*hints.shape[:2], 9), np.float32)


def replay():
    for func, args in calls:
        func(*args)


for _ in range(ROUNDS):
    threads = [threading.Thread(target=replay) for _ in range(THREADS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"{THREADS} thread(s): {THREADS * N / (time.perf_counter() - start):.1f} examples/s",
          flush=True)
os._exit(0)
