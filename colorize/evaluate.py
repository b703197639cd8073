"""`colorize evaluate`: L1 / PSNR / SSIM of a run on a records split, beside two baselines.

Images are compared in [0, 1]; PSNR and SSIM are tf.image's with data range (max_val) 1.0, averaged
over images (PSNR of an exact match capped at 100 dB). The baselines are scored on the same images:
the stored cue itself as the output (what the blur alone gets right) and a flat white output.
`--compare RUN_A RUN_B` scores two runs on the same images and puts them side by side.
"""

from __future__ import annotations

import argparse
import json
import os

from colorize import fileio
from colorize.config import EXPERIMENTS, TEST_MODES
from colorize.errors import ColorizeError

DATA_RANGE = "images scaled to [0, 1]; PSNR and SSIM by tf.image with data range 1.0"
BASELINES = {"cue": "cue as output", "white": "flat white"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    runs = parser.add_mutually_exclusive_group(required=True)
    runs.add_argument("--run", metavar="RUN_DIR", help="the run to score (its newest checkpoint)")
    runs.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"),
                      help="score two runs on the same images, side by side")
    parser.add_argument("--data", metavar="RECORDS_DIR",
                        help="records folder from `colorize build`, of the run's image size "
                             "(default: the (first) run's training data)")
    parser.add_argument("--split", default="test", help="records split (default: test)")
    parser.add_argument("--experiment", choices=sorted(EXPERIMENTS), default=None,
                        help="the cue fed to the model: A all white, B the stored cue "
                             "(default: the run's)")
    parser.add_argument("--test-mode", choices=TEST_MODES, default=None,
                        help="default: the run's")
    parser.add_argument("--max-images", type=int, default=0, metavar="N",
                        help="score at most N images (0: all)")
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="where to write the results (default: RUN_DIR/evaluation-SPLIT-"
                             "EXPERIMENT.json in each run folder)")


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
    from colorize.train import Predictor

    generator, cfg = load_run(run_dir)
    records_dir = records_dir or cfg.data
    if not records_dir:
        raise ColorizeError(f"{run_dir}: its config names no records folder; pass --data")
    experiment = experiment or cfg.experiment
    test_mode = test_mode or cfg.test_mode
    use_cue = EXPERIMENTS[experiment]["use_cue"]
    # Read the stored cue whatever the experiment, for the cue baseline; A's model gets white.
    dataset = data.make_dataset(cfg.replace(use_cue=True), records_dir, split, training=False)
    predictor = Predictor(generator, test_mode)
    meters = {name: MeanMetrics() for name in ("model", *BASELINES)}
    for inputs, target in dataset:  # (B, S, S, 4), (B, S, S, 3)
        done = meters["model"].count
        if max_images and done >= max_images:
            break
        keep = max_images - done if max_images else None
        inputs, target = inputs[:keep], to_unit(target[:keep])
        cue = inputs[..., 1:]
        if not use_cue:
            inputs = tf.concat([inputs[..., :1], tf.ones_like(cue)], axis=-1)
        meters["model"].update(to_unit(predictor(inputs)), target)
        meters["cue"].update(to_unit(cue), target)
        meters["white"].update(tf.ones_like(target), target)
    results = {name: meter.result() for name, meter in meters.items()}
    images = results["model"].pop("images")
    for name in BASELINES:
        results[name].pop("images")
    return {"run": run_dir, "data": records_dir, "split": split, "experiment": experiment,
            "test_mode": test_mode, "images": images, "range": DATA_RANGE, "metrics": results}


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
    rows = [(r["run"], r["metrics"]["model"]) for r in results]
    rows += [(f"baseline: {label}", first["metrics"][name]) for name, label in BASELINES.items()]
    runs = "\n".join(f"  {r['run']}: experiment {r['experiment']}, {r['test_mode']} test mode"
                     for r in results)
    return (f"{format_table(rows)}\n{first['images']} images of {first['data']} "
            f"({first['split']} split); {DATA_RANGE}.\n{runs}")


def write_json(path: str, value: dict) -> None:
    fileio.write_text(path, json.dumps(value, indent=2) + "\n")


def run(args: argparse.Namespace) -> int:
    if args.max_images < 0:
        raise ColorizeError(f"--max-images must be at least 0, got {args.max_images}")
    runs = args.compare or [args.run]
    if args.json and os.path.isdir(args.json):
        raise ColorizeError(f"{args.json}: is a folder, expected a JSON file path")
    results, records_dir = [], args.data
    for run_dir in runs:  # the second run of --compare is scored on the first one's records
        results.append(evaluate_run(run_dir, records_dir, args.split, experiment=args.experiment,
                                    test_mode=args.test_mode, max_images=args.max_images))
        records_dir = results[-1]["data"]
    print(report(results))
    if args.json:
        write_json(args.json, results[0] if len(results) == 1 else {"runs": results})
        written = [args.json]
    else:
        written = [os.path.join(r["run"], f"evaluation-{r['split']}-{r['experiment']}.json")
                   for r in results]
        for path, result in zip(written, results):
            write_json(path, result)
    print("wrote " + ", ".join(written))
    return 0
