"""`colorize build`: folders of images -> sharded TFRecords of (sketch, cue, color) triplets.

The builder in layers; a module imports only from rows below its own (`process` and `output` not
from each other):

    cli                  the `colorize build` command: flags, the chosen runner, the summary
    local     beam       the runners: worker processes on this machine, or an Apache Beam pipeline
    process   output     one file's work and verdict | the dataset folder (`colorize.merge` too)
    identity             the content hash: split, part, Beam shard group; names in JSON

Both runners call the same per-file work (`process`) and write through the same `output`, so they
build the same dataset. Everything that depends on an image's identity (duplicates,
train/test split, `--part`) is decided by the SHA-1 of its file bytes, never by its position or
name. See docs/data.md for the format, the rejection reasons and the manifest fields, and
docs/distributed.md for the Beam runner.

Here: the local build as a library call, `build_dataset(inputs, out, params)`, and what goes
with it.
"""

from colorize.build.identity import Part
from colorize.build.local import build_dataset
from colorize.build.output import HISTOGRAM_BIN, MANIFEST, REJECTED
from colorize.build.process import find_images, usable_cores
from colorize.recipe import BuildParams

__all__ = ["BuildParams", "HISTOGRAM_BIN", "MANIFEST", "Part", "REJECTED", "build_dataset",
           "find_images", "usable_cores"]
