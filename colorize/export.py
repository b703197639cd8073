"""`colorize export`: a run's generator for serving, always in deterministic mode.

Formats (C is the experiment's input channels, 4 for A and B):
    keras       the float32 generator, (B, S, S, C) sketch+condition in [-1, 1] -> (B, S, S, 3) in
                [-1, 1]; load it with `Colorizer.from_model` or `colorize predict --model`.
    savedmodel  signature `serving_default(sketch: uint8 [H, W, 1 or 3], cue: uint8 [h, w, 3])
                -> {"rgb": uint8 [H, W, 3]}` for any H, W, a gray or RGB sketch (and any cue
                size of the sketch's aspect ratio; a 1x1 white cue is the no-cue case); the
                experiment's conditioning names the second input and its channels.
                Pre- and post-processing run in the graph: the any-size method of
                `colorize.anysize` with lines="auto", the same graph as `Colorizer.colorize`
                (RGB to gray, and "keep" for colored line art, decided in it).
    tflite      the generator at its fixed size, float32 [1, S, S, C] -> [1, S, S, 3] (TFLite
                builtin ops only; the pre- and post-processing stay with the app).
Deterministic: dropout off and batch-norm moving averages (Keras `training=False`).

`--overwrite` replaces only a previous export of the same format (recognized by its contents),
never a run folder or anything else; the new export is written beside it and renamed into place.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import zipfile

from colorize.errors import ColorizeError
from colorize.runfolder import RunFolder

FORMATS = {"keras": ".keras", "savedmodel": "", "tflite": ".tflite"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, metavar="RUN_DIR",
                        help="the run to export (its newest checkpoint)")
    parser.add_argument("--format", required=True, choices=tuple(FORMATS),
                        help="keras: the generator; savedmodel: uint8 images of any size in and "
                             "out (the any-size method in the graph); tflite: the generator at "
                             "its fixed size, float32 (docs/inference.md)")
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="output file (.keras, .tflite) or folder (savedmodel)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace PATH if it holds a previous export of the same format "
                             "(never a run folder or other files)")


def _archive(generator, fn, input_signature: list):
    """A Keras ExportArchive of the generator's variables with `fn` as its serving_default."""
    import keras

    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint("serving_default", fn, input_signature=input_signature)
    return archive


def serving_archive(colorizer):
    """The any-size method around the generator (deterministic), uint8 images in and out."""
    import tensorflow as tf

    from colorize import anysize

    size, recipe, generator = colorizer.image_size, colorizer.recipe, colorizer.generator
    cond = colorizer.conditioning

    def serve(sketch, condition):
        inputs = anysize.model_input(sketch, condition, size, cond, recipe.block_size,
                                     recipe.threshold_c, recipe.binary_sketches)
        outputs = generator(inputs[None], training=False)[0]
        return {"rgb": anysize.composite(inputs, outputs, sketch,
                                         drawn=not recipe.binary_sketches)}

    return _archive(generator, serve, [
        tf.TensorSpec([None, None, None], tf.uint8, name="sketch"),  # gray or RGB
        tf.TensorSpec([None, None, cond.serving_channels], tf.uint8, name=cond.serving_input)])


def _write_keras(colorizer, path: str) -> None:
    from colorize import kernels

    kernels.stock(colorizer.generator).save(path)


def _write_savedmodel(colorizer, path: str) -> None:
    serving_archive(colorizer).write_out(path, verbose=False)


def _write_tflite(colorizer, path: str) -> None:
    import tensorflow as tf

    generator, size = colorizer.generator, colorizer.image_size
    channels = colorizer.conditioning.input_channels
    archive = _archive(generator, lambda inputs: generator(inputs, training=False),
                       [tf.TensorSpec([1, size, size, channels], tf.float32, name="inputs")])
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as saved:
        archive.write_out(saved, verbose=False)
        model = tf.lite.TFLiteConverter.from_saved_model(saved).convert()
    with open(path, "wb") as f:
        f.write(model)


WRITERS = {"keras": _write_keras, "savedmodel": _write_savedmodel, "tflite": _write_tflite}


def is_export(path: str, fmt: str) -> bool:
    """Whether `path` holds an export of format `fmt` and nothing else, so it may be replaced."""
    if fmt == "savedmodel":
        if not os.path.isdir(path) or RunFolder.is_run(path):
            return False
        names = set(os.listdir(path))
        return "saved_model.pb" in names and names <= {"saved_model.pb", "variables", "assets",
                                                       "fingerprint.pb"}
    if not os.path.isfile(path):
        return False
    if fmt == "keras":
        try:
            with zipfile.ZipFile(path) as archive:
                return {"config.json", "metadata.json"} <= set(archive.namelist())
        except (OSError, zipfile.BadZipFile):
            return False
    with open(path, "rb") as f:  # a TFLite flatbuffer: its file identifier at bytes 4-8
        return f.read(8)[4:] == b"TFL3"


def _check_out(out: str, fmt: str, overwrite: bool) -> None:
    suffix = FORMATS[fmt]
    if suffix and not out.endswith(suffix):
        raise ColorizeError(f"{out}: a {fmt} export must end with {suffix}", reason="bad_value")
    if not os.path.lexists(out) or (os.path.isdir(out) and not os.listdir(out)):
        return
    if RunFolder.is_run(out):
        raise ColorizeError(f"{out}: is a run folder; export somewhere else", reason="not_ours")
    if not overwrite:
        raise ColorizeError(f"{out}: exists (pass --overwrite to replace a previous export)",
                            reason="exists")
    if os.path.islink(out) or not is_export(out, fmt):
        raise ColorizeError(f"{out}: not a previous {fmt} export, refusing to replace it "
                            "(--overwrite replaces only an export of the same format)",
                            reason="not_ours")


def export(run_dir: str, fmt: str, out: str, overwrite: bool = False) -> str:
    """Export the run's generator as `fmt` to `out`, atomically; returns `out`."""
    from colorize.infer import Colorizer

    out = os.path.normpath(out)
    _check_out(out, fmt, overwrite)
    colorizer = Colorizer.from_run(run_dir, test_mode="deterministic", precision="float32")
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        tmp = os.path.join(tmp_dir, "model" + FORMATS[fmt])
        try:
            WRITERS[fmt](colorizer, tmp)
        except OSError as err:
            raise ColorizeError(f"{out}: could not write the export ({err})",
                                reason="write_failed") from None
        if os.path.isdir(out):  # os.replace swaps a file for a file, not folders
            os.replace(out, os.path.join(tmp_dir, "previous"))  # removed with tmp_dir
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return out


def run(args: argparse.Namespace) -> int:
    path = export(args.run, args.format, args.out, args.overwrite)
    print(f"wrote {path} ({args.format}, deterministic mode)")
    return 0
