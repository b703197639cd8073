"""Checks that a downloaded file is a whole, still, reasonably sized image of the format it claims."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from colorize.scrape.reasons import Skip, Skipped

# Pillow's own decompression-bomb threshold (~89.5 MP): the default for --max-pixels.
DEFAULT_MAX_PIXELS = 89_478_485
FORMAT_OF_EXT = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    bytes: int
    md5: str


def inspect_image(path: Path, ext: str, max_pixels: int, label: str = "") -> ImageInfo:
    """Decodes `path` fully; raises Skipped unless it is a still `ext` image of <= max_pixels.

    The pixel count is read from the header and checked before decoding, so a decompression
    bomb is refused without allocating its pixels; a full decode catches truncated files.
    `label` names the image in messages (its URL); the path by default.
    """
    label = label or str(path)
    data = path.read_bytes()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we enforce our own cap
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise Skipped(Skip.TOO_MANY_PIXELS, f"{label}: {width}x{height} > {max_pixels} pixels")
                if image.format != FORMAT_OF_EXT.get(ext):
                    raise Skipped(Skip.BAD_IMAGE, f"{label}: a {image.format} file named .{ext}")
                if getattr(image, "is_animated", False):
                    raise Skipped(Skip.NOT_STILL, f"{label}: animated {image.format}")
                image.load()
    except Image.DecompressionBombError as err:
        raise Skipped(Skip.TOO_MANY_PIXELS, f"{label}: {err}") from err
    except (OSError, SyntaxError, ValueError) as err:  # Pillow's "cannot identify" / "truncated"
        raise Skipped(Skip.BAD_IMAGE, f"{label}: {err}") from err
    return ImageInfo(width, height, len(data), hashlib.md5(data).hexdigest())
