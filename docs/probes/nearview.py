"""The README's real sketches and strokes (notebooks/lineart_strokes.json) with one more stroke, a
light background color down the picture's left edge (what an artist paints to stop a flood), and
the fill two ways: per sketch, the strokes over the sketch, then the fill (white: none) and the
generator's picture with the fill as trained (each region its strokes' mean), and with each
region's pixels the color of their nearest stroke (nearprobe.nearest_fill).
Usage: python nearview.py RUN LINEART_DIR OUT.png"""
import json
import sys
import numpy as np
import tensorflow as tf
from colorize import gallery
from colorize.experiments.base import over
from colorize.infer import Colorizer
from nearprobe import nearest_fill

run, lineart, out = sys.argv[1:4]
c = Colorizer.from_run(run, test_mode="deterministic")
STROKES = __file__.rsplit("/docs/", 1)[0] + "/notebooks/lineart_strokes.json"
spec = {k: v + [{"color": [205, 215, 230], "width": 0.03,
                 "points": [[0.03, 0.04], [0.03, 0.25], [0.03, 0.45]]}]
        for k, v in json.load(open(STROKES)).items() if not k.startswith("_")}
tmp = out + ".strokes.json"
json.dump(spec, open(tmp, "w"))
to8 = lambda a: np.clip((np.asarray(a) + 1) * 127.5, 0, 255).astype(np.uint8)
rows = []
for name, sketch, hints in gallery.lineart_examples(lineart, tmp):
    _, inputs, _ = c._generate(sketch, None, hints)
    x = np.asarray(inputs)
    row = [over(hints, sketch.mean(axis=2).astype(np.uint8))]
    for fill in (x[..., 5:], nearest_fill(x[..., 1:5], x[..., :1])):
        y = np.concatenate([x[..., :5], fill], -1)
        row += [to8(fill[..., :3] * fill[..., 3:] + (1 - fill[..., 3:])),
                to8(c._predict(tf.constant(y[None]))[0])]
    rows.append(row)
fig = gallery.image_grid(rows, ["strokes", "fill as trained", "picture", "nearest stroke",
                                "picture"], [r for r in spec], cell=3.0)
fig.savefig(out, dpi=80)
print("wrote", out)
