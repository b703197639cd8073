"""`colorize merge-manifests`: join the N parts of a `colorize build --part I/N` into one dataset.

The parts are checked to be the N parts of one build (same tool version, inputs and parameters,
every index exactly once, every shard present) before anything moves. Their shards keep their
part-tagged names, which never collide; counts, rejection reasons and histograms are summed, so the
joined manifest equals the manifest of one build of everything, shard names aside.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil

from colorize import records
from colorize.build import output
from colorize.errors import ColorizeError

SAME_IN_EVERY_PART = ("tool", "version", "inputs", "params", "image_size", "encodings")


def _load(part_dir: str) -> dict:
    path = os.path.join(part_dir, output.MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ColorizeError(f"{part_dir}: no {output.MANIFEST} (not a finished build)",
                            reason="no_manifest") from None
    except json.JSONDecodeError as err:
        raise ColorizeError(f"{path}: not valid JSON ({err})", reason="bad_manifest") from None


def _check_parts(part_dirs: list[str], manifests: list[dict]):
    """Raise ColorizeError unless the manifests are the complete parts of one build."""
    first = manifests[0]
    for part_dir, manifest in zip(part_dirs, manifests):
        for key in SAME_IN_EVERY_PART:
            if manifest.get(key) != first.get(key):
                raise ColorizeError(f"{part_dir}: its {key} differ from those of {part_dirs[0]}",
                                    reason="mismatched_parts")
        for name in manifest["shards"]["train"] + manifest["shards"]["test"] + [output.REJECTED]:
            if not os.path.isfile(os.path.join(part_dir, name)):
                raise ColorizeError(f"{part_dir}: {name} is missing", reason="incomplete_part")
    count = first["part"]["count"]
    indices = sorted(m["part"]["index"] for m in manifests)
    if any(m["part"]["count"] != count for m in manifests) or indices != list(range(count)):
        raise ColorizeError(f"need parts 0..{count - 1} of {count} once each, got parts "
                            f"{', '.join(str(i) for i in indices)}", reason="missing_parts")


def _joined(manifests: list[dict]) -> dict:
    """The manifest of the whole build: sums of the parts' counts, reasons and histograms."""
    joined = {key: manifests[0][key] for key in SAME_IN_EVERY_PART}
    joined["part"] = {"index": 0, "count": 1}
    joined["merged_parts"] = len(manifests)
    joined["counts"] = {key: sum(m["counts"][key] for m in manifests)
                        for key in manifests[0]["counts"]}
    reasons: dict[str, int] = {}
    for m in manifests:
        for reason, n in m["rejected"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    joined["rejected"] = dict(sorted(reasons.items()))
    histogram = manifests[0]["complexity_histogram"]
    joined["complexity_histogram"] = {
        "bin_percent": histogram["bin_percent"],
        "counts": [sum(column) for column in zip(*(m["complexity_histogram"]["counts"]
                                                   for m in manifests))]}
    joined["shards"] = {split: [name for m in manifests for name in m["shards"][split]]
                        for split in records.SPLITS}
    return joined


def merge_parts(part_dirs: list[str], out: str, *, link: bool = False,
                overwrite: bool = False) -> dict:
    """Move (or symlink, with `link`) the parts' shards into `out` and write the joined manifest."""
    manifests = [_load(d) for d in part_dirs]
    _check_parts(part_dirs, manifests)
    order = sorted(range(len(manifests)), key=lambda i: manifests[i]["part"]["index"])
    part_dirs, manifests = [part_dirs[i] for i in order], [manifests[i] for i in order]
    _refuse_a_part_as_output(part_dirs, out)
    moved = []
    with output.staged_output(out, overwrite) as staging:  # the parts stay whole until it is done
        rejected = []
        for part_dir, manifest in zip(part_dirs, manifests):
            for name in manifest["shards"]["train"] + manifest["shards"]["test"]:
                source, target = os.path.join(part_dir, name), os.path.join(staging, name)
                if link:
                    os.symlink(os.path.abspath(source), target)
                else:
                    _link_or_copy(source, target)
                    moved.append(source)
            with open(os.path.join(part_dir, output.REJECTED), encoding="utf-8") as f:
                rejected += f.readlines()
        joined = _joined(manifests)
        output.write_manifest(staging, joined, "".join(rejected))
    for source in moved:  # a move: the shards now live in `out` only
        os.remove(source)
    return joined


def _refuse_a_part_as_output(part_dirs: list[str], out: str) -> None:
    """Writing the merge into one of its parts would delete that part's shards before use."""
    target = os.path.realpath(out)
    for part_dir in part_dirs:
        if os.path.realpath(part_dir) == target:
            raise ColorizeError(f"{out}: is one of the parts; give the merge its own --out folder",
                                reason="overlaps_input")


def _link_or_copy(source: str, target: str) -> None:
    """A hard link where the file system allows one (no copy), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def add_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("parts", nargs="+", metavar="PART_DIR",
                        help="output folders of `colorize build --part I/N`, one per part")
    parser.add_argument("--out", required=True, metavar="RECORDS_DIR", help="the joined dataset")
    parser.add_argument("--link", action="store_true",
                        help="symlink the shards instead of moving them (the parts stay intact)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the dataset in a non-empty output folder")


def run(args: argparse.Namespace) -> int:
    joined = merge_parts(args.parts, args.out, link=args.link, overwrite=args.overwrite)
    counts = joined["counts"]
    print(f"{args.out}: {counts['train']} train + {counts['test']} test examples from "
          f"{joined['merged_parts']} parts, {counts['rejected']} rejected")
    return 0
