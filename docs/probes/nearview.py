"""The README's real sketches and strokes (notebooks/lineart_strokes.json) with one more stroke, a
light background color down the picture's left edge (what an artist paints to stop a flood), and
the fill two ways: per sketch, the strokes over the sketch, then the fill (white: none) and the
generator's picture with the fill as trained (each region its strokes' mean), and with each
region's pixels the color of their nearest stroke (nearprobe.nearest_fill).
Usage: python nearview.py RUN LINEART_DIR OUT.png"""
import json
import os
import sys
import numpy as np
from colorize import gallery
from colorize.sketch import load_image
from colorize.experiments.base import over
from colorize.infer import Colorizer
from common import fill_cells
from nearprobe import nearest_fill

run, lineart, out = sys.argv[1:4]
c = Colorizer.from_run(run, test_mode="deterministic")
STROKES = __file__.rsplit("/docs/", 1)[0] + "/notebooks/lineart_strokes.json"
BACKGROUND = {"color": [205, 215, 230], "width": 0.03,
              "points": [[0.03, 0.04], [0.03, 0.25], [0.03, 0.45]]}
rows, names = [], []
for name, strokes in json.load(open(STROKES)).items():
    if name.startswith("_") or not os.path.exists(os.path.join(lineart, name)):
        continue
    sketch = load_image(os.path.join(lineart, name))
    hints = gallery.stroke_layer(sketch.shape[:2], strokes + [BACKGROUND])
    _, inputs, _ = c._generate(sketch, None, hints)
    x = np.asarray(inputs)
    rows.append([over(hints, sketch.mean(axis=2).astype(np.uint8))]
                + fill_cells(c, x, x[..., 5:])
                + fill_cells(c, x, nearest_fill(x[..., 1:5], x[..., :1])))
    names.append(name)
fig = gallery.image_grid(rows, ["strokes", "fill as trained", "picture", "nearest stroke",
                                "picture"], names, cell=3.0)
fig.savefig(out, dpi=80)
print("wrote", out)
