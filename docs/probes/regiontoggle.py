"""C's input pipeline with the region strokes of this tree and of another (a git worktree), in one
process: the same dataset, `draw_region_strokes` swapped between chunks of 100 batches (the order
alternating each round, toggle.py), so that the machine's drift falls on both alike. Prints
images/s and the process's CPU ms per image of each chunk, then the medians (docs/performance.md,
"The region strokes all at once"). Usage, in the folder holding faces256: python regiontoggle.py
OTHER_TREE (its colorize/experiments/strokes.py is loaded beside this tree's package)."""
import importlib.util, os, sys
from colorize.experiments import strokes
from toggle import toggle  # (this folder)

spec = importlib.util.spec_from_file_location(
    "other_strokes", os.path.join(sys.argv[1], "colorize/experiments/strokes.py"))
other = importlib.util.module_from_spec(spec)
sys.modules["other_strokes"] = other  # (its dataclasses look their module up)
spec.loader.exec_module(other)
versions = {"this": strokes.draw_region_strokes, "other": other.draw_region_strokes}
# (the numpy step looks `draw_region_strokes` up per call)
toggle({name: (lambda f=f: setattr(strokes, "draw_region_strokes", f))
        for name, f in versions.items()})
