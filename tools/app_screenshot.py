"""The README's picture of `colorize app`: the page in headless Chromium, with a run's model, a
sketch and a hint layer, once the colorized picture is in. Either a colored picture opened as a
sketch (the page's "make the sketch with the training recipe") with strokes simulated from it, or
line art opened as it is, with strokes placed by hand (a JSON file of strokes per sketch name, as
the gallery notebook's `notebooks/lineart_strokes.json`).

    python tools/app_screenshot.py --run RUN_DIR --image COLORED.png --strokes 8 --out app.png
    python tools/app_screenshot.py --run RUN_DIR --lineart ../shared/anime/lineart/07.jpg \
        --out app-lineart.png

The simulated strokes are the training recipe's (`simulated_hint_layer`, fixed seed), so either
picture is made again by the same command; the page is driven as a user drives it (file
choosers, clicks).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile

from PIL import Image

from colorize import fileio
from colorize.app.choices import load_choices
from colorize.app.cli import serve
from colorize.app.handlers import CANVAS_SIDE
from colorize.experiments.strokes import simulated_hint_layer
from colorize.errors import ColorizeError
from colorize.gallery import stroke_layer
from colorize.infer import read_image

HAND_STROKES = os.path.join(os.path.dirname(__file__), "..", "notebooks", "lineart_strokes.json")
DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium"  # the binary behind Debian's /usr/bin/chromium
NEW_PICTURE = ("prev => { const img = document.querySelector('#output img');"
               " return img && img.complete && img.naturalWidth > 0 && img.src !== prev; }")


def hint_layer_for(image_path: str, strokes: int, seed: int):
    """An RGBA hint layer of `strokes` strokes simulated from a square colored picture."""
    rgb = read_image(image_path)
    if rgb.shape[0] != rgb.shape[1]:
        raise ColorizeError(f"{image_path}: strokes are simulated on square pictures, this one is "
                            f"{rgb.shape[1]}x{rgb.shape[0]}", reason="bad_value")
    return simulated_hint_layer(rgb, strokes, seed=seed)


def hand_hint_layer(sketch_path: str, strokes_file: str):
    """The RGBA hint layer, at the sketch's size, of the strokes `strokes_file` (JSON: file name
    -> strokes, as `colorize.gallery.stroke_layer` takes them) places on the sketch's name."""
    name = os.path.basename(sketch_path)
    try:
        with open(strokes_file) as f:
            strokes = json.load(f)
    except (OSError, ValueError) as err:
        raise ColorizeError(f"{strokes_file}: not a readable JSON file of strokes ({err})",
                            reason="bad_value") from None
    if not isinstance(strokes, dict):
        raise ColorizeError(f"{strokes_file}: not a JSON object of file name -> strokes",
                            reason="bad_value")
    if name not in strokes:
        raise ColorizeError(f"{strokes_file}: no strokes for {name} (its sketches: "
                            f"{', '.join(k for k in strokes if not k.startswith('_'))})",
                            reason="bad_value")
    shape = read_image(sketch_path).shape[:2]
    try:
        return stroke_layer(shape, strokes[name])
    except (KeyError, TypeError, ValueError) as err:
        raise ColorizeError(f"{strokes_file}: the strokes for {name} are not a list of "
                            f'{{"color", "width", "points"}} ({type(err).__name__}: {err})',
                            reason="bad_value") from None


def screenshot(browser, choices: dict, image_path: str, hints_path: str, canvas: int,
               viewport: tuple[int, int], reach: bool = False, recipe: bool = True) -> bytes:
    """PNG bytes of the whole page, in a Playwright `browser`, after it colorized `image_path`
    with the hint layer; with `reach`, after it then showed where the strokes reach. `recipe`:
    `image_path` is a colored picture, made into a sketch by the training recipe (else line art,
    taken as it is)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = serve(choices, "127.0.0.1", port, block=False, canvas=canvas)
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        if recipe:
            page.get_by_label("make the sketch with the training recipe").check()
        src = None
        for button, path in (("#open-sketch", image_path), ("#load-hints", hints_path)):
            with page.expect_file_chooser() as chooser:
                page.click(button)
            chooser.value.set_files(path)
            page.wait_for_function(NEW_PICTURE, arg=src, timeout=120_000)
            src = page.locator("#output img").get_attribute("src")
        if reach:
            page.click("#show-reach input")
            page.wait_for_function(NEW_PICTURE, arg=src, timeout=120_000)
        return page.screenshot(full_page=True)
    finally:
        page.close()
        server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="app_screenshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, metavar="RUN_DIR", help="the run the page offers")
    picture = parser.add_mutually_exclusive_group(required=True)
    picture.add_argument("--image", help="a square colored picture, made into a sketch by the "
                                         "training recipe, with --strokes simulated from it")
    picture.add_argument("--lineart", help="line art, opened as it is, with the strokes that "
                                           "--strokes-file places on its file name")
    parser.add_argument("--strokes", type=int, default=8,
                        help="simulated hint strokes, with --image (default %(default)s)")
    parser.add_argument("--strokes-file", default=os.path.normpath(HAND_STROKES),
                        help="strokes placed by hand, per sketch name, with --lineart "
                             "(default: notebooks/lineart_strokes.json)")
    parser.add_argument("--seed", type=int, default=0, help="the strokes' seed (default %(default)s)")
    parser.add_argument("--canvas", type=int, default=CANVAS_SIDE,
                        help="the editor's longest side (default %(default)s)")
    parser.add_argument("--viewport", type=int, nargs=2, default=(1400, 1000),
                        metavar=("WIDTH", "HEIGHT"), help="browser window (default 1400 1000)")
    parser.add_argument("--chromium", default=DEBIAN_CHROMIUM if os.path.isfile(DEBIAN_CHROMIUM)
                        else shutil.which("chromium"),
                        help="the browser binary (default: the system's Chromium)")
    parser.add_argument("--reach", action="store_true",
                        help="then tick 'show where the strokes reach' (a C run with the fill)")
    parser.add_argument("--out", required=True, help="the PNG to write")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    try:
        if not args.chromium:
            raise ColorizeError("no Chromium found (apt-get install chromium, or pass --chromium)",
                                reason="missing_dependency")
        hints = (hint_layer_for(args.image, args.strokes, args.seed) if args.image else
                 hand_hint_layer(args.lineart, args.strokes_file))
        choices = load_choices([args.run], [], test_modes=("deterministic",))
        if args.reach and not all(choice.fills for choice in choices.values()):
            raise ColorizeError(f"{args.run}: --reach needs a model told where its strokes "
                                "reach (experiment C with the fill)", reason="bad_value")
        with tempfile.TemporaryDirectory() as tmp:
            hints_path = os.path.join(tmp, "hints.png")
            Image.fromarray(hints, "RGBA").save(hints_path)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, headless=True)
                png = screenshot(browser, choices, args.image or args.lineart, hints_path,
                                 args.canvas, tuple(args.viewport), args.reach,
                                 recipe=bool(args.image))
                browser.close()
        fileio.write_bytes(args.out, png)
    except ColorizeError as err:
        print(f"app_screenshot: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
