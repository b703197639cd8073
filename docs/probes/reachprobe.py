"""Use-time probe (round nine): the region fill cut to R px (4-neighbour steps through the
paper) from the strokes, given to a run trained with the whole-region fill. PSNR of the
generator's picture, 8 strokes one per region, held-out faces, each style.
Usage: python reachprobe.py N_FACES RUN"""
# run where the training commands of docs/experiment-c.md ran (runs/, faces256/): "Round nine"
import sys
import cv2, numpy as np, tensorflow as tf
from colorize import regions
from common import cases, colorizer, psnr

N = int(sys.argv[1]); c = colorizer(sys.argv[2]); RS = [0, 64, 32]
CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)
to8 = lambda x: np.clip(np.rint((np.asarray(x) + 1) * 127.5), 0, 255)

def reach(inputs, r):
    x = np.array(inputs[0] if np.ndim(inputs) == 4 else inputs)
    paper = regions.paper_np(x[..., :1]).astype(np.uint8)
    m = ((x[..., 4] > 0.5) & (paper > 0)).astype(np.uint8)
    for _ in range(r):
        m = cv2.dilate(m, CROSS) & paper
    x[..., 5:9] *= m[..., None]
    return x

res = {}
for i, ex, layer, gt, sketches in cases(c, N):
    for style, s in sketches:
        _, inputs, out = c._generate(s, None, layer)
        for r in RS:
            o = out if r == 0 else c._predict(tf.constant(reach(inputs, r)[None]))[0]
            res.setdefault((style, r), []).append(psnr(to8(o), gt))
for k, v in sorted(res.items()):
    print(sys.argv[2], "%-10s R=%-3d %.2f" % (*k, np.mean(v)), flush=True)
