"""One scrape at a time per output folder: a second run into the same --out stops with a message
instead of deleting the first one's partial downloads and racing it for posts.jsonl.

The lock is an advisory `flock` on `.scrape.lock`, so the kernel releases it when its process
dies, even by `kill -9`: a stale lock file never blocks a later run. The file holds the holder's
pid, for the message, and is removed when the run ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from colorize.errors import ColorizeError

LOCK_NAME = ".scrape.lock"


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Holds the folder's lock for the body; ColorizeError when another run holds it."""
    path = folder / LOCK_NAME
    fd = _acquire(path)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # while still held: a run that opened it meanwhile retries
        os.close(fd)


def _acquire(path: Path) -> int:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise ColorizeError(f"{path}: cannot create the lock file ({err.strerror})",
                                reason="write_failed") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            holder = _holder(fd)
            os.close(fd)
            raise ColorizeError(
                f"--out {path.parent}: another colorize scrape{holder} is writing into this folder; "
                "wait for it to finish, or give another --out",
                reason="locked",
            ) from err
        except OSError as err:  # a file system without locks
            os.close(fd)
            raise ColorizeError(f"{path}: cannot lock the folder ({err.strerror})",
                                reason="lock_failed") from err
        if _is_current(fd, path):
            with contextlib.suppress(OSError):  # the pid is only for messages
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)  # locked a file the previous holder had just removed: take the new one


def _is_current(fd: int, path: Path) -> bool:
    """True when `fd` is still the file at `path` (not one removed after we opened it)."""
    try:
        here, held = os.stat(path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)


def _holder(fd: int) -> str:
    """' (pid N)' from the lock file, or '' when it cannot be read."""
    with contextlib.suppress(OSError, ValueError):
        return f" (pid {int(os.pread(fd, 32, 0))})"
    return ""
