"""How reliably the tests' tiny experiment-C run (conftest's `c_run`: 32 px, width 8, 250 steps)
follows red and blue strokes, over training seeds: per seed, the margins of the two hue checks
test_experiment_c.py once made (the red picture's hue nearer red than the blue picture's; the
blue picture's nearer blue than the red picture's), and the cosine between how the picture's mean
CIELAB (a*, b*) moves from the red strokes to the blue ones and how blue differs from red, which
the test checks now. Usage, for the tree on sys.path: python strokeseeds.py RECORDS SEED...
(RECORDS: the tests' demo records, conftest's `demo_records`)."""
import os
import sys
import tempfile

import numpy as np

import colorize
from colorize import train
from colorize.config import preset
from colorize.infer import Colorizer

sys.path.insert(0, os.path.join(os.path.dirname(colorize.__file__), "..", "tests"))
from test_experiment_c import BLUE, RED, _chroma, _stroke  # noqa: E402
from test_infer import demo_sketch, hue_distance, mean_hue  # noqa: E402

records = sys.argv[1]
for seed in map(int, sys.argv[2:]):
    out = tempfile.mkdtemp()
    train.train(preset("C", data=records, image_size=32, width=8, epochs=1, out=out,
                       steps_per_epoch=250, learning_rate=5e-4, eval_images=0, num_samples=1,
                       precision="float32", test_mode="deterministic", seed=seed),
                log=lambda *a: None)
    colorizer = Colorizer.from_run(out)
    lines = demo_sketch(160, 120, 1)
    region = np.zeros(lines.shape, bool)
    region[40:120, 30:90] = True
    paper = (lines == 255) & region
    red, blue = (colorizer.colorize(lines, hints=_stroke(lines.shape, c, ((40, 120), (30, 90))))
                 for c in (RED, BLUE))
    hues = {name: mean_hue(np.array([c], np.uint8)) for name, c in (("red", RED), ("blue", BLUE))}
    red_margin = (hue_distance(mean_hue(blue[paper]), hues["red"])
                  - hue_distance(mean_hue(red[paper]), hues["red"]))
    blue_margin = (hue_distance(mean_hue(red[paper]), hues["blue"])
                   - hue_distance(mean_hue(blue[paper]), hues["blue"]))
    moved, asked = _chroma(blue[paper]) - _chroma(red[paper]), _chroma([BLUE]) - _chroma([RED])
    cosine = moved @ asked / np.linalg.norm(moved) / np.linalg.norm(asked)
    print(f"{colorize.__file__} seed {seed}: red hue margin {red_margin:.1f}, blue hue margin "
          f"{blue_margin:.1f}, direction cosine {cosine:.2f}, moved {np.linalg.norm(moved):.1f}",
          flush=True)
