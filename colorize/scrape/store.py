"""The output folder: images saved atomically, and `posts.jsonl`, the record that makes runs resumable."""

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
PART_SUFFIX = ".part"


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


class PostLog:
    """`posts.jsonl`: one JSON object per saved post, appended as each file is saved.

    Loading drops a last line cut short by a crash (its image, if saved, is verified and
    recorded again on the next run); any other unreadable line is an error.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOG_NAME
        self._keys: set[tuple[str, int]] = set()
        self.md5s: set[str] = set()
        for record in self._load():
            self._remember(record)

    def __contains__(self, key: tuple[str, int]) -> bool:
        return key in self._keys

    def add(self, record: dict[str, Any]) -> None:
        """Appends one record with a single write, flushed to disk before returning."""
        with self.path.open("a", encoding="utf-8") as file:
            file.write(_line(record))
            file.flush()
            os.fsync(file.fileno())
        self._remember(record)

    def _remember(self, record: dict[str, Any]) -> None:
        self._keys.add(_key(record))
        self.md5s.update(md5 for md5 in (record.get("md5"), record.get("file_md5")) if md5)

    def _load(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        *lines, tail = self.path.read_text(encoding="utf-8").split("\n")
        records = []
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
                _key(record)
            except (ValueError, KeyError, TypeError) as err:
                raise ColorizeError(f"{self.path}: line {number} is not a post record ({err})") from err
            records.append(record)
        if tail:  # text after the last newline: a write cut short by a crash
            _write_records(self.path, records)
        return records


def _key(record: dict[str, Any]) -> tuple[str, int]:
    return str(record["site"]), int(record["id"])


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"


def _write_records(path: Path, records: list[dict[str, Any]]) -> None:
    fileio.write_text(path, "".join(_line(r) for r in records))
