"""What the toggling probes share (cvthreads.py, regiontoggle.py): C's training pipeline on the
faces' records, with two or more versions of something swapped between chunks of 100 batches (the
order turning each round), so that the machine's drift falls on every version alike. Prints
images/s and the process's CPU ms per image of each chunk, then each version's medians."""
import os, statistics, time
from colorize import runtime
from colorize.config import preset
from colorize.data import make_dataset


def toggle(versions: dict, rounds: int = 8, batches: int = 100) -> None:
    """`versions`: name -> a function that puts that version in place, the process set up as
    training's (`runtime.tune_input_pipeline`). Exits the process after (tf.data's threads would
    keep it waiting)."""
    runtime.tune_input_pipeline()
    it = iter(make_dataset(preset("C", batch_size=4), "faces256", "train", training=True,
                           repeat=True))
    for _ in range(50):
        next(it)
    runs, names = {name: [] for name in versions}, list(versions)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            versions[name]()
            for _ in range(10):  # the batches prefetched under the version before
                next(it)
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(batches):
                next(it)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            runs[name].append((batches * 4 / wall, cpu / batches / 4 * 1000))
            print(r, name, *(round(v, 2) for v in runs[name][-1]), flush=True)
    for name, values in runs.items():
        print(f"median {name}: {statistics.median(v for v, _ in values):.1f} images/s, "
              f"{statistics.median(c for _, c in values):.3f} CPU ms per image")
    os._exit(0)
