"""The README's real sketches and strokes (notebooks/lineart_strokes.json) with the fill's regions
closed at radius R (gapprobe.closed_labels): per sketch, the sketch as the model sees it, then per
R (0: as used) the fill (white: none) and the generator's picture.
Usage: python gapview.py RUN LINEART_DIR OUT.png R [R ...] [--names A.jpg ...]"""
import sys
import cv2, numpy as np
from colorize import gallery, regions
from colorize.infer import Colorizer
from common import fill_cells, to8
from gapprobe import closed_labels

args = sys.argv[1:]
names = args[args.index("--names") + 1:] if "--names" in args else []
args = args[:args.index("--names")] if "--names" in args else args
run, lineart, out, radii = args[0], args[1], args[2], [int(r) for r in args[3:]]
c = Colorizer.from_run(run, test_mode="deterministic")
STROKES = __file__.rsplit("/docs/", 1)[0] + "/notebooks/lineart_strokes.json"
rows = []
for name, sketch, hints in gallery.lineart_examples(lineart, STROKES):
    if names and name not in names:
        continue
    _, inputs, _ = c._generate(sketch, None, hints)
    x = np.asarray(inputs)
    row = [np.repeat(to8(x[..., :1]).astype(np.uint8), 3, -1)]
    for r in radii:
        row += fill_cells(c, x, x[..., 5:] if r == 0 else regions.fill_np(
            x[..., 1:5], x[..., :1], labels=closed_labels(x[..., :1], r)))
    rows.append(np.hstack(row))
cv2.imwrite(out, cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
