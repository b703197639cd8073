"""Milliseconds per example of the region strokes (8) and their fill in numpy, on 60 shared faces, and
where the time goes (cProfile). Usage: python docs/probes/strokeprof.py (from the repository root)."""
import cProfile, pstats, glob, numpy as np, cv2, time
from colorize.experiments.strokes import draw_region_strokes, StrokeRecipe
from colorize import regions, sketch as S
files = sorted(glob.glob("../shared/anime/faces/*.jpg"))[:60]
ex = []
for f in files:
    rgb = cv2.cvtColor(cv2.resize(cv2.imread(f), (256, 256)), cv2.COLOR_BGR2RGB)
    sk = S.sketchify(rgb, 7, 2)
    ex.append((rgb.astype(np.float32) / 127.5 - 1, sk[..., None].astype(np.float32) / 127.5 - 1))
rng = np.random.default_rng(0)
def run():
    for c, s in ex:
        h = draw_region_strokes(c, s, 8, rng.random((64, 5)).astype(np.float32), False, StrokeRecipe())
        regions.fill_np(h, s, False)
t = time.perf_counter(); run(); print("per example ms", (time.perf_counter() - t) / len(ex) * 1000)
cProfile.run("run()", "/tmp/prof.out")
pstats.Stats("/tmp/prof.out").sort_stats("tottime").print_stats(14)
