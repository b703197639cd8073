"""The `colorize` command: one subcommand per module, imported only when it is run.

Each command module exposes `add_arguments(parser)` and `run(args) -> int`. Importing lazily keeps
`colorize --help` and the TensorFlow-free commands (scrape, demo-data) fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from colorize import __version__
from colorize.errors import ColorizeError
from colorize.tfquiet import quiet_tensorflow

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo-data": ("colorize.demo", "generate procedural cel-shaded stand-in illustrations"),
    "build": ("colorize.build.cli", "build sketch/cue/color triplets into sharded TFRecords"),
    "scrape": ("colorize.scrape.cli", "download tagged illustrations from Danbooru or Safebooru"),
    "train": ("colorize.train_cli", "train pix2pix (same as mainv3.py)"),
    "predict": ("colorize.predict_cli", "colorize sketches of any size, with optional cues"),
    "evaluate": ("colorize.evaluate", "L1 / PSNR / SSIM of a run on held-out records"),
    "export": ("colorize.export", "export a run's generator for serving"),
    "merge-manifests": ("colorize.merge", "join the parts of a dataset built with --part i/n"),
    "app": ("colorize.app.cli",
            "a local web page: paint color hints over a sketch, see it colorized"),
}


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="colorize",
        description="pix2pix colorization of manga and anime line art.",
        epilog="Run `colorize COMMAND --help` for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"manga-colorize {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    quiet_tensorflow()  # before a command imports TensorFlow
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        _top_parser().parse_args(argv)  # prints help / usage errors and exits
        return 2
    name, rest = argv[0], argv[1:]
    module = importlib.import_module(COMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"colorize {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    try:
        return int(module.run(args) or 0)
    except ColorizeError as err:
        print(f"colorize {name}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"colorize {name}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
