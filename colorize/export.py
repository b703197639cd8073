"""`colorize export`: a run's generator for serving, always in deterministic mode.

Formats:
    keras       the float32 generator, (B, S, S, 4) sketch+cue in [-1, 1] -> (B, S, S, 3) in
                [-1, 1]; load it with `Colorizer.from_model` or `colorize predict --model`.
    savedmodel  signature `serving_default(sketch: uint8 [H, W, 1], cue: uint8 [h, w, 3])
                -> {"rgb": uint8 [H, W, 3]}` for any H, W (and any cue size of the sketch's aspect
                ratio; a 1x1 white cue is the no-cue case). Pre- and post-processing run in the
                graph: the any-size method of `colorize.anysize`, the same graph as the Python API.
    tflite      the generator at its fixed size, float32 [1, S, S, 4] -> [1, S, S, 3] (TFLite
                builtin ops only; the pre- and post-processing stay with the app).
Deterministic: dropout off and batch-norm moving averages (Keras `training=False`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

from colorize.errors import ColorizeError

FORMATS = {"keras": ".keras", "savedmodel": "", "tflite": ".tflite"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, metavar="RUN_DIR",
                        help="the run to export (its newest checkpoint)")
    parser.add_argument("--format", required=True, choices=tuple(FORMATS))
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="output file (.keras, .tflite) or folder (savedmodel)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing PATH")


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

    def serve(sketch, cue):
        inputs = anysize.model_input(sketch, cue, size, recipe.block_size, recipe.threshold_c)
        outputs = generator(inputs[None], training=False)[0]
        return {"rgb": anysize.composite(inputs, outputs, sketch)}

    return _archive(generator, serve, [tf.TensorSpec([None, None, 1], tf.uint8, name="sketch"),
                                       tf.TensorSpec([None, None, 3], tf.uint8, name="cue")])


def _write_keras(colorizer, path: str) -> None:
    from colorize import kernels

    kernels.stock(colorizer.generator).save(path)


def _write_savedmodel(colorizer, path: str) -> None:
    serving_archive(colorizer).write_out(path, verbose=False)


def _write_tflite(colorizer, path: str) -> None:
    import tensorflow as tf

    generator, size = colorizer.generator, colorizer.image_size
    archive = _archive(generator, lambda inputs: generator(inputs, training=False),
                       [tf.TensorSpec([1, size, size, 4], tf.float32, name="inputs")])
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as saved:
        archive.write_out(saved, verbose=False)
        model = tf.lite.TFLiteConverter.from_saved_model(saved).convert()
    with open(path, "wb") as f:
        f.write(model)


WRITERS = {"keras": _write_keras, "savedmodel": _write_savedmodel, "tflite": _write_tflite}


def export(run_dir: str, fmt: str, out: str, overwrite: bool = False) -> str:
    """Export the run's generator as `fmt` to `out`, atomically; returns `out`."""
    from colorize.infer import Colorizer

    suffix = FORMATS[fmt]
    if suffix and not out.endswith(suffix):
        raise ColorizeError(f"{out}: a {fmt} export must end with {suffix}")
    empty_folder = os.path.isdir(out) and not os.listdir(out)
    if os.path.exists(out) and not (overwrite or empty_folder):
        raise ColorizeError(f"{out}: exists (pass --overwrite to replace it)")
    colorizer = Colorizer.from_run(run_dir, test_mode="deterministic")
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        tmp = os.path.join(tmp_dir, "model" + suffix)
        WRITERS[fmt](colorizer, tmp)
        if os.path.isdir(out):  # os.replace swaps a file for a file, not folders
            shutil.rmtree(out)
        elif os.path.exists(out) and os.path.isdir(tmp):
            os.remove(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return out


def run(args: argparse.Namespace) -> int:
    path = export(args.run, args.format, args.out, args.overwrite)
    print(f"wrote {path} ({args.format}, deterministic mode)")
    return 0
