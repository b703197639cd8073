"""`colorize predict` of a chapter: a folder of pages or a .cbz in, a folder or a .cbz out.

`colorize.chapters` reads the chapter (refusing an archive that is not one), writes the output
and keeps the resume state; this module checks the command's inputs before any work, colorizes
each page, shows the progress and says what became of the pages. A page that cannot be read (or
whose cue cannot) fails alone: it is listed with its reason, copied unchanged, and the command
exits with status 1. A page already in color is copied unchanged unless --colorize-colored.
"""

from __future__ import annotations

import argparse
import os
import sys

import cv2
import numpy as np

from colorize import chapters
from colorize.errors import ColorizeError
from colorize.predict_cli import (PSD, check_layers, cue_option, load_colorizer,
                                  read_condition)
from colorize.runfolder import not_readable

SOME_PAGES_FAILED = 1  # the exit status when the chapter is done but some pages failed


def _stamp(path: str) -> list:
    """What identifies a file's version: its real path, size and modification time (the path
    alone for one that cannot be read: loading it says why)."""
    try:
        info = os.stat(path)
    except OSError:
        return [os.path.realpath(path)]
    return [os.path.realpath(path), info.st_size, info.st_mtime_ns]


def fingerprint(args: argparse.Namespace, chapter: chapters.Chapter) -> dict:
    """What the pages depend on: the chapter, the model, the cue option and the settings. A
    resumed run takes up the pages of an unfinished one only when they agree."""
    if isinstance(chapter, chapters.FolderChapter):
        source = [os.path.realpath(chapter.path)] + [
            [name, *_stamp(os.path.join(chapter.path, name))[1:]] for name in chapter.pages]
    else:
        source = _stamp(chapter.path)
    if args.run:
        index = os.path.join(args.run, "checkpoints", "checkpoint")  # the newest checkpoint
        model = ["run", os.path.realpath(args.run)] + (_stamp(index) if os.path.isfile(index)
                                                       else [])
    else:
        model = ["model", *_stamp(args.model)]
    option, value = cue_option(args)
    return {"chapter": source, "model": model,
            "cue": [option, os.path.realpath(value)] if value else None,
            "settings": {k: getattr(args, k) for k in ("test_mode", "precision", "lines",
                                                      "from_color", "colorize_colored", "format")}}


def _refuse_overlaps(args: argparse.Namespace, archive_out: bool) -> None:
    """The output (and a .cbz's work area beside it) is never an input nor among the inputs."""
    option, value = cue_option(args)
    inputs = {os.path.realpath(p) for p in (args.sketch, value) if p}
    folders = {p for p in inputs if os.path.isdir(p)}
    out = os.path.realpath(args.out)
    if out in inputs:
        raise ColorizeError(f"{args.out}: is one of the inputs; choose another --out",
                            reason="overlaps_input")
    if archive_out and os.path.dirname(out) in folders:
        raise ColorizeError(f"{args.out}: would be written into the input folder "
                            f"{os.path.dirname(args.out) or '.'}; choose another --out",
                            reason="overlaps_input")


def plan(args: argparse.Namespace) -> tuple[chapters.Chapter, chapters.Output, dict | str | None]:
    """The chapter (open), its output and its cues (a page key -> file dict for a folder of cues,
    one file for every page, or None), all checked before any work."""
    archive_out = chapters.is_archive(args.out)
    if archive_out and args.format:
        raise ColorizeError(f"--format: a .cbz keeps each page's name and format ({args.out})",
                            reason="conflicting")
    if not archive_out and os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ColorizeError(f"{args.out}: exists and is not a folder", reason="not_a_folder")
    if args.format == "psd":
        check_layers(args)
    option, value = cue_option(args)
    if value and not os.path.isdir(value) and not os.path.isfile(value):
        raise not_readable(value, "no such file or folder")
    _refuse_overlaps(args, archive_out)
    chapter = chapters.Chapter.open(args.sketch)  # an archive that is not a chapter: refused
    try:
        if not archive_out:  # a folder names colorized pages KEY.png
            keys = [chapters.page_key(p) for p in chapter.pages]
            if len(set(keys)) < len(keys):
                raise ColorizeError(f"{args.sketch}: several pages share a name (they would be "
                                    "written to the same output)", reason="name_clash")
        cues = chapters.cue_files(value) if value and os.path.isdir(value) else value
        output = chapters.Output(args.out, fingerprint(args, chapter), "." + (args.format or "png"))
    except BaseException:
        chapter.close()
        raise
    return chapter, output, cues


def encode(rgb: np.ndarray, extension: str) -> bytes:
    """An RGB picture encoded in the format of `extension` (OpenCV's defaults: JPEG quality 95)."""
    ok, data = cv2.imencode(extension, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ColorizeError(f"could not encode a picture as {extension}", reason="write_failed")
    return data.tobytes()


def page_function(args: argparse.Namespace, colorizer, cues) -> chapters.PageFn:
    """The function that turns one page's bytes into its colorized file's bytes (None: copy it)."""
    from colorize import psd, sketch

    def colorize_page(name: str, data: bytes, extension: str) -> bytes | None:
        try:
            image = sketch.load_image(data)
        except sketch.ImageError as err:
            raise ColorizeError(f"not a readable image ({err})", reason=err.reason) from None
        if not (args.from_color or args.colorize_colored) and chapters.in_color(image):
            return None
        lines = colorizer.sketchify(image) if args.from_color else image
        cue_path = cues.get(chapters.page_key(name)) if isinstance(cues, dict) else cues
        cue, hints = read_condition(args, colorizer, cue_path)  # its errors name the file
        try:
            if extension == PSD:
                layers = colorizer.colorize_layers(lines, cue, hints=hints)
            else:
                return encode(colorizer.colorize(lines, cue, hints=hints), extension)
        except ColorizeError as err:  # the cue's (its aspect ratio, a model that takes none)
            if cue_path:
                raise ColorizeError(f"{cue_path}: {err}", reason=err.reason) from None
            raise
        return psd.encode(layers, hints)

    return colorize_page


def run(args: argparse.Namespace) -> int:
    chapter, output, cues = plan(args)
    with chapter:
        return process(args, chapter, output, cues, load_colorizer(args))


def _entries(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


def process(args: argparse.Namespace, chapter: chapters.Chapter, output: chapters.Output, cues,
            colorizer, progress: bool = True) -> int:
    """Colorize a planned chapter (`plan`) with `colorizer`, say what became of its pages; the
    exit status."""
    from colorize.progress import progress_bar

    done_before = output.start()
    todo = len(chapter.pages) - done_before
    print(f"{args.sketch}: {len(chapter.pages)} pages" +
          (f", {done_before} done by an interrupted run, {todo} to go" if done_before else ""),
          flush=True)
    if chapter.skipped:
        print(f"{args.sketch}: skipped {_entries(len(chapter.skipped))} that are not pages: "
              f"{', '.join(chapter.skipped[:5])}{' ...' if len(chapter.skipped) > 5 else ''}")
    bar = progress_bar(todo, chief=True, unit="page") if todo and progress else None
    try:
        outcomes = chapters.colorize(chapter, output, page_function(args, colorizer, cues),
                                     (lambda n: bar.update(n, [])) if bar else None)
    except ColorizeError:
        if not output.done:
            output.discard()  # nothing done: no partial output
        raise
    except KeyboardInterrupt:
        print(f"colorize predict: {len(output.done)} of {len(chapter.pages)} pages are done "
              "and kept; the same command resumes", file=sys.stderr)
        raise
    failed = [(page, o) for page, o in zip(chapter.pages, outcomes) if o.status == chapters.FAILED]
    counts = {s: sum(o.status == s for o in outcomes)
              for s in (chapters.COLORIZED, chapters.PASSED)}
    passed = counts[chapters.PASSED]
    print(f"{args.sketch} -> {args.out}: {counts[chapters.COLORIZED]} pages colorized"
          + (f", {passed} already in color copied unchanged (--colorize-colored colorizes them)"
             if passed else "") + (f", {len(failed)} failed" if failed else "")
          + f" ({colorizer.test_mode} mode)")
    for page, outcome in failed:
        kept = "copied unchanged" if outcome.out else "left out"
        print(f"colorize predict: {args.sketch}: {page}: {outcome.message} ({kept})",
              file=sys.stderr)
    return SOME_PAGES_FAILED if failed else 0
