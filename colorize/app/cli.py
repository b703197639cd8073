"""The `colorize app` command: the models loaded once, then the page served on this machine."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile

from colorize.app.limits import CANVAS_SIDE, MAX_UPLOAD_BYTES
from colorize.errors import ColorizeError
from colorize.modes import PRECISIONS

# the Gradio releases the page is tested with, as setup.cfg's app pin (docs/app.md)
TESTED_GRADIO = ">=6.31,<6.32"
# requests in flight: one decodes its uploads or encodes its picture while another's model call
# runs (Steps.model_lock keeps model calls one at a time)
CONCURRENT_REQUESTS = 2
# Gradio keeps a copy of every picture the page shows (one per stroke, a few MB at 2048 px): every
# 10 minutes, the copies older than an hour go, so that a long painting session does not fill
# the disk (the page's own files, `Pictures`, keep only the newest few)
CACHE_CLEANUP = (600, 3600)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", action="append", default=[], metavar="RUN_DIR",
                        help="a training run to offer (its newest checkpoint); repeatable")
    parser.add_argument("--model", action="append", default=[], metavar="FILE",
                        help="a generator .keras file to offer; repeatable")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=7860,
                        help="port to serve on (default %(default)s)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="deterministic mode's arithmetic (default: auto, as predict)")
    parser.add_argument("--canvas", type=int, default=CANVAS_SIDE, metavar="PIXELS",
                        help="the painting canvas's longest side (default %(default)s); the "
                        "sketch keeps its full size on the server, and so does the picture")


def import_gradio():
    """Gradio, with its usage analytics off; a one-line ColorizeError when it is not installed."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        import gradio
    except ImportError:
        raise ColorizeError('the app needs Gradio: pip install "manga-colorize[app]" (or, in a '
                            'clone, pip install -e ".[app]")',
                            reason="missing_dependency") from None
    return gradio


def untested_gradio(version: str) -> str | None:
    """The start-up warning for a Gradio `version` outside the tested ones, else None."""
    from packaging.specifiers import SpecifierSet  # a dependency of Gradio's

    if SpecifierSet(TESTED_GRADIO).contains(version, prereleases=True):
        return None
    return (f"colorize app: warning: Gradio {version} is not one the page is tested with "
            f"(gradio{TESTED_GRADIO}): the editor may misbehave (docs/app.md)")


def serve(choices: dict, host: str = "127.0.0.1", port: int = 7860, block: bool = True,
          canvas: int = CANVAS_SIDE, cache: tuple[int, int] = CACHE_CLEANUP):
    """Launch the page (never a share tunnel; Pillow refuses more than the page's cap in this
    process from now on); with block=False return the running Blocks. `cache`: every `cache[0]`
    seconds, Gradio deletes the copies it made of the page's files older than `cache[1]` s."""
    import_gradio()
    from colorize.app.layout import launch_code
    from colorize.app.uploads import limit_pillow
    from colorize.app.wiring import build_page

    limit_pillow()
    tmp = tempfile.mkdtemp(prefix="colorize-app-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # its pictures and saved hint layers
    page = build_page(choices, tmp, canvas, cache)
    page.queue(default_concurrency_limit=CONCURRENT_REQUESTS)
    page.launch(server_name=host, server_port=port, share=False, inbrowser=False,
                max_file_size=MAX_UPLOAD_BYTES, allowed_paths=[tmp], show_error=True,
                **launch_code(), prevent_thread_lock=not block, quiet=not block, ssr_mode=False,
                footer_links=["gradio", "settings"])  # no "Use via API": the page is the app
    return page


def run(args: argparse.Namespace) -> int:
    gradio = import_gradio()
    warning = untested_gradio(gradio.__version__)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    if not args.run and not args.model:
        raise ColorizeError("give at least one --run RUN_DIR or --model FILE",
                            reason="missing_value")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"colorize app: warning: binding {args.host}: anyone who can reach this machine on "
              "the network can use the page", file=sys.stderr)
    if args.canvas < 64:
        raise ColorizeError(f"--canvas {args.canvas}: give at least 64 pixels", reason="bad_value")
    from colorize.app.choices import load_choices  # TensorFlow: after the arguments are checked

    choices = load_choices(args.run, args.model, args.precision)
    print(f"colorize app: {len(choices)} model(s) loaded; serving http://{args.host}:{args.port}",
          flush=True)
    serve(choices, args.host, args.port, canvas=args.canvas)
    return 0
