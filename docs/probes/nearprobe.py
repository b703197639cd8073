"""Use-time probe (round nine): each pixel of a touched region takes the color of the nearest
stroke through the paper (geodesic Voronoi) instead of the region's mean stroke color, the mask
unchanged, given to a run trained with the mean fill. PSNR of the generator's picture, 8 strokes
one per region and 16 random strokes (several per region), held-out faces, each style.
Usage: python nearprobe.py N_FACES RUN"""
# run where the training commands of docs/experiment-c.md ran (runs/, faces256/): "Round nine"
import sys
import numpy as np, tensorflow as tf
from colorize import regions
from colorize.experiments.strokes import simulated_hint_layer
from common import cases, colorizer, psnr, spread

N = int(sys.argv[1]); c = colorizer(sys.argv[2])
to8 = lambda x: np.clip(np.rint((np.asarray(x) + 1) * 127.5), 0, 255)

def nearest(inputs):
    x = np.array(inputs[0] if np.ndim(inputs) == 4 else inputs)
    paper = regions.paper_np(x[..., :1]).astype(bool)
    filled = (x[..., 4] > 0.5) & paper
    col = np.where(filled[..., None], x[..., 1:4], 0).astype(np.float32)
    target = x[..., 8] > 0.5
    for _, col, filled in spread(col, filled, paper):
        pass  # to the end: every pixel the paper joins to a stroke
    x[..., 5:8] = np.where((target & filled)[..., None], col, x[..., 5:8])
    return x

res = {}
for i, ex, layer, gt, sketches in cases(c, N):
    rnd = simulated_hint_layer(ex["color"], 16, i)
    for style, s in sketches:
        for name, lay in (("region8", layer), ("random16", rnd)):
            _, inputs, out = c._generate(s, None, lay)
            o = c._predict(tf.constant(nearest(inputs)[None]))[0]
            res.setdefault((style, name, "mean"), []).append(psnr(to8(out), gt))
            res.setdefault((style, name, "nearest"), []).append(psnr(to8(o), gt))
for k, v in sorted(res.items()):
    print(sys.argv[2], "%-10s %-9s %-8s %.2f" % (*k, np.mean(v)), flush=True)
