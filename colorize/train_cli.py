"""`colorize train` and `mainv3.py`: flags -> TrainConfig -> train(), with the demo data as default.

With no --data, the built-in demo dataset is generated and built once (cached under
$COLORIZE_CACHE, default ./data) and the schedule is shortened to finish in about ten minutes on a
2-core CPU, unless --epochs or --steps-per-epoch are given. The architecture stays the paper's.
"""

from __future__ import annotations

import argparse
import os
import sys

from colorize.config import TrainConfig, add_config_arguments, config_from_args, given_values

DEMO_IMAGES = 600
DEMO_SCHEDULE = {"epochs": 2, "steps_per_epoch": 120}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resume", metavar="RUN_DIR",
                        help="continue a run from its newest checkpoint (flags given override its "
                             "config, e.g. --epochs)")
    add_config_arguments(parser)


def demo_records(image_size: int, log=print) -> str:
    """The cached demo dataset's records folder, generating and building it on first use."""
    from colorize import build, demo

    root = os.path.join(os.environ.get("COLORIZE_CACHE", "data"), f"demo-{image_size}")
    records_dir = os.path.join(root, "records")
    if os.path.exists(os.path.join(records_dir, "manifest.json")):
        log(f"Using the cached demo dataset in {records_dir}")
        return records_dir
    log(f"No --data given: generating {DEMO_IMAGES} procedural demo illustrations (a stand-in for "
        f"real art, see docs/demo-data.md) and building them into {records_dir} ...")
    images_dir = os.path.join(root, "images")
    demo.generate(images_dir, DEMO_IMAGES, seed=0, size=max(image_size, 256))
    build.build_dataset([images_dir], records_dir, build.BuildParams.for_size(image_size),
                        overwrite=True)
    return records_dir


def resolve_config(args: argparse.Namespace, log=print) -> TrainConfig:
    """The run's config: a resumed run's saved config, or the preset, flags, and demo defaults."""
    from colorize import train

    given = given_values(args)
    if args.resume:
        return train.config_for_resume(args.resume, **given)
    cfg = config_from_args(args)
    if cfg.out and train.has_checkpoints(cfg.out):
        log(f"{cfg.out} has checkpoints: resuming it")
        return train.config_for_resume(cfg.out, **given)
    if not cfg.data:
        schedule = {k: v for k, v in DEMO_SCHEDULE.items() if k not in given}
        if schedule:
            log(f"Demo schedule: {schedule} (give --epochs / --steps-per-epoch to change it)")
        cfg = cfg.replace(data=demo_records(cfg.image_size, log), **schedule)
    return cfg


def run(args: argparse.Namespace) -> int:
    from colorize import train

    cfg = resolve_config(args)
    changed = cfg.non_defaults()
    print("Config (non-default values): " + (", ".join(f"{k}={v!r}" for k, v in changed.items())
                                             or "none"))
    run_dir = train.train(cfg)
    if run_dir is None:  # a non-chief worker: the chief reports
        return 0
    print(f"Done. In {run_dir}:\n"
          f"  samples       {os.path.join(run_dir, 'samples')}\n"
          f"  metrics       {os.path.join(run_dir, 'metrics.jsonl')}\n"
          f"  TensorBoard   tensorboard --logdir {os.path.join(run_dir, 'logs')}\n"
          f"  generator     {os.path.join(run_dir, 'generator.keras')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of mainv3.py: the same as `colorize train`."""
    from colorize.cli import main as cli_main

    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])
