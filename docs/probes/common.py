"""What the round-five probes share: a run in C's deterministic test mode, PSNR of uint8-range
pictures, and the held-out faces with the sweep's 8 strokes one per region (painted in the paper's
sketch's regions) and each face's sketch in every style, as `colorize evaluate --style-sweep`
makes them."""
import cv2
import numpy as np
import tensorflow as tf

from colorize import sketch_styles
from colorize.evaluate import user_examples
from colorize.experiments.strokes import region_hint_layer
from colorize.infer import Colorizer

STYLES = ("threshold", "xdog", "lines", "pencil")


def colorizer(run: str) -> Colorizer:
    return Colorizer.from_run(f"runs/{run}", test_mode="deterministic")


def psnr(a, b) -> float:
    return float(tf.image.psnr(np.float32(a) / 255, np.float32(b) / 255, 1.0))


def cases(c: Colorizer, n: int, strokes: int = 8):
    """(index, example, hint layer, truth as float64), then (style, sketch) per style, for `n`
    held-out faces of faces256."""
    for i, (_, ex) in enumerate(user_examples("faces256", "test", None, c, n)):
        layer = region_hint_layer(ex["color"], ex["sketch"], strokes, seed=i)
        sketches = [(style, sketch_styles.sketch_of(style, ex["color"], ex["sketch"], seed=i))
                    for style in STYLES]
        yield i, ex, layer, ex["color"].astype(np.float64), sketches


def pasted(out, mask, truth, picture) -> tuple[float, float, float]:
    """A fill (colors `out`, where `mask`) against the truth: its coverage, its mean absolute error
    where it covers (0-1), and the PSNR of it pasted over `picture` where it covers."""
    err = np.abs(out - truth)[mask].mean() / 255 if mask.any() else 0.0
    return mask.mean(), err, psnr(np.where(mask[..., None], out, picture), truth)


CROSS = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.float32)  # the 4 neighbours


def spread(colors, filled, paper):
    """Colors (S, S, 3) where `filled` spread through `paper` (bools), one 4-neighbour step at a
    time, a pixel reached at once from several taking their mean: yields (step, colors, filled)
    from step 0 until a step reaches nothing new (the arrays change in place between yields)."""
    step = 0
    while True:
        yield step, colors, filled
        total = cv2.filter2D(colors, -1, CROSS, borderType=cv2.BORDER_CONSTANT)
        count = cv2.filter2D(filled.astype(np.float32), -1, CROSS,
                             borderType=cv2.BORDER_CONSTANT)
        new = paper & ~filled & (count > 0)
        if not new.any():
            return
        colors[new] = total[new] / count[new][:, None]
        filled |= new
        step += 1


def to8(x):
    """A model-space image [-1, 1] in the uint8 range, as floats (what `psnr` takes)."""
    return np.clip(np.rint((np.asarray(x) + 1) * 127.5), 0, 255)


def styled_inputs(c: Colorizer, n: int):
    """(style, the generator's input (S, S, 9) as used, its picture in the uint8 range, truth)
    for every style of `n` held-out faces with the 8 strokes of `cases`."""
    for _, _, layer, gt, sketches in cases(c, n):
        for style, s in sketches:
            _, inputs, out = c._generate(s, None, layer)
            yield style, np.asarray(inputs), to8(out), gt


def with_fill(c: Colorizer, inputs, fill):
    """The generator's picture (S, S, 3) in model space given `inputs` (S, S, 9) with its four
    fill channels replaced by `fill` (S, S, 4)."""
    x = np.concatenate([np.asarray(inputs)[..., :5], fill], -1)
    return c._predict(tf.constant(x[None]))[0]
