"""Seconds to a model's first pictures, and how many of them autograph spends converting source
(docs/performance.md, "Graphs traced without autograph"): a run's Colorizer made, then one
colorize, reach (C with the fill) and colorize_layers of a real sketch with one stroke; and a
4-step training of a tiny run. Usage: python firstuse.py RECORDS RUN [EXPERIMENT], with the tree
to measure first on PYTHONPATH (a worktree of another commit, to compare)."""
import cProfile, glob, os, pstats, shutil, sys, tempfile, time
import cv2, numpy as np
import colorize
from colorize import train
from colorize.config import preset
from colorize.infer import Colorizer


def converting(profile: str) -> float:
    stats = pstats.Stats(profile).stats
    return sum(v[3] for (f, _, name), v in stats.items()
               if f.endswith(os.path.join("autograph", "pyct", "transpiler.py")) and name == "transform")


def timed(call: str, scope: dict) -> tuple[float, float]:
    profile = os.path.join(tempfile.mkdtemp(), "p.out")
    start = time.time()
    cProfile.runctx(call, scope, {}, profile)
    return time.time() - start, converting(profile)


def main(records: str, run: str, experiment: str = "C") -> None:
    print("package:", os.path.dirname(colorize.__file__))
    sketch = cv2.imread(sorted(glob.glob(os.path.join(os.environ["COLORIZE_REAL_DATA"],
                                                      "lineart", "*.jpg")))[0])[..., ::-1].copy()
    hints = np.zeros((*sketch.shape[:2], 4), np.uint8)
    hints[20:60, 30:90] = (200, 40, 40, 255)

    def pictures():
        colorizer = Colorizer.from_run(run, test_mode="deterministic")
        colorizer.colorize(sketch, hints=hints)
        if colorizer.fills:
            colorizer.reach(sketch, hints=hints)
        colorizer.colorize_layers(sketch, hints=hints)

    out = tempfile.mkdtemp()
    cfg = preset(experiment, data=records, out=os.path.join(out, "run"), image_size=32, width=8,
                 epochs=1, steps_per_epoch=4, eval_images=0, num_samples=1, precision="float32")
    for name, call in (("first pictures", "pictures()"),
                       ("4-step training", "train.train(cfg, log=lambda *a: None)")):
        seconds, converting_seconds = timed(call, {"pictures": pictures, "train": train, "cfg": cfg})
        print(f"{name}: {seconds:.1f} s, autograph converting {converting_seconds:.1f} s")
    shutil.rmtree(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
