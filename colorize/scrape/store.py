"""The output folder: images saved atomically, `posts.jsonl` (the record that makes runs resumable),
and `skipped.jsonl` (posts found too small once downloaded, so that re-runs do not fetch them again).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from colorize import fileio
from colorize.errors import ColorizeError
from colorize.scrape.http import PoliteSession
from colorize.scrape.images import ImageInfo, inspect_image
from colorize.scrape.posts import url_ext
from colorize.scrape.reasons import Skipped

LOG_NAME = "posts.jsonl"
SKIPPED_NAME = "skipped.jsonl"
PART_SUFFIX = ".part"


def write_error(err: OSError, path: Path) -> ColorizeError:
    """A failed write (a full disk...) as the one-line error that ends the run."""
    return ColorizeError(
        f"{err.filename or path}: cannot write ({err.strerror or err}); the images saved so far are "
        f"recorded in {LOG_NAME}: make room, then re-run the same command to resume",
        reason="write_failed",
    )


def part_path(dest: Path) -> Path:
    """The temporary name a download has until it is verified: hidden, and not an image suffix."""
    return dest.with_name(f".{dest.name}{PART_SUFFIX}")


def remove_stale_parts(folder: Path) -> None:
    """Deletes temporary files (`.<site>_<id>.<ext>.part`) left by a run killed without cleaning up."""
    for path in folder.glob(f".*_*.*{PART_SUFFIX}"):
        path.unlink(missing_ok=True)


def save_image(
    session: PoliteSession, url: str, dest: Path, *, max_pixels: int,
    accept: Callable[[ImageInfo], None],
) -> ImageInfo:
    """Downloads `url` to `dest` so that `dest` exists only once the image is whole and accepted.

    `accept` raises Skipped to refuse a decodable image (md5, size, duplicate checks). A file
    already at `dest` (saved by a run that stopped before recording it) is verified and kept
    instead of downloaded again.
    """
    ext = url_ext(url)
    if dest.exists():
        try:
            info = inspect_image(dest, ext, max_pixels, label=str(dest))
            accept(info)
            return info
        except Skipped:
            dest.unlink()
    part = part_path(dest)
    try:
        session.download(url, part)
        info = inspect_image(part, ext, max_pixels, label=url)
        accept(info)
        os.replace(part, dest)
        return info
    finally:
        part.unlink(missing_ok=True)


class RecordFile:
    """A `.jsonl` file of the folder: one JSON object a line, each appended with a single write.

    Loading drops a last line cut short by a crash, even one cut inside a UTF-8 character (that
    post is looked at again on the next run); any other unreadable line is an error naming it.
    `check` reads what its owner needs from a record, raising KeyError, TypeError or ValueError
    for a bad one.
    """

    def __init__(self, path: Path, check: Callable[[dict[str, Any]], object]) -> None:
        self.path, self._check = path, check

    def load(self) -> list[dict[str, Any]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as err:
            raise ColorizeError(f"{self.path}: cannot read ({err.strerror})",
                                reason="read_failed") from err
        *lines, tail = data.split(b"\n")
        records = []
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line.decode("utf-8"))  # UnicodeDecodeError is a ValueError
                self._check(record)
            except (ValueError, KeyError, TypeError) as err:
                raise ColorizeError(f"{self.path}: line {number} is not a record ({err})",
                                    reason="bad_log") from err
            records.append(record)
        if tail:  # bytes after the last newline: a write cut short
            try:
                fileio.write_text(self.path, "".join(_line(r) for r in records))
            except OSError as err:
                raise write_error(err, self.path) from err
        return records

    def append(self, record: dict[str, Any]) -> None:
        """Appends one line, flushed to disk before returning; ColorizeError when that fails (a
        full disk), with the file cut back to where it was: a half line would spoil the next one."""
        data = memoryview(_line(record).encode("utf-8"))
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                end = os.lseek(fd, 0, os.SEEK_END)
                try:
                    while data:
                        data = data[os.write(fd, data):]
                    os.fsync(fd)
                except OSError:
                    os.ftruncate(fd, end)
                    raise
            finally:
                os.close(fd)
        except OSError as err:
            raise write_error(err, self.path) from err


class PostLog:
    """`posts.jsonl`: one record per saved post, appended as each file is saved."""

    def __init__(self, folder: Path) -> None:
        self._file = RecordFile(folder / LOG_NAME, _key)
        self.path = self._file.path
        self._keys: set[tuple[str, int]] = set()
        self.md5s: set[str] = set()
        for record in self._file.load():
            self._remember(record)

    def __contains__(self, key: tuple[str, int]) -> bool:
        return key in self._keys

    def add(self, record: dict[str, Any]) -> None:
        self._file.append(record)
        self._remember(record)

    def _remember(self, record: dict[str, Any]) -> None:
        self._keys.add(_key(record))
        self.md5s.update(md5 for md5 in (record.get("md5"), record.get("file_md5")) if md5)


class SmallLog:
    """`skipped.jsonl`: posts whose downloaded file was below --min-size, with its size.

    A re-run skips such a post without downloading it again, unless a lower --min-size would now
    keep it. Only the size is remembered: other skips depend on the board's answer of the day.
    """

    def __init__(self, folder: Path) -> None:
        self._file = RecordFile(folder / SKIPPED_NAME, _small_entry)
        self._short = dict(_small_entry(record) for record in self._file.load())

    def short_side(self, site: str, post_id: int, variant: str) -> int | None:
        """The short side of the `variant` file of a post found too small, or None."""
        return self._short.get((site, post_id, variant))

    def add(self, site: str, post_id: int, variant: str, url: str, info: ImageInfo) -> None:
        record = {"site": site, "id": post_id, "variant": variant, "reason": "too_small",
                  "url": url, "width": info.width, "height": info.height}
        self._file.append(record)
        key, short = _small_entry(record)
        self._short[key] = short


def _key(record: dict[str, Any]) -> tuple[str, int]:
    return str(record["site"]), int(record["id"])


def _small_entry(record: dict[str, Any]) -> tuple[tuple[str, int, str], int]:
    """((site, id, variant), short side) of a skipped.jsonl record."""
    key = str(record["site"]), int(record["id"]), str(record["variant"])
    return key, min(int(record["width"]), int(record["height"]))


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
