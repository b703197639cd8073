"""Round nine's figure (docs/images/fill-flood.png): for the README's real sketches and strokes
(notebooks/lineart_strokes.json), what a C run is given and gives at its size: the sketch as
prepared, the strokes' fill (white: no fill), the generator's picture. With `--close R ...` (round
seventeen), then per R the fill with the lines' gaps closed at radius R (gapprobe.closed_labels)
and the generator's picture given that fill.
Usage: python fillview.py RUN LINEART_DIR OUT.png [NAME...] [--close R ...] (default: every
sketch there)"""
import os
import sys
import cv2, numpy as np
from colorize import gallery, regions
from colorize.infer import Colorizer
from common import with_fill
from gapprobe import closed_labels

args = sys.argv[1:]
radii = [int(r) for r in args[args.index("--close") + 1:]] if "--close" in args else []
args = args[:args.index("--close")] if "--close" in args else args
run, lineart, out, names = args[0], args[1], args[2], args[3:]
c = Colorizer.from_run(run, test_mode="deterministic")
STROKES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "notebooks",
                       "lineart_strokes.json")
to8 = lambda a: np.clip((np.asarray(a) + 1) * 127.5, 0, 255).astype(np.uint8)
# a fill (S, S, 4) over white paper (white: no fill), and a picture
cells = lambda fill, picture: [to8(fill[..., :3] * fill[..., 3:] + (1 - fill[..., 3:])),
                               to8(picture)]
rows = []
for name, sketch, hints in gallery.lineart_examples(lineart, STROKES):
    if names and name not in names:
        continue
    _, inputs, picture = c._generate(sketch, None, hints)  # (S, S, 9), (S, S, 3)
    x = np.asarray(inputs)  # sketch, strokes (4), then the fill: colors (3) and mask
    row = [np.repeat(to8(x[..., :1]), 3, -1)] + cells(x[..., 5:], picture)
    for r in radii:
        fill = regions.fill_np(x[..., 1:5], x[..., :1], labels=closed_labels(x[..., :1], r))
        row += cells(fill, with_fill(c, x, fill))
    rows.append(np.hstack(row))
cv2.imwrite(out, cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
