"""The local runner: worker processes on this machine, the parent writing the shards.

Workers run `process.process_file` with OpenCV/Pillow only; the parent alone imports TensorFlow,
to write the records. Workers come from a "forkserver" (or "spawn") context, so they never
inherit a parent's TensorFlow state, and an ordered `map` makes the output identical for any
number of workers. The pool is a `ProcessPoolExecutor` rather than a `multiprocessing.Pool`: when
a worker dies (killed for memory, a crashing decoder) the executor fails the build with an error
where the Pool would wait forever for the lost results.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import multiprocessing
import os
import signal
import sys
import time
from typing import Callable, Iterable, Iterator

import cv2

from colorize import records
from colorize.build import output
from colorize.build.identity import Part, split_of
from colorize.build.process import (Outcome, example_of, find_images, process_file, settle,
                                    usable_cores)
from colorize.errors import ColorizeError
from colorize.recipe import BuildParams


def _init_worker():
    cv2.setNumThreads(1)  # one process per core already
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


@contextlib.contextmanager
def _processed(files: list[tuple[str, str]], work: Callable[[tuple[str, str]], Outcome],
               workers: int) -> Iterator[Iterator[Outcome]]:
    """Outcomes of `work` over `files`, in input order, from `workers` processes (1: in-process)."""
    if workers == 1:
        yield map(work, files)
        return
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["colorize.build.process"])  # workers fork with imports done
    chunksize = max(1, min(32, len(files) // (8 * workers)))
    pool = concurrent.futures.ProcessPoolExecutor(workers, context, initializer=_init_worker)
    try:
        yield pool.map(work, files, chunksize=chunksize)
    except concurrent.futures.process.BrokenProcessPool as err:
        raise ColorizeError("a worker process died (out of memory, or a crash while decoding); "
                            "try fewer --workers", reason="worker_died") from err
    finally:
        pool.shutdown(cancel_futures=True)  # on error, skip the files not yet started


class ShardWriter:
    """TFRecord shards of at most `shard_size` examples per split, written under temporary names."""

    def __init__(self, tmp_dir: str, shard_size: int):
        import tensorflow as tf  # the parent process only

        self._tf = tf
        self.tmp_dir, self.shard_size = tmp_dir, shard_size
        self.counts = {split: 0 for split in records.SPLITS}
        self._writer = {}

    def _tmp_path(self, split: str, index: int) -> str:
        return os.path.join(self.tmp_dir, f"{split}-{index:05d}")

    def write(self, split: str, example: bytes):
        index, offset = divmod(self.counts[split], self.shard_size)
        if offset == 0:
            self._close(split)
            self._writer[split] = self._tf.io.TFRecordWriter(self._tmp_path(split, index))
        self._writer[split].write(example)
        self.counts[split] += 1

    def _close(self, split: str):
        if split in self._writer:
            self._writer.pop(split).close()

    def finish(self, out: str, part: Part) -> dict[str, list[str]]:
        """Close every shard and move it to its final name in `out`; the names per split."""
        names = {}
        for split in records.SPLITS:
            self._close(split)
            n = -(-self.counts[split] // self.shard_size)
            names[split] = [records.shard_name(part.shard_prefix(split), i, n) for i in range(n)]
            for i, name in enumerate(names[split]):
                os.replace(self._tmp_path(split, i), os.path.join(out, name))
        return names


class Progress:
    """Progress on stderr: images done, images/s and ETA; one line redrawn on a terminal (twice a
    second), else a line every 10 seconds, so that logs stay readable."""

    def __init__(self, total: int, enabled: bool = True):
        self.total, self.enabled, self.done = total, enabled, 0
        self.start = self._shown = time.monotonic()
        self.tty = sys.stderr.isatty()

    def update(self, n: int = 1):
        self.done += n
        now = time.monotonic()
        finished = self.done == self.total
        if self.enabled and (now - self._shown >= (0.5 if self.tty else 10) or finished):
            self._shown = now
            rate = self.done / max(now - self.start, 1e-9)
            eta = int((self.total - self.done) / rate)
            line = (f"{self.done}/{self.total} images  {rate:.1f} images/s  "
                    f"ETA {eta // 60}:{eta % 60:02d}")
            if self.tty:
                print(f"\r{line}", end="\n" if finished else "", file=sys.stderr, flush=True)
            else:
                print(line, file=sys.stderr, flush=True)


def build_dataset(inputs: Iterable[str], out: str, params: BuildParams = BuildParams(), *,
                  workers: int | None = None, overwrite: bool = False, part: Part = Part(),
                  progress: bool = True) -> dict:
    """Build the triplet records of every image under `inputs` into `out`; returns the manifest.

    The output is the same for any `workers` (default: all usable cores). Nothing in `out` looks
    complete before the build is: shards are renamed into place and `manifest.json` written last.
    """
    inputs = list(inputs)
    workers = usable_cores() if workers is None else workers
    if workers < 1:
        raise ColorizeError("workers must be at least 1", reason="bad_value")
    files = find_images(inputs)
    with output.staged_output(out, overwrite) as staging:
        bar = Progress(len(files), progress)
        work = functools.partial(process_file, params=params, part=part)
        with _processed(files, work, workers) as outcomes:  # workers start before TF is imported
            writer = ShardWriter(staging, params.shard_size)
            rejected, histogram, n_files = _consume(outcomes, writer, params, bar)
        shards = writer.finish(staging, part)
        manifest = output.make_manifest(inputs, params, part, writer.counts, rejected, histogram,
                                        n_files, shards)
        output.write_manifest(staging, manifest, output.rejected_jsonl(rejected))
    return manifest


def _consume(outcomes: Iterable[Outcome], writer: ShardWriter, params: BuildParams,
             progress: Progress) -> tuple[list[dict], list[int], int]:
    """Write accepted outcomes; return rejections, complexity histogram and files in the part."""
    rejected, complexities, first_seen, n_files = [], [], {}, 0
    for outcome in outcomes:
        progress.update()
        if outcome.reason == "other_part":
            continue
        n_files += 1
        entry = settle(outcome, first_seen)
        if entry:
            rejected.append(entry)
            continue
        writer.write(split_of(outcome.id, params.test_fraction), example_of(outcome, params))
        complexities.append(outcome.complexity)
    return rejected, output.complexity_histogram(complexities), n_files
