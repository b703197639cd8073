"""C's input pipeline with OpenCV's thread pool on and off, in one process: the same dataset, the
setting toggled between chunks of 100 batches (the order alternating each round), so that the
machine's drift falls on both alike. Prints images/s and the process's CPU ms per image of each
chunk, then the medians (docs/performance.md, "OpenCV serial"). Usage, in the folder holding
faces256: python cvthreads.py"""
import os, statistics, time
import cv2
from colorize import runtime
from colorize.config import preset
from colorize.data import make_dataset

runtime.keep_freed_memory()
it = iter(make_dataset(preset("C", batch_size=4), "faces256", "train", training=True, repeat=True))
for _ in range(50):
    next(it)
runs, BATCHES = {0: [], 2: []}, 100
for r in range(8):
    for threads in ((0, 2) if r % 2 else (2, 0)):
        cv2.setNumThreads(threads)
        for _ in range(10):  # the batches prefetched under the other setting
            next(it)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(BATCHES):
            next(it)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        runs[threads].append((BATCHES * 4 / wall, cpu / BATCHES / 4 * 1000))
        print(r, f"threads={threads}", *(round(v, 2) for v in runs[threads][-1]), flush=True)
for threads, values in runs.items():
    print(f"median threads={threads}: {statistics.median(v for v, _ in values):.1f} images/s, "
          f"{statistics.median(c for _, c in values):.3f} CPU ms per image")
os._exit(0)
