"""`colorize predict`: colorize a sketch, or a chapter of them (a folder or a .cbz), at their own
sizes, with optional cues; as pictures or layered PSD files.

A cue option names one image (used for every sketch) or, with a chapter, a folder whose images are
matched to the pages by file name (without extension); a page without one gets none. Chapters are
read and written by `colorize.chapters` (failed pages recorded, colored pages copied, resumable).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from colorize import chapters, fileio
from colorize.errors import ColorizeError
from colorize.lines import LINES
from colorize.modes import PRECISIONS, TEST_MODES
from colorize.recipe import IMAGE_EXTENSIONS
from colorize.runfolder import not_readable, require_file

CUE_OPTIONS = ("cue", "hints", "cue_from")
PSD = ".psd"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--run", metavar="RUN_DIR", help="a training run (its newest checkpoint)")
    model.add_argument("--model", metavar="FILE", help="a generator .keras file (training's "
                       "generator.keras or `colorize export --format keras`)")
    parser.add_argument("--sketch", required=True, metavar="IN",
                        help="an image, or a chapter: a folder of images or a .cbz (a zip of page "
                             "images): line art (0 = line, 255 = paper; gray and anti-aliased "
                             "are fine), any size")
    parser.add_argument("--from-color", action="store_true",
                        help="IN holds colored images: turn them into sketches with the training "
                             "recipe first")
    cue = parser.add_mutually_exclusive_group()
    cue.add_argument("--cue", metavar="IMG", help="a color cue image (blurred colors), any size")
    cue.add_argument("--hints", metavar="STROKES.png",
                     help="a hint layer: a PNG whose opaque pixels are rough color strokes")
    cue.add_argument("--cue-from", metavar="COLOR_REF",
                     help="a colored reference, blurred like the training cues")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="deterministic mode's arithmetic (auto: bfloat16 on CPUs that have it, "
                             "float16 on tensor-core GPUs, else float32; default: auto)")
    parser.add_argument("--lines", choices=LINES, default="auto",
                        help="how the output gets the sketch's size and lines: model (the "
                             "generator's picture, upsampled), guided (its colors and line colors "
                             "mixed by the sketch at full resolution), keep (the sketch's own "
                             "lines exactly, multiplied over flat colors), auto (keep for "
                             "colored line art and, with a run of several sketch styles, for "
                             "pencil, scanned or anti-aliased gray line art; else model at the "
                             "model's size and guided at others; default). See docs/inference.md")
    parser.add_argument("--test-mode", choices=TEST_MODES, default=None,
                        help="default: the run's (deterministic for --model)")
    parser.add_argument("--out", required=True, metavar="OUT",
                        help="output image (png, jpg, webp, bmp), or psd for a layered file; "
                             "for a chapter, a folder or a .cbz")
    parser.add_argument("--format", choices=("png", "psd"), default=None,
                        help="a chapter written to a folder: its colorized pages as png "
                             "(default) or layered psd files")
    parser.add_argument("--colorize-colored", action="store_true",
                        help="a chapter: colorize the pages that are already in color too "
                             "(by default they are copied unchanged)")


def list_images(folder: str) -> list[str]:
    """The images directly in a folder, sorted."""
    return sorted(os.path.join(folder, n) for n in os.listdir(folder)
                  if n.lower().endswith(IMAGE_EXTENSIONS) and not n.startswith("."))


def stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def check_extension(path: str) -> None:
    if os.path.splitext(path)[1].lower() not in (*IMAGE_EXTENSIONS, PSD):
        raise ColorizeError(f"{path}: unknown image extension (use one of "
                            f"{', '.join(IMAGE_EXTENSIONS)}, or {PSD} for a layered file)",
                            reason="unknown_extension")


def check_layers(args: argparse.Namespace) -> None:
    """A layered file's layers are those of `--lines keep`: no other way goes with it."""
    if args.lines not in ("auto", "keep"):
        raise ColorizeError(f"--lines {args.lines}: a PSD file holds the layers of --lines keep "
                            "(its flat colors and line art); leave --lines out",
                            reason="conflicting")
    from colorize import psd

    psd.require()  # psd-tools, before the model is loaded


def write_image(path: str, rgb: np.ndarray) -> None:
    """Write an RGB image atomically, in the format its extension names."""
    check_extension(path)
    try:
        fileio.write_image(path, rgb)
    except OSError as err:
        raise ColorizeError(str(err), reason="write_failed") from None


def cue_option(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The cue option given ("cue", "hints", "cue_from" or None) and its value."""
    option = next((k for k in CUE_OPTIONS if getattr(args, k)), None)
    return option, getattr(args, option) if option else None


def plan(args: argparse.Namespace) -> list[tuple[str, str | None, str]]:
    """(sketch, cue file or None, output) of one sketch, checked to exist before any work."""
    if not os.path.isfile(args.sketch):
        raise not_readable(args.sketch, "no such file or folder")
    if args.format:
        raise ColorizeError(f"--format is for chapters (a folder or a .cbz); the format of "
                            f"{args.out} is its extension", reason="conflicting")
    out = args.out
    if os.path.isdir(out):
        out = os.path.join(out, stem(args.sketch) + ".png")
    check_extension(out)
    if out.lower().endswith(PSD):
        check_layers(args)
    option, cue_arg = cue_option(args)
    jobs = [(args.sketch, _cue_for(args.sketch, cue_arg, option), out)]
    _refuse_overwriting_inputs(args, jobs)
    return jobs


def _refuse_overwriting_inputs(args: argparse.Namespace, jobs: list) -> None:
    """An output may never be one of the inputs, nor go into a folder of inputs (the artist's
    line art, cues and hint layers are never overwritten)."""
    inputs = {os.path.realpath(p) for job in jobs for p in job[:2] if p}
    folders = {os.path.realpath(p) for p in (args.sketch, *(getattr(args, k) for k in CUE_OPTIONS))
               if p and os.path.isdir(p)}
    for _, _, out in jobs:
        real = os.path.realpath(out)
        if real in inputs:
            raise ColorizeError(f"{out}: is one of the inputs; choose another --out",
                                reason="overlaps_input")
        if os.path.dirname(real) in folders:
            raise ColorizeError(f"{out}: would be written into the input folder "
                                f"{os.path.dirname(out) or '.'}; choose another --out",
                                reason="overlaps_input")


def _cue_for(sketch_path: str, cue_arg: str | None, option: str | None) -> str | None:
    """The cue file of one sketch: `cue_arg` itself, or its namesake in the folder `cue_arg`."""
    if cue_arg is None:
        return None
    if not os.path.isdir(cue_arg):
        if not os.path.isfile(cue_arg):  # missing, a broken link, a FIFO, a device
            raise not_readable(cue_arg, "no such file or folder")
        return cue_arg
    matches = [p for p in list_images(cue_arg) if stem(p) == stem(sketch_path)]
    if not matches:
        flag = "--" + option.replace("_", "-")
        raise ColorizeError(f"{cue_arg}: is a folder, with no image named {stem(sketch_path)}.* "
                            f"for the sketch {sketch_path} ({flag} takes an image file, or a "
                            "folder with a chapter)", reason="is_folder")
    require_file(matches[0])
    return matches[0]


def load_colorizer(args: argparse.Namespace):
    """The Colorizer of --run or --model (TensorFlow is imported here, once the inputs are sane)."""
    from colorize.infer import Colorizer

    if args.run:
        return Colorizer.from_run(args.run, test_mode=args.test_mode, precision=args.precision,
                                  lines=args.lines)
    return Colorizer.from_model(args.model, test_mode=args.test_mode or "deterministic",
                                precision=args.precision, lines=args.lines)


def read_condition(args: argparse.Namespace, colorizer, cue_path: str | None) -> tuple:
    """(cue, hints) of the cue option from `cue_path` (None, None without one)."""
    from colorize.infer import read_hints, read_image

    if cue_path and args.hints:
        return None, read_hints(cue_path)
    if cue_path and args.cue_from:
        return colorizer.cue_from_reference(read_image(cue_path)), None
    return (read_image(cue_path) if cue_path else None), None


def run(args: argparse.Namespace) -> int:
    if chapters.is_chapter(args.sketch):
        from colorize import predict_chapter

        return predict_chapter.run(args)
    from colorize import psd
    from colorize.infer import read_image

    jobs = plan(args)
    colorizer = load_colorizer(args)
    for sketch_path, cue_path, out_path in jobs:
        image = read_image(sketch_path)
        lines = colorizer.sketchify(image) if args.from_color else image
        cue, hints = read_condition(args, colorizer, cue_path)
        layered = out_path.lower().endswith(PSD)
        try:
            if layered:
                layers = colorizer.colorize_layers(lines, cue, hints=hints)
                rgb = layers.picture
            else:
                rgb = colorizer.colorize(lines, cue, hints=hints)
        except ColorizeError as err:
            raise ColorizeError(f"{cue_path or sketch_path}: {err}", reason=err.reason) from None
        os.makedirs(os.path.dirname(out_path) or ".", exist_ok=True)
        if layered:
            psd.write_psd(out_path, layers, hints)
        else:
            write_image(out_path, rgb)
        print(f"{sketch_path} -> {out_path} ({rgb.shape[1]}x{rgb.shape[0]}, "
              f"{colorizer.test_mode} mode{', layers' if layered else ''})")
    return 0
