"""Chapters: a comic book archive (.cbz, a zip of page images, what manga readers open) or a folder
of pages, read safely and written atomically, in a work area that lets an interrupted run resume.

`colorize predict --sketch chapter.cbz --out colored.cbz` (or folders) runs `colorize` below with
its page function; this module knows nothing of models (no TensorFlow).

Reading an archive never extracts it: pages are read from it one at a time, with limits. A zip
that is not a chapter is refused whole, in one line, before anything is written: one that is not
a zip, or has no pages, entries whose names escape it (`../x.png`, `/etc/x.png`), links,
encrypted entries, archives inside it, or the marks of a zip bomb (too many entries, more bytes
than MAX_ENTRY_BYTES or MAX_TOTAL_BYTES once inflated, a compression ratio over MAX_RATIO,
overlapping entries). Entries that are neither pages nor `ComicInfo.xml` (copied unchanged) are
skipped and listed.

Output: a .cbz is written in a work area beside it (`.NAME.cbz.partial/`: the finished pages and
`state.json`), zipped to a temporary name and renamed into place at the end, the work area then
removed; a folder gets each page under a temporary name, renamed into place, and the same state
file (`.colorize-chapter.json`) until the chapter is done. The state names the input and the
settings: the same command after an interruption skips the pages already done; other inputs or
settings start over.
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import re
import shutil
import stat
import zipfile
import zlib
from typing import Callable

import cv2
import numpy as np

from colorize import fileio, sketch
from colorize.errors import ColorizeError
from colorize.recipe import IMAGE_EXTENSIONS

ARCHIVE_EXTENSIONS = (".cbz", ".zip")  # chapters in one file
NESTED_EXTENSIONS = (".zip", ".cbz", ".rar", ".cbr", ".7z", ".cb7", ".tar", ".cbt", ".gz",
                     ".tgz", ".bz2", ".xz", ".zst")
COMIC_INFO = "ComicInfo.xml"  # a chapter's metadata (title, number, ...): copied unchanged
MAX_ENTRIES = 10_000
MAX_ENTRY_BYTES = 256 << 20  # inflated, per page (a 9000 x 9000 RGB BMP is 243 MB)
MAX_TOTAL_BYTES = 4 << 30  # inflated, the whole chapter
MAX_RATIO = 100  # inflated / stored size of an entry over RATIO_FROM bytes (pages barely deflate)
RATIO_FROM = 16 << 20
# A page is in color when at least this percent of its area is colored fills: colored pixels
# (sketch.CHROMA_LEVEL) that survive a morphological opening wider than the lines, so that colored
# line art (colored lines on white paper) is still line art
COLORED_PAGE_PERCENT = 5.0

COLORIZED, PASSED, FAILED = "colorized", "passed", "failed"
# the reasons for which one page fails and the rest of the chapter goes on; any other error
# (a model that takes no cue, a full disk) stops the chapter
PAGE_REASONS = frozenset({"undecodable", "too_large", "too_small", "wrong_aspect",
                          "not_hint_layer", "bad_archive", "read_failed"})
STATE = "state.json"  # in a .cbz's work area
FOLDER_STATE = ".colorize-chapter.json"  # in an output folder


def is_archive(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in ARCHIVE_EXTENSIONS


def is_chapter(path: str) -> bool:
    """Whether `colorize predict --sketch PATH` names a chapter: a folder, or a .cbz or .zip."""
    return os.path.isdir(path) or is_archive(path)


def natural_key(name: str) -> list:
    """Sort key putting page2 before page10 (numbers compare as numbers), case-insensitive."""
    return [int(part) if i % 2 else part.lower()
            for i, part in enumerate(re.split(r"(\d+)", name))] + [name]


def page_key(name: str) -> str:
    """A page's name without its extension ("ch1/007.png" -> "ch1/007"): what cue folders and
    output folders match and name pages by."""
    return posixpath.splitext(name)[0]


def is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


# -- reading -----------------------------------------------------------------------------------


class Chapter:
    """A chapter's pages, in reading order (natural order of their names), read one at a time."""

    path: str
    pages: list[str]  # names relative to the chapter, "/"-separated
    extras: list[str]  # entries copied unchanged (ComicInfo.xml)
    skipped: list[str]  # entries that are not pages

    def read(self, name: str) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Chapter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def open(path: str) -> Chapter:
        """A folder's or an archive's chapter; ColorizeError if it is not one."""
        return FolderChapter(path) if os.path.isdir(path) else ArchiveChapter(path)


class FolderChapter(Chapter):
    """The images directly in a folder (as `colorize predict` has always read a folder)."""

    def __init__(self, path: str):
        self.path = path
        try:
            names = os.listdir(path)
        except OSError as err:
            raise ColorizeError(f"{path}: cannot list ({err.strerror or err})",
                                reason="read_failed") from None
        self.pages = sorted((n for n in names if is_image_name(n) and not n.startswith(".")),
                            key=natural_key)
        self.extras = [COMIC_INFO] if COMIC_INFO in names else []
        self.skipped = []
        if not self.pages:
            raise ColorizeError(f"{path}: no images ({', '.join(IMAGE_EXTENSIONS)}) in it",
                                reason="no_images")
        for name in self.pages:  # a folder or a FIFO named like an image: before any work
            full = os.path.join(path, name)
            if not os.path.isfile(full):
                from colorize.runfolder import not_readable

                raise not_readable(full)

    def read(self, name: str) -> bytes:
        full = os.path.join(self.path, name)
        try:
            size = os.path.getsize(full)
            if size > MAX_ENTRY_BYTES:
                raise ColorizeError(f"{size} bytes, over the {MAX_ENTRY_BYTES >> 20} MB limit "
                                    "for a page", reason="too_large")
            with open(full, "rb") as f:
                return f.read()
        except OSError as err:
            raise ColorizeError(f"cannot read ({err.strerror or err})",
                                reason="read_failed") from None


def _unsafe_name(name: str) -> str | None:
    """Why an archive entry's name is unsafe to write anywhere by, or None."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if ".." in parts:
        return "a path that escapes the archive"
    if "\0" in name:
        return "a name with a NUL character"
    return None


class ArchiveChapter(Chapter):
    """A .cbz (or .zip) of page images, checked whole before any page is read."""

    def __init__(self, path: str):
        from colorize.runfolder import require_file

        self.path = path
        require_file(path)
        try:
            self.zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as err:
            raise ColorizeError(f"{path}: not a zip archive ({err})",
                                reason="bad_archive") from None
        except OSError as err:
            raise ColorizeError(f"{path}: cannot read ({err.strerror or err})",
                                reason="read_failed") from None
        try:
            self._check()
        except ColorizeError:
            self.zip.close()
            raise

    def _refuse(self, why: str, reason: str = "unsafe_archive") -> ColorizeError:
        return ColorizeError(f"{self.path}: not a chapter: {why}", reason=reason)

    def _check(self) -> None:
        infos = self.zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise self._refuse(f"{len(infos)} entries, over the limit of {MAX_ENTRIES}",
                               "too_large")
        total, seen, pages, extras, skipped = 0, set(), [], [], []
        for info in infos:
            name = info.filename
            why = _unsafe_name(name)
            if why:
                raise self._refuse(f"the entry {name!r} is {why}")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise self._refuse(f"the entry {name!r} is a symbolic link")
            if info.flag_bits & 0x1:
                raise self._refuse(f"the entry {name!r} is encrypted")
            if info.is_dir():
                continue
            if name.lower().endswith(NESTED_EXTENSIONS):
                raise self._refuse(f"the entry {name!r} is an archive inside the archive")
            if name in seen:
                raise self._refuse(f"two entries are named {name!r}", "name_clash")
            seen.add(name)
            if info.file_size > MAX_ENTRY_BYTES:
                raise self._refuse(f"the entry {name!r} inflates to {info.file_size} bytes, over "
                                   f"the {MAX_ENTRY_BYTES >> 20} MB limit for a page", "too_large")
            if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * info.compress_size:
                raise self._refuse(f"the entry {name!r} inflates {info.file_size} bytes from "
                                   f"{info.compress_size} (a zip bomb?)", "too_large")
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise self._refuse(f"its entries inflate to more than {MAX_TOTAL_BYTES >> 30} GB",
                                   "too_large")
            base = posixpath.basename(name)
            if base.startswith(".") or name.startswith("__MACOSX/"):
                skipped.append(name)  # the resource forks and hidden files of other systems
            elif is_image_name(name):
                pages.append(name)
            elif base == COMIC_INFO:
                extras.append(name)
            else:
                skipped.append(name)
        spans = sorted((i.header_offset, i.compress_size, i.filename) for i in infos)
        for (start, size, name), (following, _, other) in zip(spans, spans[1:]):
            if start + size > following:
                raise self._refuse(f"the entries {name!r} and {other!r} overlap (a zip bomb?)",
                                   "too_large")
        if not pages:
            raise self._refuse(f"no page images ({', '.join(IMAGE_EXTENSIONS)}) in it",
                               "no_images")
        self.pages = sorted(pages, key=natural_key)
        self.extras, self.skipped = extras, skipped

    def read(self, name: str) -> bytes:
        info = self.zip.getinfo(name)
        try:
            with self.zip.open(info) as f:  # zipfile stops at the declared size, checks the CRC
                data = f.read(MAX_ENTRY_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as err:
            raise ColorizeError(f"a damaged entry ({type(err).__name__}: {err})",
                                reason="bad_archive") from None
        except OSError as err:
            raise ColorizeError(f"cannot read ({err.strerror or err})",
                                reason="read_failed") from None
        if len(data) > MAX_ENTRY_BYTES:
            raise ColorizeError(f"over the {MAX_ENTRY_BYTES >> 20} MB limit for a page",
                                reason="too_large")
        return data

    def close(self) -> None:
        self.zip.close()


def in_color(rgb: np.ndarray, percent: float = COLORED_PAGE_PERCENT) -> bool:
    """Whether a page (H, W, 3) is already in color: at least `percent` % of its area is colored
    fills. Colored pixels are the builder's (chroma max - min of R, G, B of at least
    `sketch.CHROMA_LEVEL`); an opening wider than the lines (about 1/200 of the short side, 3 px
    at least) removes colored lines and keeps colored areas, so colored line art is not in color.
    """
    if sketch.color_percent(rgb) < percent:  # the builder's test: too few colored pixels at all
        return False
    r, g, b = cv2.split(rgb)
    chroma = cv2.subtract(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))
    colored = cv2.compare(chroma, sketch.CHROMA_LEVEL, cv2.CMP_GE)
    side = 2 * max(1, round(min(rgb.shape[:2]) / 400)) + 1
    fills = cv2.morphologyEx(colored, cv2.MORPH_OPEN, np.ones((side, side), np.uint8))
    return 100.0 * cv2.countNonZero(fills) / fills.size >= percent


# -- cues, one per page --------------------------------------------------------------------------


def cue_files(folder: str) -> dict[str, str]:
    """The images under a cue folder by page key (relative name without extension, "/"): a page
    takes the cue of its own name, and none when there is no such file."""
    found: dict[str, str] = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            if is_image_name(name) and not name.startswith("."):
                relative = os.path.relpath(os.path.join(root, name), folder)
                found.setdefault(page_key(relative.replace(os.sep, "/")), os.path.join(root, name))
    return found


# -- writing -------------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """What became of one page: colorized, passed through (already in color) or failed."""

    status: str
    out: str | None = None  # its name in the output
    reason: str | None = None
    message: str | None = None


class Output:
    """A chapter's output: a .cbz or a folder, its work area and the resume state.

    `fingerprint`: what the pages depend on (the input and the settings); a state of another
    fingerprint is discarded. `page_format`: the extension of colorized pages in a folder (".png"
    or ".psd"); in a .cbz each page keeps its name, so its format."""

    def __init__(self, path: str, fingerprint: dict, page_format: str = ".png"):
        self.path, self.fingerprint, self.page_format = path, fingerprint, page_format
        self.archive = is_archive(path)
        if self.archive:
            folder, name = os.path.split(os.path.abspath(path))
            self.work = os.path.join(folder, f".{name}.partial")
            self.pages_dir = os.path.join(self.work, "pages")
            self.state_path = os.path.join(self.work, STATE)
        else:
            self.work = self.pages_dir = path
            self.state_path = os.path.join(path, FOLDER_STATE)
        self.done: dict[str, Outcome] = {}
        self.resumed = False

    def start(self) -> int:
        """Make the work area, taking up an unfinished run of the same fingerprint; the number of
        pages already done."""
        state = self._read_state()
        if state is not None and state.get("fingerprint") == self.fingerprint:
            self.done = {name: Outcome(**o) for name, o in state.get("pages", {}).items()
                         if o.get("status") != FAILED and o.get("out") and
                         os.path.isfile(os.path.join(self.pages_dir, o["out"]))}
            self.resumed = bool(self.done)
        elif self.archive and os.path.isdir(self.work):
            shutil.rmtree(self.work)  # another input or other settings: start over
        self.created = not os.path.exists(self.pages_dir)
        os.makedirs(self.pages_dir, exist_ok=True)
        self._write_state()
        return len(self.done)

    def discard(self) -> None:
        """Remove what `start` made (a run that stops before its first page leaves nothing)."""
        if self.archive:
            shutil.rmtree(self.work, ignore_errors=True)
            return
        if os.path.exists(self.state_path):
            os.remove(self.state_path)
        if self.created and not os.listdir(self.path):
            os.rmdir(self.path)

    def _read_state(self) -> dict | None:
        try:
            with open(self.state_path, encoding="utf-8") as f:
                state = json.load(f)
            return state if isinstance(state, dict) else None
        except (OSError, ValueError):
            return None

    def _write_state(self) -> None:
        fileio.write_text(self.state_path, json.dumps(
            {"fingerprint": self.fingerprint,
             "pages": {k: dataclasses.asdict(v) for k, v in self.done.items()}}, indent=1))

    def extension_for(self, page: str) -> str:
        """The format a colorized page is written in."""
        return posixpath.splitext(page)[1].lower() if self.archive else self.page_format

    def name_for(self, page: str, colorized: bool) -> str:
        """A page's name in the output: in a .cbz its own; in a folder, a colorized page is
        KEY.png (or .psd), one copied unchanged keeps its name."""
        if self.archive or not colorized:
            return page
        return page_key(page) + self.page_format

    def put(self, page: str, outcome: Outcome, data: bytes | None) -> None:
        """Record a page's outcome, and write its data (atomically) under `outcome.out`."""
        if data is not None:
            target = os.path.join(self.pages_dir, outcome.out)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                fileio.write_bytes(target, data)
            except OSError as err:
                raise ColorizeError(f"{target}: cannot write ({err.strerror or err}); the pages "
                                    "done so far are kept: re-run the same command to resume",
                                    reason="write_failed") from None
        self.done[page] = outcome
        self._write_state()

    def finish(self, chapter: Chapter) -> None:
        """Install the output: zip the pages (in reading order) to a temporary name and rename it
        into place, removing the work area; or, for a folder, remove the state."""
        if not self.archive:
            os.remove(self.state_path)
            return
        tmp = os.path.join(self.work, "chapter.tmp")
        try:
            with zipfile.ZipFile(tmp, "w") as out:
                for name in chapter.extras:
                    out.writestr(name, chapter.read(name), zipfile.ZIP_DEFLATED)
                for page in chapter.pages:
                    outcome = self.done.get(page)
                    if outcome is not None and outcome.out is not None:
                        # pages are compressed images already: stored, as comic archives do
                        out.write(os.path.join(self.pages_dir, outcome.out), outcome.out,
                                  zipfile.ZIP_STORED)
            os.replace(tmp, self.path)
        except OSError as err:
            raise ColorizeError(f"{self.path}: cannot write ({err.strerror or err}); the pages "
                                "are kept: re-run the same command to finish",
                                reason="write_failed") from None
        shutil.rmtree(self.work, ignore_errors=True)


PageFn = Callable[[str, bytes, str], "bytes | None"]


def colorize(chapter: Chapter, output: Output, page_fn: PageFn, progress=None) -> list[Outcome]:
    """Run `page_fn(name, data, extension)` over the pages not done yet and install the output;
    every page's outcome, in reading order.

    `page_fn` returns the colorized page encoded in `extension`, or None for a page to copy
    unchanged (already in color), or raises ColorizeError: with one of PAGE_REASONS the page
    fails (it is copied unchanged when it could be read, so the chapter keeps all its pages) and
    the chapter goes on; with another reason the chapter stops, its work area kept for a resume.
    `progress(done)` is called after each page of this run.
    """
    todo = [page for page in chapter.pages if page not in output.done]
    for count, page in enumerate(todo, 1):
        data = None
        try:
            data = chapter.read(page)
            encoded = page_fn(page, data, output.extension_for(page))
        except ColorizeError as err:
            if err.reason not in PAGE_REASONS:
                raise
            outcome = Outcome(FAILED, page if data is not None else None, err.reason, str(err))
            output.put(page, outcome, data)
        else:
            if encoded is None:
                output.put(page, Outcome(PASSED, output.name_for(page, False)), data)
            else:
                output.put(page, Outcome(COLORIZED, output.name_for(page, True)), encoded)
        if progress is not None:
            progress(count)
    outcomes = [output.done[page] for page in chapter.pages]
    output.finish(chapter)
    return outcomes
