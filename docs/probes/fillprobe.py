"""Fill variants' quality on each sketch style: 8 region strokes (threshold regions, as the sweep),
filled into the style sketch's regions; coverage, |fill - truth| where filled, and the PSNR of the
fill pasted over Hmix's 0-stroke picture (held-out faces)."""
# run where the training commands of docs/experiment-c.md ran (runs/, faces256/): "Round five"
import sys
import cv2, numpy as np
from colorize import regions
from common import cases, colorizer, pasted, psnr

N = int(sys.argv[1]) if len(sys.argv) > 1 else 40
c = colorizer("Hmix")

def labels_of(sketch, k, grow):
    paper3 = regions.paper_np(sketch)  # the regions' own paper (3x3)
    paper = 1 - cv2.dilate(regions.ink_np(sketch), np.ones((k, k), np.uint8))
    _, lab = cv2.connectedComponents(paper, connectivity=4)
    lab = lab.astype(np.float32)
    for _ in range(grow):
        lab = np.where((lab == 0) & (paper3 > 0), cv2.dilate(lab, np.ones((3, 3), np.uint8)), lab)
    return lab.astype(np.int32)

def fill_mean(layer, lab):
    painted = layer[..., 3] > 0
    out = np.zeros(lab.shape + (3,)); mask = np.zeros(lab.shape, bool)
    for r in np.unique(lab[painted]):
        if r == 0: continue
        out[lab == r] = layer[..., :3][painted & (lab == r)].mean(0); mask |= lab == r
    return out, mask

def fill_near(layer, lab):
    painted = layer[..., 3] > 0
    out = np.zeros(lab.shape + (3,)); mask = np.zeros(lab.shape, bool)
    for r in np.unique(lab[painted]):
        if r == 0: continue
        region = lab == r; seeds = painted & region
        _, nl = cv2.distanceTransformWithLabels(np.where(seeds, 0, 255).astype(np.uint8), cv2.DIST_L2, 5,
                                                labelType=cv2.DIST_LABEL_PIXEL)
        ys, xs = np.nonzero(seeds); idx = np.zeros(nl.max() + 1, int); idx[nl[ys, xs]] = np.arange(len(ys))
        near = idx[nl]; out[region] = layer[ys[near[region]], xs[near[region]], :3]; mask |= region
    return out, mask

variants = {"d3": (3, 0, fill_mean), "d5": (5, 0, fill_mean), "d5g1": (5, 1, fill_mean),
            "d7g2": (7, 2, fill_mean), "near3": (3, 0, fill_near), "near5g1": (5, 1, fill_near)}
res = {}
for i, ex, layer, gt, sketches in cases(c, N):
    for style, s in sketches:
        o0 = c.colorize(s).astype(np.float64)
        for name, (k, g, f) in variants.items():
            out, m = f(layer, labels_of(s, k, g))
            res.setdefault((style, name), []).append((*pasted(out, m, gt, o0), psnr(o0, gt)))
for key, v in res.items():
    v = np.array(v).mean(0)
    print("%-10s %-8s covers %.3f err %.3f pasted %.2f (0-stroke %.2f)" % (*key, *v))
