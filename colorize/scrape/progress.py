"""A one-line progress display for terminals: posts seen, saved, skipped, and the request rate."""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    """Redraws one status line at most every `every` seconds; silent when `stream` is not a TTY."""

    def __init__(self, stream: TextIO | None, every: float = 0.25) -> None:
        self._stream = stream if stream is not None and stream.isatty() else None
        self._every = every
        self._start = self._drawn = time.monotonic()

    def show(self, seen: int, saved: int, skipped: int, requests: int) -> None:
        now = time.monotonic()
        if self._stream is None or now - self._drawn < self._every:
            return
        self._drawn = now
        rate = requests / max(now - self._start, 1e-6)
        self._stream.write(f"\r\x1b[K{seen} seen | {saved} saved | {skipped} skipped | {rate:.2f} req/s")
        self._stream.flush()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.write("\n")
            self._stream.flush()
