"""The work on one file, the same under both runners: which files a build takes, and what becomes
of each (`process_file`: read, checks, hash, decode, sketch, complexity, cue, encode), the verdict
on it in input order (`settle`: duplicates, rejection entries) and its record (`example_of`).

OpenCV and Pillow only: the local runner's worker processes never import TensorFlow; only
`example_of` does, in the process that writes the shards.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from typing import BinaryIO, Callable, Iterable

import numpy as np

from colorize import records, sketch
from colorize.build.identity import Part, content_id, display_name, name_fields
from colorize.errors import ColorizeError
from colorize.recipe import IMAGE_EXTENSIONS, BuildParams

MAX_FILE_BYTES = 256 * 2**20  # a bigger "image" is refused unread (the boards cap uploads lower)
# (magic bytes, what it is) of the formats the decoder could read but the builder does not take
OTHER_FORMATS = ((b"II*\0", "a TIFF file"), (b"MM\0*", "a TIFF file"), (b"GIF8", "a GIF file"),
                 (b"\0\0\0\x0cjP  ", "a JPEG 2000 file"), (b"8BPS", "a Photoshop file"))


def list_images(root: str) -> list[tuple[str, str]]:
    """(path, path relative to `root`) of every image in the folder `root`, sorted by path."""
    if not os.path.isdir(root):
        exists = os.path.exists(root)
        raise ColorizeError(f"{root}: {'not a' if exists else 'no such'} folder",
                            reason="not_a_folder" if exists else "not_found")
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
                            f"{', '.join(inputs)}", reason="no_images")
    return found


def usable_cores() -> int:
    """The cores this process may run on (the runners' default number of workers)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


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

    `read` gets the file's bytes (the Beam runner passes one for its filesystems' URLs); it
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
    outcome.id = content_id(data)
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


def settle(outcome: Outcome, first_seen: dict[str, str]) -> dict | None:
    """The `rejected.jsonl` entry of `outcome`, or None when it is accepted.

    Outcomes come in input order (within a group of the same ids, for Beam); `first_seen` maps
    the ids met so far to their first file, which is kept: a later file of the same bytes is
    rejected as its duplicate.
    """
    if outcome.id in first_seen:
        outcome.reason = "duplicate"
        outcome.detail = f"same bytes as {display_name(first_seen[outcome.id])}"
    elif outcome.id:
        first_seen[outcome.id] = outcome.path
    if not outcome.reason:
        return None
    return {**name_fields("path", outcome.path), "reason": outcome.reason,
            "detail": outcome.detail}


def example_of(outcome: Outcome, params: BuildParams) -> bytes:
    """The serialized record of an accepted outcome (imports TensorFlow)."""
    return records.make_example(outcome.encoded, complexity=outcome.complexity, id=outcome.id,
                                source=outcome.source, height=params.size, width=params.size)
