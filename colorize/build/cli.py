"""`colorize build`: its flags, and the run on the chosen runner with a one-line summary."""

from __future__ import annotations

import argparse
import os

from colorize import sketch
from colorize.build import beam, local
from colorize.build.output import REJECTED
from colorize.build.identity import Part
from colorize.errors import ColorizeError
from colorize.recipe import BuildParams


def add_arguments(parser: argparse.ArgumentParser):
    d = BuildParams()
    parser.add_argument("inputs", nargs="+", metavar="IMAGES_DIR",
                        help="folders searched recursively for jpg, jpeg, png, webp and bmp files")
    parser.add_argument("--out", required=True, metavar="RECORDS_DIR", help="output folder")
    parser.add_argument("--size", type=int, default=d.size,
                        help="side of the square triplets (default %(default)s)")
    parser.add_argument("--crop", choices=sketch.CROPS, default=d.crop,
                        help="auto: top of portrait, middle of landscape images; center: middle "
                             "(default %(default)s)")
    parser.add_argument("--block-size", type=int, default=d.block_size,
                        help="adaptive-threshold neighbourhood, odd (default %(default)s)")
    parser.add_argument("--threshold-c", type=float, default=d.threshold_c,
                        help="adaptive-threshold offset C (default %(default)s)")
    parser.add_argument("--max-complexity", type=float, default=d.max_complexity,
                        help="reject sketches with more than this percent of line pixels "
                             "(default %(default)s)")
    parser.add_argument("--cue-sigma", type=float, default=d.cue_sigma,
                        help="Gaussian sigma of the color cue, in pixels (default %(default)s)")
    parser.add_argument("--min-size", type=int, default=d.min_size,
                        help="reject images whose short side is smaller than this many pixels "
                             "(default %(default)s)")
    parser.add_argument("--min-color-percent", type=float, default=d.min_color_percent,
                        help=f"reject as gray images with fewer percent of pixels of chroma >= "
                             f"{sketch.CHROMA_LEVEL} (default %(default)s)")
    parser.add_argument("--keep-gray", action="store_true", help="do not reject gray images")
    parser.add_argument("--test-fraction", type=float, default=d.test_fraction,
                        help="share of images (by content hash) in the test split "
                             "(default %(default)s)")
    parser.add_argument("--shard-size", type=int, default=d.shard_size,
                        help="examples per shard, at most (default %(default)s)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: all cores)")
    parser.add_argument("--part", type=_part_argument, default=Part(), metavar="I/N",
                        help="build only part I (0-based) of N, chosen by content hash; join the "
                             "parts with `colorize merge-manifests` (default: 0/1, the whole)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the dataset in a non-empty output folder")
    parser.add_argument("--runner", choices=("local", "beam"), default="local",
                        help="local: worker processes on this machine (default); beam: an Apache "
                             "Beam pipeline (docs/distributed.md), the same dataset")
    parser.add_argument("--beam-option", action="append", default=[], metavar="OPTION",
                        help="a Beam pipeline option for --runner beam, e.g. "
                             "--beam-option=--runner=FlinkRunner (repeatable)")


def _part_argument(text: str) -> Part:
    try:
        index, count = (int(v) for v in text.split("/"))
        return Part(index, count)
    except (ValueError, ColorizeError):
        raise argparse.ArgumentTypeError(f"expected I/N with 0 <= I < N, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    params = BuildParams(
        size=args.size, crop=args.crop, block_size=args.block_size, threshold_c=args.threshold_c,
        max_complexity=args.max_complexity, cue_sigma=args.cue_sigma, min_size=args.min_size,
        min_color_percent=args.min_color_percent, keep_gray=args.keep_gray,
        test_fraction=args.test_fraction, shard_size=args.shard_size)
    if args.runner == "beam":
        if args.part.count != 1:
            raise ColorizeError("--part is for the local runner; Beam spreads the work itself",
                                reason="conflicting")
        manifest = beam.build_dataset(args.inputs, args.out, params, beam_args=args.beam_option,
                                      workers=args.workers, overwrite=args.overwrite)
    else:
        manifest = local.build_dataset(args.inputs, args.out, params, workers=args.workers,
                                       overwrite=args.overwrite, part=args.part)
    counts = manifest["counts"]
    reasons = ", ".join(f"{reason}: {n}" for reason, n in manifest["rejected"].items())
    summary = (f"{counts['train']} train + {counts['test']} test examples, "
               f"{counts['rejected']} rejected" + (f" ({reasons})" if reasons else ""))
    if counts["train"] + counts["test"] == 0 and args.part.count == 1:
        raise ColorizeError(f"{args.out}: no usable images ({summary}); reasons per file are in "
                            f"{os.path.join(args.out, REJECTED)}", reason="all_rejected")
    print(f"{args.out}: {summary}")
    return 0
