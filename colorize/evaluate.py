"""`colorize evaluate`: L1 / PSNR / SSIM of a run on a records split, beside two baselines.

Images are compared in [0, 1]; PSNR and SSIM are tf.image's with data range (max_val) 1.0, averaged
over images (PSNR of an exact match capped at 100 dB). The baselines are scored on the same images:
the stored cue itself as the output (what the blur alone gets right) and a flat white output.
`--compare RUN_A RUN_B` scores two runs on the same images and puts them side by side.

`--user-path` also scores what `colorize predict` hands the user: `Colorizer.colorize` on the
sketch and what the experiment takes (B: the cue), at the image's own size, once per `--lines`
way, beside the raw generator. `--images DIR` does it on a folder of colored images of any size:
each is sketchified with the training recipe at its own size, its cue made from itself, and the
output compared with it ("lines model" is then the generator's picture upsampled, bicubic).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import NamedTuple

from colorize import experiments, fileio, sketch_styles
from colorize.config import PRECISIONS, TEST_MODES
from colorize.errors import ColorizeError
from colorize.hint_sweep import PROTOCOLS, STROKES
from colorize.lines import LINES
from colorize.runfolder import RunFolder, not_readable

DATA_RANGE = "images scaled to [0, 1]; PSNR and SSIM by tf.image with data range 1.0"
BASELINES = {"cue": "cue as output", "white": "flat white"}
# the user path's line art: the recipe's black lines, colored lines, or a drawn style of
# `sketch_styles` (made from the color image at its own size, as the style sweep makes them)
SKETCHES = ("recipe", "colored") + tuple(s for s in sketch_styles.STYLES if s != "threshold")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    runs = parser.add_mutually_exclusive_group(required=True)
    runs.add_argument("--run", metavar="RUN_DIR", help="the run to score (its newest checkpoint)")
    runs.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"),
                      help="score two runs on the same images, side by side")
    runs.add_argument("--hint-sweep", nargs="+", metavar="RUN_DIR",
                      help="score runs (A, B, C) against 0-32 strokes simulated from each held-"
                           "out image, through Colorizer.colorize; writes a table and a plot")
    runs.add_argument("--style-sweep", nargs="+", metavar="RUN_DIR",
                      help="score runs on the held-out images with their sketches made in each "
                           "of --sketch-styles, through Colorizer.colorize, with no hints and "
                           "(runs that read strokes) 8 strokes one per region; writes a table")
    parser.add_argument("--sketch-styles", default=",".join(sketch_styles.STYLES),
                        metavar="STYLES",
                        help="--style-sweep's styles, comma-separated (default: "
                             f"{','.join(sketch_styles.STYLES)})")
    parser.add_argument("--strokes", nargs="+", type=int, default=list(STROKES), metavar="N",
                        help="--hint-sweep's stroke counts (default: "
                             f"{' '.join(map(str, STROKES))})")
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS),
                        help="--hint-sweep's ways of painting strokes: random (as training "
                             "simulates them), regions (one inside each of the largest "
                             "line-bounded regions, in its color, as a person paints them) "
                             "(default: both)")
    parser.add_argument("--data", metavar="RECORDS_DIR",
                        help="records folder from `colorize build`, of the run's image size "
                             "(default: the (first) run's training data)")
    parser.add_argument("--split", default="test", help="records split (default: test)")
    parser.add_argument("--experiment", choices=tuple(experiments.EXPERIMENTS), default=None,
                        help="the conditioning fed to the model (A all white, B the stored cue, "
                             "...; one with the model's input channels; default: the run's)")
    parser.add_argument("--test-mode", choices=TEST_MODES, default=None,
                        help="default: the run's")
    parser.add_argument("--max-images", type=int, default=0, metavar="N",
                        help="score at most N images (0: all)")
    parser.add_argument("--user-path", action="store_true",
                        help="also score Colorizer.colorize (what `colorize predict` gives) at the "
                             "images' own size, per --lines")
    parser.add_argument("--images", metavar="DIR", default=None,
                        help="score the user path on colored images of any size instead of "
                             "records (sketch and cue made from each image)")
    parser.add_argument("--lines", nargs="+", choices=LINES, default=list(LINES[1:]),
                        help="the Colorizer's ways to the image's size to score (default: model "
                             "guided keep)")
    parser.add_argument("--sketches", choices=SKETCHES, default="recipe",
                        help="the user path's line art: the recipe's black sketch, colored "
                             "line art (the image's own colors on the sketch's lines, white "
                             "paper), or a drawn style of --style-sweep's, made at the image's "
                             "own size (default: recipe)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="the user path's precision, as `colorize predict` (default: auto)")
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="where to write the results, a .json file (default: RUN_DIR/"
                             "evaluation-SPLIT-EXPERIMENT.json in each run folder)")
    parser.add_argument("--plot", metavar="PATH", default=None,
                        help="--hint-sweep's plot, a .png file (default: the JSON's path with "
                             ".png for .json)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier result of evaluate named by --json or --plot "
                             "(never any other file) (default: refuse to replace)")


def evaluate_run(run_dir: str, records_dir: str | None = None, split: str = "test", *,
                 experiment: str | None = None, test_mode: str | None = None,
                 max_images: int = 0) -> dict:
    """Mean metrics of the run's generator and of the two baselines over the split.

    records_dir: default, the run's training data.
    """
    import tensorflow as tf

    from colorize import data
    from colorize.infer import load_run
    from colorize.metrics import MeanMetrics, to_unit
    from colorize.predictor import Predictor

    generator, cfg = load_run(run_dir)
    records_dir = records_dir or cfg.data
    if not records_dir:
        raise ColorizeError(f"{run_dir}: its config names no records folder; pass --data",
                            reason="missing_value")
    experiment = experiment or cfg.experiment
    test_mode = test_mode or cfg.test_mode
    cfg = cfg.replace(experiment=experiment)
    if cfg.conditioning.input_channels != generator.input_shape[-1]:
        raise ColorizeError(f"{run_dir}: its generator takes {generator.input_shape[-1]} input "
                            f"channels, experiment {experiment} gives {cfg.conditioning.input_channels}",
                            reason="wrong_model")
    # The stored cue comes along whatever the experiment, for the cue baseline.
    dataset = data.make_dataset(cfg, records_dir, split, training=False, keep_cue=True)
    predictor = Predictor(generator, test_mode)
    baselines = {"cue": lambda cue, target: to_unit(cue),
                 "white": lambda cue, target: tf.ones_like(target)}
    names = [name for name in cfg.conditioning.baselines if name in BASELINES]
    meters = {name: MeanMetrics() for name in ("model", *names)}
    for inputs, target, cue in dataset:  # (B, S, S, C), (B, S, S, 3), (B, S, S, 3)
        done = meters["model"].count
        if max_images and done >= max_images:
            break
        keep = max_images - done if max_images else None
        inputs, target, cue = inputs[:keep], to_unit(target[:keep]), cue[:keep]
        meters["model"].update(to_unit(predictor(inputs)), target)
        for name in names:
            meters[name].update(baselines[name](cue, target), target)
    results = {name: meter.result() for name, meter in meters.items()}
    images = results["model"].pop("images")
    for name in names:
        results[name].pop("images")
    return {"run": run_dir, "data": records_dir, "split": split, "experiment": experiment,
            "test_mode": test_mode, "images": images, "range": DATA_RANGE, "metrics": results}


def colored_lines(sketch, color):
    """Colored line art: the color image (H, W, 3) on the sketch's (H, W) lines, white paper."""
    import numpy as np

    return np.where(sketch[..., None] < 128, color, np.uint8(255))


def user_examples(records_dir: str | None, split: str, images_dir: str | None, colorizer,
                  max_images: int, sketches: str = "recipe"):
    """(name, {"sketch", "cue", "color"} uint8) pairs: a records split as stored, or colored images
    of any size with their sketch and cue made as `colorize predict --from-color` makes them
    (`Colorizer.sketchify`, `cue_from_reference`).
    `sketches="colored"` gives colored line art instead of the black sketch, a drawn style's name
    that style's line art (`sketch_styles.sketch_of`, seeded by the image's index)."""
    examples = _user_examples(records_dir, split, images_dir, colorizer, max_images)
    for index, (name, ex) in enumerate(examples):
        if sketches != "recipe":
            ex["recipe_sketch"] = ex["sketch"]  # where `_user_cases` paints a person's strokes
            ex["sketch"] = (colored_lines(ex["sketch"], ex["color"]) if sketches == "colored"
                            else sketch_styles.sketch_of(sketches, ex["color"], seed=index))
        yield name, ex


def _user_cases(conditioning) -> dict:
    """{label suffix: (example, index) -> `Colorizer.colorize`'s hint arguments} of the user
    path: what the experiment takes at use time (B the cue), or for strokes none and a person's."""
    if not conditioning.takes_strokes:
        return {"": lambda ex, index: conditioning.example_hints(ex)}
    from colorize.experiments.strokes import region_hint_layer
    from colorize.style_sweep import HINTED

    return {", 0 strokes": lambda ex, index: {},
            f", {HINTED} strokes": lambda ex, index: {"hints": region_hint_layer(
                ex["color"], ex.get("recipe_sketch", ex["sketch"]), HINTED, seed=index)}}


def _user_examples(records_dir, split, images_dir, colorizer, max_images):
    from colorize.records import read_records

    if images_dir:
        from colorize.infer import read_image
        from colorize.predict_cli import list_images

        if not os.path.isdir(images_dir):
            raise not_readable(images_dir, "no such folder", folder=True)
        paths = list_images(images_dir)
        if not paths:
            raise ColorizeError(f"{images_dir}: no images in it", reason="no_images")
        for path in paths[:max_images or None]:
            rgb = read_image(path)
            yield path, {"sketch": colorizer.sketchify(rgb), "color": rgb,
                         "cue": colorizer.cue_from_reference(rgb)}
        return
    from colorize.records import shard_paths

    if not records_dir or not shard_paths(records_dir, split):
        raise ColorizeError(f"{records_dir}: no '{split}' records to score", reason="no_records")
    for i, ex in enumerate(read_records(records_dir, split)):
        if max_images and i >= max_images:
            return
        yield ex["source"], {"sketch": ex["sketch"][..., 0], "cue": ex["cue"], "color": ex["color"]}


def evaluate_user_path(run_dir: str, records_dir: str | None = None, split: str = "test", *,
                       images_dir: str | None = None, test_mode: str | None = None,
                       lines=LINES[1:], precision: str = "auto", max_images: int = 0,
                       sketches: str = "recipe") -> dict:
    """Mean metrics of `Colorizer.colorize` per way to the image's size, each output scored
    against the color image at the image's own size. A run that reads strokes (C) is scored with
    none and with `style_sweep.HINTED` strokes painted one per region of the recipe's sketch, as
    a person paints them (the style sweep's strokes: the same whatever `sketches` gives)."""
    import numpy as np

    from colorize.infer import Colorizer
    from colorize.metrics import MeanMetrics

    colorizer = Colorizer.from_run(run_dir, test_mode=test_mode, precision=precision)
    cases = _user_cases(colorizer.conditioning)
    meters = {(way, case): MeanMetrics() for way in lines for case in cases}
    sizes = set()
    for index, (_, ex) in enumerate(user_examples(records_dir, split, images_dir, colorizer,
                                                  max_images, sketches)):
        target = ex["color"][None].astype(np.float32) / 255.0
        sizes.add(ex["color"].shape[:2])
        for case, hints in cases.items():
            given = hints(ex, index)
            for way in lines:
                rgb = colorizer.colorize(ex["sketch"], lines=way, **given)
                meters[way, case].update(rgb[None].astype(np.float32) / 255.0, target)
    results = {f"user path, lines {way}{case}": meter.result()
               for (way, case), meter in meters.items()}
    images = next(iter(results.values())).pop("images")
    for r in results.values():
        r.pop("images", None)
    return {"images": images, "source": images_dir or f"{records_dir} ({split} split)",
            "sketches": sketches, "precision": precision, "test_mode": colorizer.test_mode,
            "sizes": sorted(f"{w}x{h}" for h, w in sizes)[:8], "metrics": results}


def format_table(rows: list[tuple[str, dict]]) -> str:
    """A fixed-width table of (label, {l1, psnr, ssim}) rows."""
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"{'':{width}}{'L1':>8}{'PSNR dB':>10}{'SSIM':>8}"]
    for label, m in rows:
        lines.append(f"{label:{width}}{m['l1']:8.4f}{m['psnr']:10.2f}{m['ssim']:8.4f}")
    return "\n".join(lines)


def report(results: list[dict]) -> str:
    """The metric table of one or more runs scored on the same images, with the baselines."""
    first = results[0]
    rows = []
    for r in results:
        rows.append((r["run"] if "user_path" not in r else f"{r['run']}: raw generator",
                     r["metrics"]["model"]))
        rows += list(r.get("user_path", {}).get("metrics", {}).items())
    rows += [(f"baseline: {label}", first["metrics"][name]) for name, label in BASELINES.items()
             if name in first["metrics"]]
    runs = "\n".join(f"  {r['run']}: experiment {r['experiment']}, {r['test_mode']} test mode"
                     for r in results)
    return (f"{format_table(rows)}\n{first['images']} images of {first['data']} "
            f"({first['split']} split); {DATA_RANGE}.\n{runs}")


PLOT_TAG = "colorize evaluate"  # the plot's PNG Software text: how a later evaluate knows it


def is_own_output(path: str, reserved: bool) -> bool:
    """Whether the file at `path` is a result evaluate wrote (its JSON, or its plot), so that it
    may be replaced. `reserved`: a name the run folder's layout keeps for evaluate, where plots
    written before the PNG tag count too. A run's own files never do (config.json has no
    metrics)."""
    if path.endswith(".png"):
        from PIL import Image

        try:
            with Image.open(path) as image:  # reads the header and text chunks, not the pixels
                return image.format == "PNG" and (reserved or image.info.get("Software") == PLOT_TAG)
        except (OSError, ValueError):  # UnidentifiedImageError is an OSError
            return False
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, ValueError, RecursionError):
        return False
    if not isinstance(value, dict):
        return False
    if "metrics" in value or "curves" in value:  # one run (or its user path), or a hint sweep
        return True
    runs = value.get("runs")  # --compare
    return isinstance(runs, list) and all(isinstance(r, dict) and "metrics" in r for r in runs)


class Output(NamedTuple):
    """A file evaluate will write: its path, the suffix its kind needs (.json or .png), and whether
    the run folder's layout reserves the name for evaluate (a default path)."""
    path: str
    suffix: str
    reserved: bool


def check_outputs(outputs: list[Output], overwrite: bool) -> None:
    """Refuse, before anything is scored, an output evaluate may not write, with one line.

    A path named by --json or --plot replaces an existing file only with `overwrite`; no path ever
    replaces a file evaluate did not write (a run's config.json, an unrelated picture), a folder or
    a link, and no two outputs share a file."""
    seen = {}
    for path, suffix, reserved in outputs:
        if os.path.isdir(path):
            raise ColorizeError(f"{path}: is a folder, expected a {suffix} file path",
                                reason="is_folder")
        if not path.endswith(suffix):
            raise ColorizeError(f"{path}: must end with {suffix}", reason="bad_value")
        real = os.path.realpath(path)
        if real in seen:
            raise ColorizeError(f"{path}: named for two outputs ({seen[real]} too); give each its "
                                "own with --json / --plot", reason="name_clash")
        seen[real] = path
        parent = os.path.dirname(os.path.abspath(path))
        if os.path.exists(parent) and not os.path.isdir(parent):
            raise ColorizeError(f"{path}: {parent} is not a folder", reason="not_a_folder")
        if not os.path.lexists(path):
            continue
        if os.path.islink(path):
            raise ColorizeError(f"{path}: is a link; refusing to replace it",
                                reason="not_regular_file")
        if not os.path.isfile(path):
            raise ColorizeError(f"{path}: is not a regular file", reason="not_regular_file")
        if not reserved and not overwrite:
            raise ColorizeError(f"{path}: exists (pass --overwrite to replace an earlier result "
                                "of colorize evaluate)", reason="exists")
        if not is_own_output(path, reserved):
            raise ColorizeError(f"{path}: exists and is not a result of colorize evaluate; "
                                "refusing to replace it", reason="not_ours")


def write_json(path: str, value: dict) -> None:
    _write(path, lambda: fileio.write_text(path, json.dumps(value, indent=2) + "\n"))


def _write(path: str, write) -> None:
    """Run `write` (atomic) into `path`'s folder, made if missing; an OSError is one line."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        write()
    except OSError as err:
        raise ColorizeError(f"{path}: could not write ({err.strerror or err})",
                            reason="write_failed") from None
def planned_outputs(args: argparse.Namespace) -> list[Output]:
    """The files this evaluation will write, known before anything is scored."""
    if args.plot and not args.hint_sweep:
        raise ColorizeError("--plot is --hint-sweep's (the other evaluations write no plot)",
                            reason="conflicting")
    if args.style_sweep:
        path = args.json or RunFolder.open(args.style_sweep[0]).evaluation(args.split,
                                                                           "style-sweep")
        return [Output(path, ".json", not args.json)]
    if args.hint_sweep:
        path = args.json or RunFolder.open(args.hint_sweep[0]).evaluation(args.split, "hint-sweep")
        plot = args.plot or os.path.splitext(path)[0] + ".png"
        return [Output(path, ".json", not args.json), Output(plot, ".png", not args.plot)]
    if args.json:
        return [Output(args.json, ".json", False)]
    if args.images:
        name = "user-path" if args.sketches == "recipe" else f"user-path-{args.sketches}"
        return [Output(RunFolder.open(args.run).evaluation("images", name), ".json", True)]
    return [Output(_default_json(run_dir, args), ".json", True)
            for run_dir in args.compare or [args.run]]


def _default_json(run_dir: str, args: argparse.Namespace) -> str:
    run = RunFolder.open(run_dir)
    return run.evaluation(args.split, args.experiment or run.config().experiment)


def _colorizers(args: argparse.Namespace, run_dirs: list[str]) -> dict:
    """{"<experiment> <run folder name>": Colorizer} of the runs, as `colorize predict` loads
    them."""
    from colorize.infer import Colorizer

    colorizers = {}
    for run_dir in run_dirs:
        c = Colorizer.from_run(run_dir, test_mode=args.test_mode, precision=args.precision)
        colorizers[f"{c.experiment} {os.path.basename(os.path.normpath(run_dir))}"] = c
    return colorizers


def run_style_sweep(args: argparse.Namespace, path: str) -> None:
    """`--style-sweep`: every run on the same held-out images, their sketches in each style."""
    from colorize import style_sweep

    try:
        styles = [name for name, _ in sketch_styles.parse(args.sketch_styles)]
    except ValueError as err:
        raise ColorizeError(f"--sketch-styles: {err}", reason="bad_value") from None
    colorizers = _colorizers(args, args.style_sweep)
    trained = {label: {name for name, _ in sketch_styles.parse(RunFolder(d).config().sketch_styles)}
               for label, d in zip(colorizers, args.style_sweep)}
    records_dir = args.data or RunFolder(args.style_sweep[0]).config().data
    examples = user_examples(records_dir, args.split, None, next(iter(colorizers.values())),
                             args.max_images)
    result = {"runs": args.style_sweep, "source": f"{records_dir} ({args.split} split)",
              "precision": args.precision,
              "trained": {label: sorted(names) for label, names in trained.items()},
              **style_sweep.style_sweep(colorizers, examples, styles)}
    print(style_sweep.format_styles(result, trained))
    print(f"{result['images']} images of {result['source']}; {DATA_RANGE}.")
    write_json(path, result)


def run_hint_sweep(args: argparse.Namespace, path: str, plot: str) -> None:
    """`--hint-sweep`: every run on the same held-out images and strokes; table, JSON and plot."""
    from colorize import hint_sweep

    if any(n < 0 for n in args.strokes):
        raise ColorizeError("--strokes must be at least 0", reason="bad_value")
    colorizers = _colorizers(args, args.hint_sweep)
    first = next(iter(colorizers.values()))
    records_dir = args.data or RunFolder(args.hint_sweep[0]).config().data
    examples = user_examples(records_dir, args.split, args.images, first, args.max_images)
    result = {"runs": args.hint_sweep, "source": args.images or f"{records_dir} ({args.split} split)",
              "precision": args.precision, "test_mode": first.test_mode,
              **hint_sweep.hint_sweep(colorizers, examples, strokes=sorted(set(args.strokes)),
                                      protocols=args.protocols)}
    for metric in ("psnr", "ssim", "l1", "adherence", "region_adherence"):
        print(hint_sweep.format_sweep(result, metric) + "\n")
    print(f"{result['images']} images of {result['source']}; {DATA_RANGE}; adherence: mean |output "
          "- stroke color| on the painted pixels.")
    write_json(path, result)
    _write(plot, lambda: hint_sweep.plot_sweep(result, plot, software=PLOT_TAG))


def run_user_path_on_images(args: argparse.Namespace, path: str) -> None:
    """`--images DIR`: the user path on a folder of colored pictures at their own sizes."""
    if args.compare:
        raise ColorizeError("--images scores one --run", reason="conflicting")
    result = {"run": args.run, **evaluate_user_path(
        args.run, images_dir=args.images, test_mode=args.test_mode, lines=args.lines,
        precision=args.precision, max_images=args.max_images, sketches=args.sketches)}
    print(format_table(list(result["metrics"].items())))
    print(f"{result['images']} images of {args.images} at their own sizes, {args.sketches} "
          f"sketches; {DATA_RANGE}.")
    write_json(path, result)


def run_records(args: argparse.Namespace, paths: list[str]) -> None:
    """`--run` / `--compare`: the raw generator (and --user-path) on a records split."""
    results, records_dir = [], args.data
    for run_dir in args.compare or [args.run]:  # the second run is scored on the first's records
        results.append(evaluate_run(run_dir, records_dir, args.split, experiment=args.experiment,
                                    test_mode=args.test_mode, max_images=args.max_images))
        records_dir = results[-1]["data"]
        if args.user_path:
            user = evaluate_user_path(run_dir, records_dir, args.split, test_mode=args.test_mode,
                                      lines=args.lines, precision=args.precision,
                                      max_images=args.max_images, sketches=args.sketches)
            results[-1]["user_path"] = user
    print(report(results))
    if args.json:  # one file, both runs in it for --compare
        write_json(args.json, results[0] if len(results) == 1 else {"runs": results})
    else:
        for path, result in zip(paths, results):
            write_json(path, result)


def run(args: argparse.Namespace) -> int:
    if args.max_images < 0:
        raise ColorizeError(f"--max-images must be at least 0, got {args.max_images}",
                            reason="bad_value")
    outputs = planned_outputs(args)
    check_outputs(outputs, args.overwrite)
    paths = [o.path for o in outputs]
    if args.style_sweep:
        run_style_sweep(args, *paths)
    elif args.hint_sweep:
        run_hint_sweep(args, *paths)
    elif args.images:
        run_user_path_on_images(args, *paths)
    else:
        run_records(args, paths)
    print("wrote " + ", ".join(paths))
    return 0
