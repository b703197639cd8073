"""Round nine's figure (docs/images/fill-flood.png): for the README's real sketches and strokes
(notebooks/lineart_strokes.json), what a C run is given and gives at its size: the sketch as
prepared, the strokes' fill (white: no fill), the generator's picture.
Usage: python fillview.py RUN LINEART_DIR OUT.png [NAME...] (default: every sketch there)"""
import sys
import cv2, numpy as np
from colorize import gallery
from colorize.infer import Colorizer

run, lineart, out, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
c = Colorizer.from_run(run, test_mode="deterministic")
to8 = lambda a: np.clip((np.asarray(a) + 1) * 127.5, 0, 255).astype(np.uint8)
rows = []
for name, sketch, hints in gallery.lineart_examples(lineart, "notebooks/lineart_strokes.json"):
    if names and name not in names:
        continue
    _, inputs, picture = c._generate(sketch, None, hints)  # (S, S, 9), (S, S, 3)
    x = np.asarray(inputs)
    filled = x[..., 8:9]  # the fill's mask, after sketch, strokes (4) and fill colors (3)
    rows.append(np.hstack([np.repeat(to8(x[..., :1]), 3, -1),
                           to8(x[..., 5:8] * filled + (1 - filled)), to8(picture)]))
cv2.imwrite(out, cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
