"""Is the 8-stroke gap of drawn styles the fill's? Hmix (deterministic) on each style with its own
fill (as used) and with the fill of the paper's threshold sketch (an oracle: the regions the
strokes were painted in). PSNR of the generator's picture, held-out faces."""
# run where the training commands of docs/experiment-c.md ran (runs/, faces256/): "Round five"
import sys
import numpy as np, tensorflow as tf
from common import cases, colorizer, psnr

N = int(sys.argv[1]) if len(sys.argv) > 1 else 60
c = colorizer(sys.argv[2] if len(sys.argv) > 2 else "Hmix")
to8 = lambda x: np.clip(np.rint((np.asarray(x) + 1) * 127.5), 0, 255)
res = {}
for i, ex, layer, gt, sketches in cases(c, N):
    _, thr_in, _ = c._generate(ex["sketch"], None, layer)
    for style, s in sketches:
        _, inputs, out = c._generate(s, None, layer)
        oracle = np.concatenate([np.asarray(inputs)[..., :5], np.asarray(thr_in)[..., 5:]], -1)
        out_o = c._predict(tf.constant(oracle[None]))[0]
        res.setdefault(style, []).append((psnr(to8(out), gt), psnr(to8(out_o), gt)))
for k, v in res.items():
    print("%-10s own fill %.2f  threshold's fill %.2f" % (k, *np.array(v).mean(0)))
