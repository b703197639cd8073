"""Is the 8-stroke gap of drawn styles the fill's? Hmix (deterministic) on each style with its own
fill (as used) and with the fill of the paper's threshold sketch (an oracle: the regions the
strokes were painted in). PSNR of the generator's picture, held-out faces."""
# run where the training commands of docs/experiment-c.md ran (runs/, faces256/): "Round five"
import sys
import numpy as np, tensorflow as tf
from colorize.infer import Colorizer
from colorize.evaluate import user_examples
from colorize import sketch_styles, regions
from colorize.experiments.strokes import region_hint_layer

N = int(sys.argv[1]) if len(sys.argv) > 1 else 60
run = sys.argv[2] if len(sys.argv) > 2 else "Hmix"
c = Colorizer.from_run(f"runs/{run}", test_mode="deterministic")
psnr = lambda a, b: float(tf.image.psnr(a.astype(np.float32) / 255, b.astype(np.float32) / 255, 1.0))
to8 = lambda x: np.clip(np.rint((np.asarray(x) + 1) * 127.5), 0, 255)
res = {}
for i, (_, ex) in enumerate(user_examples("faces256", "test", None, c, N)):
    layer = region_hint_layer(ex["color"], ex["sketch"], 8, seed=i)
    gt = ex["color"].astype(np.float64)
    _, thr_in, _ = c._generate(ex["sketch"], None, layer)
    for style in ("threshold", "xdog", "lines", "pencil"):
        s = sketch_styles.sketch_of(style, ex["color"], ex["sketch"], seed=i)
        _, inputs, out = c._generate(s, None, layer)
        oracle = np.concatenate([np.asarray(inputs)[..., :5], np.asarray(thr_in)[..., 5:]], -1)
        out_o = c._predict(tf.constant(oracle[None]))[0]
        res.setdefault(style, []).append((psnr(to8(out), gt), psnr(to8(out_o), gt)))
for k, v in res.items():
    print("%-10s own fill %.2f  threshold's fill %.2f" % (k, *np.array(v).mean(0)))
