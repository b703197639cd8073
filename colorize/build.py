"""`colorize build`: folders of images -> sharded TFRecords of (sketch, cue, color) triplets.

Worker processes decode and transform images with OpenCV/Pillow only (`process_file`); the
parent alone imports TensorFlow, to write the records. Workers come from a "forkserver" (or
"spawn") context, so they never inherit a parent's TensorFlow state, and an ordered `map` makes
the output identical for any number of workers. The pool is a `ProcessPoolExecutor` rather than a
`multiprocessing.Pool`: when a worker dies (killed for memory, a crashing decoder) the executor
fails the build with an error where the Pool would wait forever for the lost results.

Everything that depends on an image's identity (duplicates, train/test split, `--part`) is decided
by the SHA-1 of its file bytes, never by its position or name. See docs/data.md for the format,
the rejection reasons and the manifest fields.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import functools
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from typing import Callable, Iterable, Iterator

import cv2
import numpy as np

from colorize import __version__, fileio, records, sketch
from colorize.errors import ColorizeError
from colorize.recipe import IMAGE_EXTENSIONS, MANIFEST, BuildParams  # noqa: F401 (re-exported)

REJECTED = "rejected.jsonl"
HISTOGRAM_BIN = 5  # percent of line pixels per complexity-histogram bin


@dataclasses.dataclass(frozen=True)
class Part:
    """Which share of the input (by content hash) a build covers: `index` of `count`, 0-based."""

    index: int = 0
    count: int = 1

    def __post_init__(self):
        if not 0 <= self.index < self.count:
            raise ColorizeError(f"part {self}: need 0 <= I < N")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def contains(self, image_id: str) -> bool:
        return int(image_id[8:16], 16) % self.count == self.index

    def shard_prefix(self, split: str) -> str:
        """`train` for a whole build, `train-p01of04` for a part, so parts' shards never collide."""
        return split if self.count == 1 else f"{split}-p{self.index:02d}of{self.count:02d}"


def split_of(image_id: str, test_fraction: float) -> str:
    """"test" for a `test_fraction` share of content hashes, "train" for the rest."""
    return "test" if int(image_id[:8], 16) < test_fraction * 2**32 else "train"


@dataclasses.dataclass
class Outcome:
    """What a worker made of one file: encoded triplet bytes, or the reason it was rejected."""

    path: str
    source: str
    id: str = ""
    reason: str | None = None  # "other_part": skipped, it belongs to another --part
    detail: str = ""
    complexity: float = 0.0
    encoded: dict[str, bytes] | None = None


def make_triplet(rgb: np.ndarray,
                 params: BuildParams) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(color, sketch, cue, complexity) of a decoded image; `ImageError` if gray or too busy."""
    color = sketch.resize_and_crop(rgb, params.size, params.crop)
    if not params.keep_gray and sketch.is_gray(color, params.min_color_percent):
        raise sketch.ImageError("gray", f"{sketch.color_percent(color):.2f} % colored pixels")
    lines = sketch.sketchify(color, params.block_size, params.threshold_c)
    busy = sketch.complexity(lines)
    if busy > params.max_complexity:
        raise sketch.ImageError("too_complex", f"{busy:.1f} % line pixels")
    return color, lines, sketch.color_cue(color, params.cue_sigma), busy


def process_file(task: tuple[str, str], params: BuildParams, part: Part = Part()) -> Outcome:
    """Hash, decode, transform and encode one (path, source) file. Runs in worker processes."""
    path, source = task
    outcome = Outcome(path, source)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:  # no content to hash: reported by part 0 alone
        outcome.reason = "unreadable" if part.index == 0 else "other_part"
        outcome.detail = err.strerror or str(err)
        return outcome
    outcome.id = hashlib.sha1(data).hexdigest()
    if not part.contains(outcome.id):
        outcome.reason = "other_part"
        return outcome
    try:
        rgb = sketch.load_image(data, min_size=params.min_size, draft_size=params.size)
        color, lines, cue, outcome.complexity = make_triplet(rgb, params)
    except sketch.ImageError as err:
        outcome.reason, outcome.detail = err.reason, err.detail
        return outcome
    outcome.encoded = records.encode_triplet(color, lines, cue)
    return outcome


def find_images(inputs: Iterable[str]) -> list[tuple[str, str]]:
    """(path, path relative to its input folder) of every image, folder by folder, sorted."""
    found = []
    for root in inputs:
        if not os.path.isdir(root):
            raise ColorizeError(f"{root}: {'not a' if os.path.exists(root) else 'no such'} folder")
        paths = [os.path.join(d, name) for d, _, names in os.walk(root) for name in names
                 if name.lower().endswith(IMAGE_EXTENSIONS)]
        found += sorted((p, os.path.relpath(p, root)) for p in paths)
    if not found:
        raise ColorizeError(f"no images ({', '.join(e[1:] for e in IMAGE_EXTENSIONS)}) found under "
                            f"{', '.join(inputs)}")
    return found


def usable_cores() -> int:
    """The cores this process may run on (the default number of workers)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


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
        context.set_forkserver_preload(["colorize.build"])  # workers fork with imports done
    chunksize = max(1, min(32, len(files) // (8 * workers)))
    pool = concurrent.futures.ProcessPoolExecutor(workers, context, initializer=_init_worker)
    try:
        yield pool.map(work, files, chunksize=chunksize)
    except concurrent.futures.process.BrokenProcessPool as err:
        raise ColorizeError("a worker process died (out of memory, or a crash while decoding); "
                            "try fewer --workers") from err
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


def remove_dataset(out: str):
    """Delete what a previous build left in `out`: shards of any part, manifest, rejection list."""
    paths = [p for split in records.SPLITS for p in records.shard_paths(out, split)]
    for path in paths + [os.path.join(out, MANIFEST), os.path.join(out, REJECTED)]:
        if os.path.lexists(path):
            os.remove(path)


def prepare_output(out: str, overwrite: bool):
    """Create `out`; a non-empty folder is refused unless `overwrite`."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise ColorizeError(f"{out}: exists and is not a folder")
    if os.path.isdir(out) and os.listdir(out) and not overwrite:
        raise ColorizeError(f"{out}: folder is not empty (use --overwrite to replace its dataset)")
    os.makedirs(out, exist_ok=True)


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
        raise ColorizeError("workers must be at least 1")
    files = find_images(inputs)
    prepare_output(out, overwrite)
    tmp_dir = tempfile.mkdtemp(prefix=".build-", dir=out)
    try:
        bar = Progress(len(files), progress)
        work = functools.partial(process_file, params=params, part=part)
        with _processed(files, work, workers) as outcomes:  # workers start before TF is imported
            writer = ShardWriter(tmp_dir, params.shard_size)
            summary = _consume(outcomes, writer, params, bar)
        remove_dataset(out)
        shards = writer.finish(out, part)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    rejected, histogram, n_files = summary
    manifest = {
        "tool": "manga-colorize",
        "version": __version__,
        "inputs": [os.path.abspath(p) for p in inputs],
        "part": {"index": part.index, "count": part.count},
        "params": dataclasses.asdict(params),
        "image_size": [params.size, params.size],
        "encodings": records.ENCODINGS,
        "counts": {"files": n_files, **writer.counts, "rejected": len(rejected)},
        "rejected": _count_reasons(rejected),
        "complexity_histogram": {"bin_percent": HISTOGRAM_BIN, "counts": histogram},
        "shards": shards,
    }
    fileio.write_text(os.path.join(out, REJECTED), "".join(json.dumps(r) + "\n" for r in rejected))
    fileio.write_text(os.path.join(out, MANIFEST), json.dumps(manifest, indent=2) + "\n")
    return manifest


def _consume(outcomes: Iterable[Outcome], writer: ShardWriter, params: BuildParams,
             progress: Progress) -> tuple[list[dict], list[int], int]:
    """Write accepted outcomes; return rejections, complexity histogram and files in the part."""
    rejected, histogram, first_seen, n_files = [], [0] * (100 // HISTOGRAM_BIN), {}, 0
    for outcome in outcomes:
        progress.update()
        if outcome.reason == "other_part":
            continue
        n_files += 1
        if outcome.id in first_seen:
            outcome.reason, outcome.detail = "duplicate", f"same bytes as {first_seen[outcome.id]}"
        elif outcome.id:
            first_seen[outcome.id] = outcome.path
        if outcome.reason:
            rejected.append({"path": outcome.path, "reason": outcome.reason,
                             "detail": outcome.detail})
            continue
        example = records.make_example(outcome.encoded, complexity=outcome.complexity,
                                       id=outcome.id, source=outcome.source,
                                       height=params.size, width=params.size)
        writer.write(split_of(outcome.id, params.test_fraction), example)
        histogram[min(int(outcome.complexity // HISTOGRAM_BIN), len(histogram) - 1)] += 1
    return rejected, histogram, n_files


def _count_reasons(rejected: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rejected:
        counts[r["reason"]] = counts.get(r["reason"], 0) + 1
    return dict(sorted(counts.items()))


def add_arguments(parser: argparse.ArgumentParser):
    d = BuildParams()
    parser.add_argument("inputs", nargs="+", metavar="IMAGES_DIR",
                        help="folders searched recursively for jpg, jpeg, png, webp and bmp files")
    parser.add_argument("--out", required=True, metavar="RECORDS_DIR", help="output folder")
    parser.add_argument("--size", type=int, default=d.size, help="side of the square triplets")
    parser.add_argument("--crop", choices=sketch.CROPS, default=d.crop,
                        help="auto: top of portrait, middle of landscape images; center: middle")
    parser.add_argument("--block-size", type=int, default=d.block_size,
                        help="adaptive-threshold neighbourhood (odd)")
    parser.add_argument("--threshold-c", type=float, default=d.threshold_c,
                        help="adaptive-threshold offset C")
    parser.add_argument("--max-complexity", type=float, default=d.max_complexity,
                        help="reject sketches with more than this percent of line pixels")
    parser.add_argument("--cue-sigma", type=float, default=d.cue_sigma,
                        help="Gaussian sigma of the color cue, in pixels")
    parser.add_argument("--min-size", type=int, default=d.min_size,
                        help="reject images whose short side is smaller")
    parser.add_argument("--min-color-percent", type=float, default=d.min_color_percent,
                        help=f"reject as gray images with fewer percent of pixels of chroma >= "
                             f"{sketch.CHROMA_LEVEL}")
    parser.add_argument("--keep-gray", action="store_true", help="do not reject gray images")
    parser.add_argument("--test-fraction", type=float, default=d.test_fraction,
                        help="share of images (by content hash) in the test split")
    parser.add_argument("--shard-size", type=int, default=d.shard_size,
                        help="examples per shard, at most")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: all cores)")
    parser.add_argument("--part", type=_part_argument, default=Part(), metavar="I/N",
                        help="build only part I (0-based) of N, chosen by content hash; join the "
                             "parts with `colorize merge-manifests`")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the dataset in a non-empty output folder")


def _part_argument(text: str) -> Part:
    try:
        index, count = (int(v) for v in text.split("/"))
        return Part(index, count)
    except (ValueError, ColorizeError):
        raise argparse.ArgumentTypeError(f"expected I/N with 0 <= I < N, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    params = BuildParams(
        size=args.size, crop=args.crop, block_size=args.block_size, threshold_c=args.threshold_c,
        max_complexity=args.max_complexity, cue_sigma=args.cue_sigma, min_size=args.min_size,
        min_color_percent=args.min_color_percent, keep_gray=args.keep_gray,
        test_fraction=args.test_fraction, shard_size=args.shard_size)
    manifest = build_dataset(args.inputs, args.out, params, workers=args.workers,
                             overwrite=args.overwrite, part=args.part)
    counts = manifest["counts"]
    reasons = ", ".join(f"{reason}: {n}" for reason, n in manifest["rejected"].items())
    summary = (f"{counts['train']} train + {counts['test']} test examples, "
               f"{counts['rejected']} rejected" + (f" ({reasons})" if reasons else ""))
    if counts["train"] + counts["test"] == 0 and args.part.count == 1:
        raise ColorizeError(f"{args.out}: no usable images ({summary}); reasons per file are in "
                            f"{os.path.join(args.out, REJECTED)}")
    print(f"{args.out}: {summary}")
    return 0
