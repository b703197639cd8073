"""Atomic file writes: a reader never sees a half-written file under its final name."""

from __future__ import annotations

import os

import numpy as np


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a UTF-8 text file under a temporary name, then rename it into place."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write a file under a temporary name, then rename it into place."""
    tmp = f"{os.fspath(path)}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_image(path: str, rgb: np.ndarray) -> None:
    """Write an RGB image in the format its extension names, atomically; OSError on failure."""
    import cv2  # here, so the OpenCV-free scraper can use write_text

    root, ext = os.path.splitext(path)
    tmp = f"{root}.tmp{ext}"  # OpenCV picks the format from the extension
    try:
        if not cv2.imwrite(tmp, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
            raise OSError(f"{path}: could not write the image")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
