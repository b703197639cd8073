"""Capped geodesic fill: each stroke's color spreads through the paper (4-neighbours, lines block)
for R steps; a pixel reached at once from several takes their mean. Coverage, error, and the fill
pasted over Hmix's 0-stroke picture, per style (held-out faces)."""
# run where the training commands of docs/experiment-c.md ran (runs/, faces256/): "Round five"
import sys
import numpy as np
from colorize import regions
from common import cases, colorizer, pasted, spread

N = int(sys.argv[1]) if len(sys.argv) > 1 else 40
c = colorizer("Hmix")

def geo(layer, sketch, radii):
    paper = regions.paper_np(sketch).astype(bool)
    filled = (layer[..., 3] > 0) & paper
    col = np.where(filled[..., None], layer[..., :3].astype(np.float32), 0)
    out = {}
    for step, col, filled in spread(col, filled, paper):
        if step in radii:
            out[step] = (col.copy(), filled.copy())
        if step >= max(radii):
            break
    for r in radii:  # the spread ended before these: it stays as it is
        out.setdefault(r, (col.copy(), filled.copy()))
    return out

R = [8, 16, 32, 64, 128]
res = {}
for i, ex, layer, gt, sketches in cases(c, N):
    for style, s in sketches:
        o0 = c.colorize(s).astype(np.float64)
        for r, (out, m) in geo(layer, s, R).items():
            res.setdefault((style, r), []).append(pasted(out, m, gt, o0))
for key, v in sorted(res.items()):
    print("%-10s R=%-4d covers %.3f err %.3f pasted %.2f" % (*key, *np.array(v).mean(0)))
