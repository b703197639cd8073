"""Microseconds per call of the gathers in C's strokes and fill, boolean masks against flat indices,
on one shared face's largest region (docs/performance.md, "The strokes' numpy step"; measured
there with the flat indices of `_flat_index`, since replaced by `_pixel_index`'s, the same pixels).
Usage: python docs/probes/gathers.py (from the repository root)."""
import glob, timeit, cv2, numpy as np
from colorize.experiments import strokes as st
from colorize import sketch as S
f = sorted(glob.glob("../shared/anime/faces/*.jpg"))[3]
rgb = cv2.cvtColor(cv2.resize(cv2.imread(f), (256, 256)), cv2.COLOR_BGR2RGB)
sk = S.sketchify(rgb, 7, 2)[..., None].astype(np.float32) / 127.5 - 1
color = rgb.astype(np.float32) / 127.5 - 1
labels, stats, dist = st.line_regions(sk)
region = 1 + int(np.argmax(stats[1:, 4]))
x, y, w, h, area = stats[region]
inside = labels[y:y + h, x:x + w] == region
pixels = st._pixel_index(256, 256)
canvas = np.zeros((256, 256, 4), np.float32)
table = np.random.default_rng(0).random((labels.max() + 1, 4), dtype=np.float32)
hints = st.draw_region_strokes(color, sk, 8, np.random.default_rng(0).random((64, 5)), False)
painted = hints[..., 3] > 0.5
print(f"region {w}x{h}, {area} px; {painted.sum()} painted px")
pairs = {
    "region colors": ("color[y:y + h, x:x + w][inside]",
                      "np.take(color.reshape(-1, 3), pixels[y:y + h, x:x + w][inside], axis=0)"),
    "stroke write": ("canvas[y:y + h, x:x + w][inside] = (1.0, 2.0, 3.0, 1.0)",
                     "canvas.reshape(-1, 4)[pixels[y:y + h, x:x + w][inside]] = (1.0, 2.0, 3.0, 1.0)"),
    "painted hints": ("hints[painted]", "np.take(hints.reshape(-1, 4), np.flatnonzero(painted), axis=0)"),
    "fill table": ("table[labels]", "np.take(table, labels, axis=0)"),
}
for name, (mask, index) in pairs.items():
    a, b = (timeit.timeit(s, globals=globals(), number=300) / 300 * 1e6 for s in (mask, index))
    print(f"{name:14s} boolean mask / fancy {a:7.1f} us   flat index {b:7.1f} us")
