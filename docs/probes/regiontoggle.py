"""C's input pipeline with the region strokes of this tree and of another (a git worktree), in one
process: the same dataset, `draw_region_strokes` swapped between chunks of 100 batches (the order
alternating each round), so that the machine's drift falls on both alike, as cvthreads.py toggles
OpenCV's threads. Prints images/s and the process's CPU ms per image of each chunk, then the
medians (docs/performance.md, "The region strokes all at once"). Usage, in the folder holding
faces256: python regiontoggle.py OTHER_TREE (its colorize/experiments/strokes.py is loaded beside
this tree's package)."""
import importlib.util, os, statistics, sys, time
from colorize import runtime
from colorize.config import preset
from colorize.data import make_dataset
from colorize.experiments import strokes

spec = importlib.util.spec_from_file_location(
    "other_strokes", os.path.join(sys.argv[1], "colorize/experiments/strokes.py"))
other = importlib.util.module_from_spec(spec)
sys.modules["other_strokes"] = other  # (its dataclasses look their module up)
spec.loader.exec_module(other)
versions = {"this": strokes.draw_region_strokes, "other": other.draw_region_strokes}

runtime.tune_input_pipeline()
it = iter(make_dataset(preset("C", batch_size=4), "faces256", "train", training=True, repeat=True))
for _ in range(50):
    next(it)
runs, BATCHES = {name: [] for name in versions}, 100
for r in range(8):
    for name in (("this", "other") if r % 2 else ("other", "this")):
        strokes.draw_region_strokes = versions[name]  # (looked up per call by the numpy step)
        for _ in range(10):  # the batches prefetched under the other version
            next(it)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(BATCHES):
            next(it)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        runs[name].append((BATCHES * 4 / wall, cpu / BATCHES / 4 * 1000))
        print(r, name, *(round(v, 2) for v in runs[name][-1]), flush=True)
for name, values in runs.items():
    print(f"median {name}: {statistics.median(v for v, _ in values):.1f} images/s, "
          f"{statistics.median(c for _, c in values):.3f} CPU ms per image")
os._exit(0)
