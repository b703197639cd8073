"""The hint sweep of `colorize evaluate --hint-sweep`: how well runs follow an artist's strokes.

For 0, 1, 2, 4, ... strokes simulated from each held-out image's ground truth (the training recipe
of experiment C, `experiments.strokes.simulated_hint_layer`, with a seed fixed per image so that
every model gets the same strokes), each run colorizes the sketch through `Colorizer.colorize`, the picture the
user receives:
- a C run takes the strokes as its hint layer (colors and mask);
- a B run takes the same strokes as a hint layer too, which B turns into a cue by laying them on
  white paper and blurring them (`cue_from_hints`: what an artist gets from B today); B with the
  image's full blurred cue (the oracle no artist has) is a reference line;
- an A run takes no hints: a reference line.
Two non-learned references say how much of the picture the inputs themselves carry: the strokes
alone (every pixel the color of the nearest painted pixel) and B's blurred cue alone, each scored
as if it were the output.
Scores: L1, PSNR, SSIM against the original, and hint adherence, the mean absolute color error
(in [0, 1], over RGB) of the output on the painted pixels against the strokes' colors.
"""

from __future__ import annotations

import io

import numpy as np

from colorize import fileio
from colorize.metrics import MeanMetrics

STROKES = (0, 1, 2, 4, 8, 16, 32)
STROKES_ALONE = "strokes alone: nearest stroke color"
REGIONS_ALONE = "strokes alone, one per region: nearest stroke color"
CUE_ALONE = "cue alone: the blurred cue"
REFERENCES = (STROKES_ALONE, REGIONS_ALONE, CUE_ALONE)  # curves of no model
# how strokes are painted: "random" as training simulates them (anywhere, any length), "regions"
# as a person paints them (one inside each of the largest line-bounded regions of the paper's
# sketch, largest first, in the region's own color: `strokes.region_hint_layer`)
PROTOCOLS = ("random", "regions")


def adherence(output: np.ndarray, layer: np.ndarray) -> float | None:
    """Mean |output - stroke color| in [0, 1] over the painted pixels of an RGBA hint layer; None
    when nothing is painted."""
    painted = layer[..., 3] >= 128
    if not painted.any():
        return None
    diff = np.abs(output.astype(np.float32) - layer[..., :3].astype(np.float32)) / 255.0
    return float(diff[painted].mean())


def region_adherence(output: np.ndarray, layer: np.ndarray, labels: np.ndarray) -> float | None:
    """Mean |output - stroke color| in [0, 1] over every pixel of the line-bounded regions
    (`labels`, 0 on lines) that a stroke of the RGBA hint layer was painted in, each region
    against its stroke's color: how far a stroke's color reaches where it should. None when
    nothing is painted inside a region."""
    painted = (layer[..., 3] >= 128) & (labels > 0)
    if not painted.any():
        return None
    ids = labels[painted]
    regions = np.unique(ids)
    color = np.zeros((labels.max() + 1, 3), np.float32)
    for channel in range(3):  # each region's stroke color: the mean over its painted pixels
        total = np.bincount(ids, layer[..., channel][painted].astype(np.float64), len(color))
        count = np.bincount(ids, minlength=len(color))
        color[:, channel] = total / np.maximum(count, 1)
    inside = np.isin(labels, regions)
    diff = np.abs(output[inside].astype(np.float32) - color[labels[inside]]) / 255.0
    return float(diff.mean())


class _Meter:
    """Mean L1 / PSNR / SSIM of one curve point, and mean adherence where there were strokes
    (on the painted pixels, and over the stroked regions when the regions are known)."""

    def __init__(self):
        self.metrics = MeanMetrics()
        self.adherence: list[float] = []
        self.region_adherence: list[float] = []

    def update(self, output: np.ndarray, target: np.ndarray, layer: np.ndarray | None,
               labels: np.ndarray | None = None) -> None:
        self.metrics.update(output[None].astype(np.float32) / 255.0,
                            target[None].astype(np.float32) / 255.0)
        if layer is not None and (a := adherence(output, layer)) is not None:
            self.adherence.append(a)
        if layer is not None and labels is not None and (
                a := region_adherence(output, layer, labels)) is not None:
            self.region_adherence.append(a)

    def result(self) -> dict:
        r = self.metrics.result()
        r.pop("images")
        mean = lambda values: float(np.mean(values)) if values else None
        return r | {"adherence": mean(self.adherence),
                    "region_adherence": mean(self.region_adherence)}


def nearest_fill(layer: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: every pixel the color of the nearest painted pixel (alpha >= 128) of an RGBA
    hint layer, by OpenCV's 5x5 distance transform (nearest within a few percent of the distance);
    white paper where nothing is painted."""
    import cv2

    painted = layer[..., 3] >= 128
    if not painted.any():
        return np.full((*layer.shape[:2], 3), 255, np.uint8)
    _, labels = cv2.distanceTransformWithLabels((~painted).astype(np.uint8), cv2.DIST_L2, 5,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    return layer[..., :3][painted][labels - 1]  # labels number the painted pixels in raster order


def hint_sweep(runs: dict[str, object], examples, strokes=STROKES, seed: int = 0,
               lines: str | None = None, protocols=PROTOCOLS) -> dict:
    """Scores of `runs` ({label: Colorizer}) on `examples` ((name, {"sketch", "cue", "color"})),
    with strokes painted by each of `protocols` (PROTOCOLS).

    Returns {"strokes": [...], "images": n, "curves": {"<label>: <curve>": [point per count]}},
    the "regions" protocol's curves named "<label>: <curve>, one per region"; reference lines
    repeated at every count so that all curves plot over the same x axis.
    """
    from colorize.experiments.strokes import line_regions

    suffix = {"random": "", "regions": ", one per region"}
    meters = {(label, curve + suffix[p]): {n: _Meter() for n in strokes}
              for label, c in runs.items() for curve, kind in c.conditioning.sweep_curves.items()
              for p in (protocols if kind == "hints" else protocols[:1])}
    alone = {p: {n: _Meter() for n in strokes} for p in protocols}  # the strokes alone
    cue_alone = _Meter()  # one picture for every count, and no adherence: one point
    images = 0
    for index, (_, ex) in enumerate(examples):
        images += 1
        # the paper's sketch's regions, for the region adherence of the "regions" strokes
        labels = line_regions(ex["sketch"])[0] if "regions" in protocols else None
        layers = {p: {n: _layer(p, ex, n, seed + index) for n in strokes} for p in protocols}
        for p in protocols:
            for n in strokes:
                alone[p][n].update(nearest_fill(layers[p][n]), ex["color"], None)
        cue_alone.update(ex["cue"], ex["color"], None)
        for label, colorizer in runs.items():
            for curve, kind in colorizer.conditioning.sweep_curves.items():
                if kind != "hints":  # one picture for every count: no hints, or an oracle's
                    given = colorizer.conditioning.example_hints(ex) if kind == "example" else {}
                    out = colorizer.colorize(ex["sketch"], lines=lines, **given)
                    for n in strokes:
                        meters[label, curve][n].update(out, ex["color"], layers[protocols[0]][n])
                    continue
                for p in protocols:
                    for n in strokes:
                        out = colorizer.colorize(ex["sketch"], hints=layers[p][n], lines=lines)
                        meters[label, curve + suffix[p]][n].update(
                            out, ex["color"], layers[p][n], labels if p == "regions" else None)
    references = {"random": STROKES_ALONE, "regions": REGIONS_ALONE}
    return {"strokes": list(strokes), "images": images, "seed": seed,
            "protocols": list(protocols),
            "curves": {**{f"{label}: {curve}": [m[n].result() for n in strokes]
                          for (label, curve), m in meters.items()},
                       **{references[p]: [alone[p][n].result() for n in strokes]
                          for p in protocols},
                       CUE_ALONE: [cue_alone.result()] * len(strokes)}}


def _layer(protocol: str, example: dict, strokes: int, seed: int) -> np.ndarray:
    """The hint layer of `strokes` strokes painted by `protocol` for a held-out example."""
    from colorize.experiments.strokes import region_hint_layer, simulated_hint_layer

    if protocol == "regions":
        return region_hint_layer(example["color"], example["sketch"], strokes, seed=seed)
    return simulated_hint_layer(example["color"], strokes, seed=seed)


def format_sweep(result: dict, metric: str = "psnr") -> str:
    """A text table: one row per curve, one column per stroke count, of `metric`."""
    counts = result["strokes"]
    width = max(len(name) for name in result["curves"]) + 2
    head = f"{metric + ' by strokes':<{width}}" + "".join(f"{n:>8}" for n in counts)
    rows = [head]
    for name, points in result["curves"].items():
        cells = "".join(f"{p[metric]:>8.3f}" if p[metric] is not None else f"{'-':>8}"
                        for p in points)
        rows.append(f"{name:<{width}}" + cells)
    return "\n".join(rows)


def sweep_figure(result: dict):
    """A matplotlib Figure of PSNR against the number of strokes, one line per curve."""
    from matplotlib.figure import Figure

    counts = result["strokes"]
    x = [max(n, 0.5) for n in counts]  # 0 strokes sits left of 1 on the log axis
    fig = Figure(figsize=(8.8, 4.0), dpi=120)
    ax = fig.subplots()
    for name, points in result["curves"].items():
        per_count = len({p["psnr"] for p in points}) > 1  # else a reference line
        if name in REFERENCES:  # the inputs alone, no model: thin, dotted and gray
            style = dict(linestyle=":", color="0.55", linewidth=1.0,
                         marker="." if per_count else None)
        else:
            style = dict(linestyle="-" if per_count else "--", marker="o" if per_count else None)
        ax.plot(x, [p["psnr"] for p in points], label=name, **style)
    ax.set_xscale("log", base=2)
    ax.set_xticks(x, [str(n) for n in counts])
    ax.set_xlabel("simulated strokes per image")
    ax.set_ylabel("PSNR (dB) against the original")
    ax.set_title(f"hint sweep, {result['images']} held-out images")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))  # beside the lines
    fig.tight_layout()
    return fig


def plot_sweep(result: dict, path: str, software: str | None = None) -> None:
    """The sweep figure as a PNG file (atomic write); `software` becomes its Software text."""
    png = io.BytesIO()
    sweep_figure(result).savefig(png, format="png", metadata={"Software": software} if software else None)
    fileio.write_bytes(path, png.getvalue())


def merge_sweeps(results: list[dict]) -> dict:
    """One sweep of the curves of several (runs scored by separate commands on the same images,
    stroke counts and seed: the strokes are fixed per image, so every run got the same); the
    references must agree. ValueError otherwise."""
    first = results[0]
    same = ("strokes", "images", "seed", "source", "protocols")
    merged = {**first, "runs": [], "curves": {}}
    for result in results:
        if any(result.get(key) != first.get(key) for key in same):
            raise ValueError(f"sweeps of other images, counts or seeds cannot merge ({same})")
        merged["runs"] += result.get("runs", [])
        for name, points in result["curves"].items():
            if name in merged["curves"] and merged["curves"][name] != points:
                raise ValueError(f"the curve {name!r} differs between the sweeps")
            merged["curves"][name] = points
    references = {n: merged["curves"].pop(n) for n in REFERENCES if n in merged["curves"]}
    merged["curves"].update(references)  # the references last, as in one sweep
    return merged
