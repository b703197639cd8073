"""The ways to the input's size for a run on drawn line art (docs/inference.md "Which lines:
measured", 2026-12-06): `colorize evaluate --user-path --sketches STYLE --lines model guided keep`'s
scores (the same numbers: checked on four full-body images), with one generator pass per picture
instead of one per way, and a fourth way, "keep" with the sketch's levels stretched paper to white
(`anysize.paper_to_white`) before the multiply.

usage (from the folder holding runs/ and faces256/):
  python docs/probes/lineways.py RUN SOURCE STYLE [N]
SOURCE: a folder of colored images (scored at their own sizes), or "faces" (faces256's test
split, at the model's size); STYLE: recipe, xdog, lines or pencil; N: at most N images."""
import sys, json
import numpy as np, tensorflow as tf
from colorize import anysize, evaluate
from colorize.infer import Colorizer
from colorize.metrics import MeanMetrics

run, source, style = sys.argv[1:4]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 0
c = Colorizer.from_run(run, test_mode="deterministic")
cases = evaluate._user_cases(c.conditioning)
rec, img = ("faces256", None) if source == "faces" else (None, source)

def keep_stretched(inputs, outputs, sketch):
    gray, shape, _, _, colors, paper = anysize._window(inputs, outputs, sketch)
    white = anysize.paper_to_white(tf.cast(gray, tf.float32))
    return anysize._to_uint8(anysize._flat(colors, paper, shape) * (white / 255.0))

ways = {w: tf.function(lambda i, o, s, w=w: anysize.composite(i, o, s, lines=w)) for w in ("model", "guided", "keep")}
ways["keep-stretched"] = tf.function(keep_stretched)
meters = {(w, k): MeanMetrics() for w in ways for k in cases}
for index, (_, ex) in enumerate(evaluate.user_examples(rec, "test", img, c, n, style)):
    target = ex["color"][None].astype(np.float32) / 255.0
    for k, hints in cases.items():
        image, inputs, outputs = c._generate(ex["sketch"], None, hints(ex, index).get("hints"))
        for w, f in ways.items():
            meters[w, k].update(f(inputs, outputs, image).numpy()[None].astype(np.float32) / 255.0, target)
out = {f"{w}{k}": m.result() for (w, k), m in meters.items()}
print(run, source, style, json.dumps({k: (round(v["psnr"], 2), round(v["ssim"], 4)) for k, v in out.items()}))
