"""Write tests/data/legacy: run folders, an export and outputs made by the code before the refactor.

The conditioning refactor (experiments as modules, issue #14) must not change what an A or B run
written before it loads as or outputs. This script runs against a checkout of the pre-refactor
commit and writes the fixtures `tests/test_conditioning.py` compares against:

    git worktree add /tmp/legacy-wt 81a1b9e
    cd /tmp/legacy-wt && python /path/to/main/tests/make_legacy.py /path/to/main/tests/data/legacy

It trains two tiny runs (A and B, 32 px, width 4) on the demo data, exports B as a SavedModel and
saves the generator's raw outputs and Colorizer.colorize outputs for a fixed sketch and cue.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import numpy as np


def main(out: str) -> None:
    sys.path.insert(0, os.getcwd())  # the pre-refactor checkout
    from colorize import build, demo, export, train
    from colorize.config import preset
    from colorize.infer import Colorizer

    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:  # the records are not kept: recipes fall back
        demo.generate(os.path.join(tmp, "images"), 40, seed=0, size=64)  # to the defaults
        records = os.path.join(tmp, "records")
        build.build_dataset([os.path.join(tmp, "images")], records,
                            build.BuildParams.for_size(32, min_size=32, test_fraction=0.2),
                            workers=1, progress=False)
        for experiment in "AB":
            cfg = preset(experiment, data=records, out=os.path.join(out, f"run_{experiment}"),
                         image_size=32, width=4, epochs=1, steps_per_epoch=3, eval_images=0,
                         num_samples=1, precision="float32",
                         test_mode="deterministic")  # pix2pix mode is random
            runs[experiment] = train.train(cfg, log=lambda *a: None)
    export.export(runs["B"], "savedmodel", os.path.join(out, "export_B"))
    for run in runs.values():  # what the tests do not read
        for folder in ("logs", "samples"):
            shutil.rmtree(os.path.join(run, folder), ignore_errors=True)

    rng = np.random.default_rng(0)
    sketch = np.where(rng.random((40, 48)) < 0.2, 0, 255).astype(np.uint8)  # not the model size
    cue = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    x = rng.uniform(-1, 1, (2, 32, 32, 4)).astype(np.float32)
    arrays = {"sketch": sketch, "cue": cue, "x": x}
    for experiment in "AB":
        colorizer = Colorizer.from_run(runs[experiment], precision="float32")
        arrays[f"{experiment}_raw"] = colorizer.generator(x, training=False).numpy()
        arrays[f"{experiment}_colorize"] = colorizer.colorize(
            sketch, cue if experiment == "B" else None)
    np.savez(os.path.join(out, "expected.npz"), **arrays)
    print("wrote", out)


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
