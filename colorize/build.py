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
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
from typing import BinaryIO, Callable, Iterable, Iterator

import cv2
import numpy as np

from colorize import __version__, fileio, records, sketch
from colorize.errors import ColorizeError
from colorize.recipe import IMAGE_EXTENSIONS, MANIFEST, BuildParams  # noqa: F401 (re-exported)

REJECTED = "rejected.jsonl"
HISTOGRAM_BIN = 5  # percent of line pixels per complexity-histogram bin
MAX_FILE_BYTES = 256 * 2**20  # a bigger "image" is refused unread (the boards cap uploads lower)
STAGING_PREFIX = ".build-"  # the folder inside the output where a build stages its files
# (magic bytes, what it is) of the formats the decoder could read but the builder does not take
OTHER_FORMATS = ((b"II*\0", "a TIFF file"), (b"MM\0*", "a TIFF file"), (b"GIF8", "a GIF file"),
                 (b"\0\0\0\x0cjP  ", "a JPEG 2000 file"), (b"8BPS", "a Photoshop file"))


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


def display_name(name: str) -> str:
    """A file name as valid UTF-8 text: bytes that are not UTF-8 become U+FFFD (for JSON, logs)."""
    return os.fsencode(name).decode("utf-8", "replace")


def name_fields(key: str, name: str) -> dict[str, str]:
    """`{key: name}` for JSON; a name that is not UTF-8 also gets its bytes, as hex, in key_hex."""
    shown = display_name(name)
    return {key: shown} if shown == name else {key: shown, f"{key}_hex": os.fsencode(name).hex()}


def stored_name(entry: dict, key: str) -> str:
    """The exact file name that `name_fields` stored under `key` (the inverse of name_fields)."""
    raw = entry.get(f"{key}_hex")
    return entry[key] if raw is None else os.fsdecode(bytes.fromhex(raw))


def manifest_inputs(manifest: dict) -> list[str]:
    """The exact input folders of a manifest (names that are not UTF-8 included)."""
    raw = manifest.get("inputs_hex")
    return manifest["inputs"] if raw is None else [os.fsdecode(bytes.fromhex(h)) for h in raw]


def is_url(path: str) -> bool:
    """Whether `path` starts with a scheme (`gs://...`), as Beam's `FileSystems` tells them."""
    return re.match(r"[a-zA-Z][-a-zA-Z0-9+.]*://", path) is not None


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


def _not_a_file(mode: int) -> str:
    for test, what in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return what
    return "not a regular file"


def read_file(path: str) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; `ImageError` otherwise, unread.

    Checked before reading, so that a FIFO cannot block the build and a huge file cannot fill the
    memory; the read is capped too, in case the file grows meanwhile.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens at once instead of blocking
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise sketch.ImageError("not_a_file", _not_a_file(info.st_mode))
        return read_capped(f, info.st_size)


def read_capped(f: BinaryIO, size: int) -> bytes:
    """The bytes of the open file `f`, said to hold `size` bytes; `ImageError` past MAX_FILE_BYTES.

    `size` is checked before reading, and the read is capped too, in case the file grew since.
    """
    if size > MAX_FILE_BYTES:
        raise sketch.ImageError("file_too_big", f"{size} bytes, more than {MAX_FILE_BYTES}")
    data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise sketch.ImageError("file_too_big", f"more than {MAX_FILE_BYTES} bytes")
    return data


def check_format(data: bytes) -> None:
    """`ImageError` for formats the builder does not take: TIFF, GIF, ... and animations.

    The scraper refuses animated files too; unknown bytes are left to the decoder
    ("undecodable").
    """
    for magic, what in OTHER_FORMATS:
        if data.startswith(magic):
            raise sketch.ImageError("unsupported_format", what)
    animated = (data.startswith(b"\x89PNG") and b"acTL" in data[:data.find(b"IDAT")]
                or data.startswith(b"RIFF") and data[8:12] == b"WEBP" and data[12:16] == b"VP8X"
                and len(data) > 20 and data[20] & 0x02)
    if animated:
        kind = "PNG" if data.startswith(b"\x89PNG") else "WebP"
        raise sketch.ImageError("animated", f"an animated {kind}")


def process_file(task: tuple[str, str], params: BuildParams, part: Part = Part(),
                 read: Callable[[str], bytes] = read_file) -> Outcome:
    """Hash, decode, transform and encode one (path, source) file. Runs in worker processes.

    `read` gets the file's bytes (the Beam builder passes one for its filesystems' URLs); it
    raises OSError, or `ImageError` for a file it refuses unread, as `read_file` does.
    """
    path, source = task
    outcome = Outcome(path, source)
    try:
        data = read(path)
    except (OSError, sketch.ImageError) as err:  # no content to hash: reported by part 0 alone
        if isinstance(err, sketch.ImageError):
            outcome.reason, outcome.detail = err.reason, err.detail
        else:
            outcome.reason, outcome.detail = "unreadable", err.strerror or str(err)
        if part.index != 0:
            outcome.reason = "other_part"
        return outcome
    outcome.id = hashlib.sha1(data).hexdigest()
    if not part.contains(outcome.id):
        outcome.reason = "other_part"
        return outcome
    try:
        check_format(data)
        rgb = sketch.load_image(data, min_size=params.min_size, draft_size=params.size)
        color, lines, cue, outcome.complexity = make_triplet(rgb, params)
    except sketch.ImageError as err:
        outcome.reason, outcome.detail = err.reason, err.detail
        return outcome
    outcome.encoded = records.encode_triplet(color, lines, cue)
    return outcome


def list_images(root: str) -> list[tuple[str, str]]:
    """(path, path relative to `root`) of every image in the folder `root`, sorted by path."""
    if not os.path.isdir(root):
        raise ColorizeError(f"{root}: {'not a' if os.path.exists(root) else 'no such'} folder")
    paths = [os.path.join(d, name) for d, _, names in os.walk(root) for name in names
             if name.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted((p, os.path.relpath(p, root)) for p in paths)


def find_images(inputs: Iterable[str], list_folder: Callable[[str], list] = list_images) -> list:
    """What `list_folder` finds in each input folder, folder by folder: by default (path, path
    relative to its input folder) of every image. A one-line error if there are no images."""
    inputs = list(inputs)
    found = [entry for root in inputs for entry in list_folder(root)]
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


def _leftovers(out: str) -> list[str]:
    """What an interrupted build or merge left in `out`: staging folders and temporary files."""
    return [os.path.join(out, name) for name in os.listdir(out)
            if name.startswith(STAGING_PREFIX) or name in (f"{MANIFEST}.tmp", f"{REJECTED}.tmp")]


def prepare_output(out: str, overwrite: bool) -> bool:
    """Make `out` ready for a dataset; True if this call created it.

    A folder holding anything but an interrupted build's leftovers (which are removed) is refused
    unless `overwrite`; the dataset in it is replaced only once the new one is complete.
    """
    if os.path.exists(out) and not os.path.isdir(out):
        raise ColorizeError(f"{out}: exists and is not a folder")
    if not os.path.isdir(out):
        os.makedirs(out)
        return True
    for path in _leftovers(out):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
    if os.listdir(out) and not overwrite:
        raise ColorizeError(f"{out}: folder is not empty (use --overwrite to replace its dataset)")
    return False


def install_dataset(staging: str, out: str) -> None:
    """Replace the dataset in `out` by the complete one in `staging` (a folder inside `out`).

    Only renames happen here, which need no space, so a full disk cannot leave half a dataset;
    the manifest moves last, so a reader never takes the folder for complete too early.
    """
    remove_dataset(out)
    names = sorted(os.listdir(staging), key=lambda name: name == MANIFEST)
    for name in names:
        os.replace(os.path.join(staging, name), os.path.join(out, name))
    os.rmdir(staging)


@contextlib.contextmanager
def staged_output(out: str, overwrite: bool) -> Iterator[str]:
    """A staging folder inside `out` for a new dataset, installed when the block ends cleanly.

    On any failure the staging folder goes (and `out` too, if this build created it), so the
    previous dataset stays whole and nothing partial is left; a full disk or another write
    error is a one-line `ColorizeError` naming `out`.
    """
    created = prepare_output(out, overwrite)
    installed = False
    try:
        staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out)
        try:
            yield staging
            install_dataset(staging, out)
            installed = True
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as err:
        raise ColorizeError(f"{out}: {err.strerror or err}") from err
    except Exception as err:
        tf = sys.modules.get("tensorflow")  # imported by the shard writer, if it ran
        if tf is not None and isinstance(err, tf.errors.OpError):  # e.g. a full disk under TF
            raise ColorizeError(f"{out}: {err.message}") from err
        raise
    finally:
        if created and not installed:
            shutil.rmtree(out, ignore_errors=True)


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
    with staged_output(out, overwrite) as staging:
        bar = Progress(len(files), progress)
        work = functools.partial(process_file, params=params, part=part)
        with _processed(files, work, workers) as outcomes:  # workers start before TF is imported
            writer = ShardWriter(staging, params.shard_size)
            rejected, histogram, n_files = _consume(outcomes, writer, params, bar)
        shards = writer.finish(staging, part)
        manifest = _manifest(inputs, params, part, writer.counts, rejected, histogram, n_files,
                             shards)
        write_lists(staging, manifest, rejected)
    return manifest


def write_lists(folder: str, manifest: dict, rejected: list[dict],
                write_text: Callable[[str, str], None] | None = None) -> None:
    """`rejected.jsonl`, then `manifest.json` (last: it marks a dataset complete), with
    `write_text` (by default `fileio.write_text`: atomically); `folder` may be a URL then."""
    write_text = write_text or fileio.write_text
    lines = "".join(json.dumps(r) + "\n" for r in rejected)
    write_text(os.path.join(folder, REJECTED), lines)
    write_text(os.path.join(folder, MANIFEST), json.dumps(manifest, indent=2) + "\n")


def _manifest(inputs: list[str], params: BuildParams, part: Part, counts: dict[str, int],
              rejected: list[dict], histogram: list[int], n_files: int,
              shards: dict[str, list[str]]) -> dict:
    """The manifest of a finished build (docs/data.md lists its fields)."""
    folders = [p if is_url(p) else os.path.abspath(p) for p in inputs]
    shown = [display_name(p) for p in folders]
    manifest = {
        "tool": "manga-colorize",
        "version": __version__,
        "inputs": shown,
        "part": {"index": part.index, "count": part.count},
        "params": dataclasses.asdict(params),
        "image_size": [params.size, params.size],
        "encodings": records.ENCODINGS,
        "counts": {"files": n_files, **counts, "rejected": len(rejected)},
        "rejected": _count_reasons(rejected),
        "complexity_histogram": {"bin_percent": HISTOGRAM_BIN, "counts": histogram},
        "shards": shards,
    }
    if shown != folders:  # names that are not UTF-8: their bytes too, losslessly
        manifest["inputs_hex"] = [os.fsencode(p).hex() for p in folders]
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
            mark_duplicate(outcome, first_seen[outcome.id])
        elif outcome.id:
            first_seen[outcome.id] = outcome.path
        if outcome.reason:
            rejected.append(rejection(outcome))
            continue
        writer.write(split_of(outcome.id, params.test_fraction), example_of(outcome, params))
        histogram[histogram_bin(outcome.complexity)] += 1
    return rejected, histogram, n_files


def mark_duplicate(outcome: Outcome, kept_path: str) -> None:
    """Reject `outcome` as a copy of the file at `kept_path`, the first in input order."""
    outcome.reason = "duplicate"
    outcome.detail = f"same bytes as {display_name(kept_path)}"


def rejection(outcome: Outcome) -> dict:
    """The `rejected.jsonl` entry of a rejected outcome."""
    return {**name_fields("path", outcome.path), "reason": outcome.reason,
            "detail": outcome.detail}


def example_of(outcome: Outcome, params: BuildParams) -> bytes:
    """The serialized record of an accepted outcome (imports TensorFlow)."""
    return records.make_example(outcome.encoded, complexity=outcome.complexity, id=outcome.id,
                                source=outcome.source, height=params.size, width=params.size)


def histogram_bin(complexity: float) -> int:
    """The complexity-histogram bin of a sketch with `complexity` percent of line pixels."""
    return min(int(complexity // HISTOGRAM_BIN), 100 // HISTOGRAM_BIN - 1)


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
    parser.add_argument("--size", type=int, default=d.size,
                        help="side of the square triplets (default %(default)s)")
    parser.add_argument("--crop", choices=sketch.CROPS, default=d.crop,
                        help="auto: top of portrait, middle of landscape images; center: middle "
                             "(default %(default)s)")
    parser.add_argument("--block-size", type=int, default=d.block_size,
                        help="adaptive-threshold neighbourhood, odd (default %(default)s)")
    parser.add_argument("--threshold-c", type=float, default=d.threshold_c,
                        help="adaptive-threshold offset C (default %(default)s)")
    parser.add_argument("--max-complexity", type=float, default=d.max_complexity,
                        help="reject sketches with more than this percent of line pixels "
                             "(default %(default)s)")
    parser.add_argument("--cue-sigma", type=float, default=d.cue_sigma,
                        help="Gaussian sigma of the color cue, in pixels (default %(default)s)")
    parser.add_argument("--min-size", type=int, default=d.min_size,
                        help="reject images whose short side is smaller than this many pixels "
                             "(default %(default)s)")
    parser.add_argument("--min-color-percent", type=float, default=d.min_color_percent,
                        help=f"reject as gray images with fewer percent of pixels of chroma >= "
                             f"{sketch.CHROMA_LEVEL} (default %(default)s)")
    parser.add_argument("--keep-gray", action="store_true", help="do not reject gray images")
    parser.add_argument("--test-fraction", type=float, default=d.test_fraction,
                        help="share of images (by content hash) in the test split "
                             "(default %(default)s)")
    parser.add_argument("--shard-size", type=int, default=d.shard_size,
                        help="examples per shard, at most (default %(default)s)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: all cores)")
    parser.add_argument("--part", type=_part_argument, default=Part(), metavar="I/N",
                        help="build only part I (0-based) of N, chosen by content hash; join the "
                             "parts with `colorize merge-manifests` (default: 0/1, the whole)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the dataset in a non-empty output folder")
    parser.add_argument("--runner", choices=("local", "beam"), default="local",
                        help="local: worker processes on this machine (default); beam: an Apache "
                             "Beam pipeline (docs/distributed.md), the same dataset")
    parser.add_argument("--beam-option", action="append", default=[], metavar="OPTION",
                        help="a Beam pipeline option for --runner beam, e.g. "
                             "--beam-option=--runner=FlinkRunner (repeatable)")


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
    if args.runner == "beam":
        if args.part.count != 1:
            raise ColorizeError("--part is for the local runner; Beam spreads the work itself")
        from colorize import beam_build

        manifest = beam_build.build_dataset(args.inputs, args.out, params,
                                            beam_args=args.beam_option, workers=args.workers,
                                            overwrite=args.overwrite)
    else:
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
