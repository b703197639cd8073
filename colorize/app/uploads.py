"""The page's uploads: its caps, checked from each file's header before anything decodes it (a
12000 x 12000 PNG of a few KB decodes to 576 MB), and its two readers, `sketch.load_image` and
`infer.read_hints` behind those checks, whose errors name the file without the server's path."""

from __future__ import annotations

import base64
import ctypes
import io
import os
import warnings

import numpy as np
from PIL import Image

from colorize import infer, sketch
from colorize.app.limits import MAX_PIXELS, MAX_UPLOAD_BYTES
from colorize.errors import ColorizeError


def header_size(source: str | bytes) -> tuple[int, int] | None:
    """(width, height) from an image file's header (a path or its bytes), or None when no format
    of Pillow's reads it. Pillow's own format readers, as `Image.open` runs them, but without its
    decompression-bomb check (so an oversized file gets the page's message) and decoding nothing."""
    Image.init()
    with open(source, "rb") if isinstance(source, str) else io.BytesIO(source) as fp:
        prefix = fp.read(16)
        for format_id in Image.ID:
            factory, accept = Image.OPEN[format_id]
            try:  # a reader that fails is not this file's format (Pillow tries the next one too)
                accepted = not accept or accept(prefix)
                if not accepted or isinstance(accepted, str):  # a str: Pillow's warning
                    continue
                fp.seek(0)
                return factory(fp, source if isinstance(source, str) else "").size
            except Exception:
                continue
    return None


def _over_cap(name: str, width: int, height: int, what: str) -> None:
    """The page's pixel cap, one line naming the file."""
    if width * height > MAX_PIXELS:
        raise ColorizeError(f"{name}: {width}x{height} is over the {MAX_PIXELS / 1e6:.1f}"
                            f" megapixel limit for a {what}", reason="too_large")


def check_upload(source: str | bytes, name: str, what: str) -> None:
    """The byte and pixel caps of an uploaded file, from its size and header; ColorizeError
    otherwise."""
    size = os.path.getsize(source) if isinstance(source, str) else len(source)
    if size > MAX_UPLOAD_BYTES:
        raise ColorizeError(f"{name}: {size / 2**20:.1f} MB is over the {MAX_UPLOAD_BYTES // 2**20}"
                            f" MB limit for a {what}", reason="too_large")
    dimensions = header_size(source)
    if dimensions is None:
        raise ColorizeError(f"{name}: not a readable image (unknown image format)",
                            reason="undecodable")
    _over_cap(name, *dimensions, what)


def upload_of(data, default_name: str) -> tuple[str | bytes, str] | None:
    """The file (path or bytes) and name of a Gradio image payload as its components read it: a
    FileData/ImageData with a path or a data: URL, or the editor's blob bytes; None if empty."""
    if data is None:
        return None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), default_name
    name = getattr(data, "orig_name", None)
    url = getattr(data, "url", None) or ""
    if url.startswith("data:"):  # Gradio's gr.Image decodes an inline image before any path
        try:
            return base64.b64decode(url.partition(",")[2]), name or default_name
        except ValueError:  # not base64: no image format reads it
            return b"", name or default_name
    path = getattr(data, "path", None)
    return (path, name or os.path.basename(path)) if path else None


def check_payload(data, what: str, default_name: str = "the image") -> None:
    """check_upload for a Gradio image payload (see upload_of)."""
    upload = upload_of(data, default_name)
    if upload is not None:
        check_upload(*upload, what)


def limit_pillow() -> None:
    """Pillow refuses images over twice `Image.MAX_IMAGE_PIXELS` (178 megapixels by default) and
    only warns above it: this makes whatever decodes in this process (Gradio too) refuse anything
    over the page's cap, and drops the warning, which would now come from pictures within it."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


_LIBC = None


def release_memory() -> None:
    """Hand the heap's free pages back to the system (glibc's malloc_trim), after a refused
    request: otherwise what its upload took stays in the server's RSS. A no-op without glibc."""
    global _LIBC
    try:
        _LIBC = _LIBC or ctypes.CDLL("libc.so.6")
        _LIBC.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def check_pixels(image: np.ndarray, what: str) -> None:
    """The pixel cap for arrays given to the page's logic (the server checks uploads' headers
    before they become arrays)."""
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise ColorizeError(f"the {what} ({image.shape[1]}x{image.shape[0]}) is over the "
                            f"{MAX_PIXELS / 1e6:.1f} megapixel limit", reason="too_large")


def read_upload(path: str, what: str = "sketch") -> np.ndarray:
    """(H, W, 3) uint8 RGB of an uploaded image within the caps (`sketch.load_image`: EXIF
    orientation applied, alpha flattened onto white)."""
    name = os.path.basename(path)
    check_upload(path, name, what)
    try:
        return sketch.load_image(path, max_pixels=MAX_PIXELS)
    except sketch.ImageError as err:
        if err.reason == "too_large":  # should Pillow read the header otherwise
            raise ColorizeError(f"{name}: over the {MAX_PIXELS / 1e6:.1f} megapixel limit for a "
                                f"{what}", reason="too_large") from None
        raise ColorizeError(f"{name}: not a readable image ({type(err.__cause__).__name__})",
                            reason=err.reason) from None


def read_hint_upload(path: str) -> np.ndarray:
    """(H, W, 4) uint8 RGBA of an uploaded hint layer within the caps (`infer.read_hints`: it must
    have transparent pixels)."""
    name = os.path.basename(path)
    check_upload(path, name, "hint layer")
    try:
        return infer.read_hints(path)
    except ColorizeError as err:  # the same error, naming the file without the server's path
        err.args = (str(err).replace(path, name),)
        raise
