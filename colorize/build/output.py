"""The dataset folder: shards, `rejected.jsonl` and `manifest.json`, staged and installed whole.

Its writers serve every producer of a dataset: both runners and `colorize merge-manifests`. A new
dataset is written into a staging folder inside the output and installed by renames, the manifest
last, so a reader who finds a manifest finds the whole dataset it lists. docs/data.md lists the
manifest's fields and the rejection reasons.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import sys
import tempfile
from typing import Callable, Iterable, Iterator

from colorize import __version__, fileio, records
from colorize.build.identity import Part, display_name
from colorize.errors import ColorizeError
from colorize.recipe import MANIFEST, BuildParams

REJECTED = "rejected.jsonl"
HISTOGRAM_BIN = 5  # percent of line pixels per complexity-histogram bin
STAGING_PREFIX = ".build-"  # the folder inside the output where a build stages its files


def is_url(path: str) -> bool:
    """Whether `path` starts with a scheme (`gs://...`), as Beam's `FileSystems` tells them."""
    return re.match(r"[a-zA-Z][-a-zA-Z0-9+.]*://", path) is not None


def complexity_histogram(complexities: Iterable[float]) -> list[int]:
    """Examples per HISTOGRAM_BIN percent of line pixels: the manifest's histogram counts."""
    counts = [0] * (100 // HISTOGRAM_BIN)
    for complexity in complexities:
        counts[min(int(complexity // HISTOGRAM_BIN), len(counts) - 1)] += 1
    return counts


def make_manifest(inputs: list[str], params: BuildParams, part: Part, counts: dict[str, int],
                  rejected: list[dict], histogram: list[int], n_files: int,
                  shards: dict[str, list[str]]) -> dict:
    """The manifest of a finished build (docs/data.md lists its fields)."""
    folders = [p if is_url(p) else os.path.abspath(p) for p in inputs]
    shown = [display_name(p) for p in folders]
    manifest = {
        "tool": "manga-colorize",
        "version": __version__,
        "inputs": shown,
        "part": {"index": part.index, "count": part.count},
        "params": dataclasses.asdict(params),
        "image_size": [params.size, params.size],
        "encodings": records.ENCODINGS,
        "counts": {"files": n_files, **counts, "rejected": len(rejected)},
        "rejected": _count_reasons(rejected),
        "complexity_histogram": {"bin_percent": HISTOGRAM_BIN, "counts": histogram},
        "shards": shards,
    }
    if shown != folders:  # names that are not UTF-8: their bytes too, losslessly
        manifest["inputs_hex"] = [os.fsencode(p).hex() for p in folders]
    return manifest


def _count_reasons(rejected: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rejected:
        counts[r["reason"]] = counts.get(r["reason"], 0) + 1
    return dict(sorted(counts.items()))


def manifest_inputs(manifest: dict) -> list[str]:
    """The exact input folders of a manifest (names that are not UTF-8 included)."""
    raw = manifest.get("inputs_hex")
    return manifest["inputs"] if raw is None else [os.fsdecode(bytes.fromhex(h)) for h in raw]


def rejected_jsonl(rejected: Iterable[dict]) -> str:
    """The text of `rejected.jsonl`: one JSON object per rejected file."""
    return "".join(json.dumps(r) + "\n" for r in rejected)


def write_manifest(folder: str, manifest: dict, rejected_text: str,
                   write_text: Callable[[str, str], None] | None = None) -> None:
    """`rejected.jsonl` (`rejected_text`), then `manifest.json` (last: it marks a dataset
    complete), with `write_text` (by default `fileio.write_text`: atomically); `folder` may be a
    URL then."""
    write_text = write_text or fileio.write_text
    write_text(os.path.join(folder, REJECTED), rejected_text)
    write_text(os.path.join(folder, MANIFEST), json.dumps(manifest, indent=2) + "\n")


def remove_dataset(out: str):
    """Delete what a previous build left in `out`: shards of any part, manifest, rejection list."""
    paths = [p for split in records.SPLITS for p in records.shard_paths(out, split)]
    for path in paths + [os.path.join(out, MANIFEST), os.path.join(out, REJECTED)]:
        if os.path.lexists(path):
            os.remove(path)


def _leftovers(out: str) -> list[str]:
    """What an interrupted build or merge left in `out`: staging folders and temporary files."""
    return [os.path.join(out, name) for name in os.listdir(out)
            if name.startswith(STAGING_PREFIX) or name in (f"{MANIFEST}.tmp", f"{REJECTED}.tmp")]


def prepare_output(out: str, overwrite: bool) -> bool:
    """Make `out` ready for a dataset; True if this call created it.

    A folder holding anything but an interrupted build's leftovers (which are removed) is refused
    unless `overwrite`; the dataset in it is replaced only once the new one is complete.
    """
    if os.path.exists(out) and not os.path.isdir(out):
        raise ColorizeError(f"{out}: exists and is not a folder", reason="not_a_folder")
    if not os.path.isdir(out):
        os.makedirs(out)
        return True
    for path in _leftovers(out):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
    if os.listdir(out) and not overwrite:
        raise ColorizeError(f"{out}: folder is not empty (use --overwrite to replace its dataset)",
                             reason="not_empty")
    return False


def install_dataset(staging: str, out: str) -> None:
    """Replace the dataset in `out` by the complete one in `staging` (a folder inside `out`).

    Only renames happen here, which need no space, so a full disk cannot leave half a dataset;
    the manifest moves last, so a reader never takes the folder for complete too early.
    """
    remove_dataset(out)
    names = sorted(os.listdir(staging), key=lambda name: name == MANIFEST)
    for name in names:
        os.replace(os.path.join(staging, name), os.path.join(out, name))
    os.rmdir(staging)


@contextlib.contextmanager
def staged_output(out: str, overwrite: bool) -> Iterator[str]:
    """A staging folder inside `out` for a new dataset, installed when the block ends cleanly.

    On any failure the staging folder goes (and `out` too, if this build created it), so the
    previous dataset stays whole and nothing partial is left; a full disk or another write
    error is a one-line `ColorizeError` naming `out`.
    """
    created = prepare_output(out, overwrite)
    installed = False
    try:
        staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out)
        try:
            yield staging
            install_dataset(staging, out)
            installed = True
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as err:
        raise ColorizeError(f"{out}: {err.strerror or err}", reason="write_failed") from err
    except Exception as err:
        tf = sys.modules.get("tensorflow")  # imported by the shard writer, if it ran
        if tf is not None and isinstance(err, tf.errors.OpError):  # e.g. a full disk under TF
            raise ColorizeError(f"{out}: {err.message}", reason="write_failed") from err
        raise
    finally:
        if created and not installed:
            shutil.rmtree(out, ignore_errors=True)
