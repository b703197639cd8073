"""The style sweep of `colorize evaluate --sketch-styles`: how well runs colorize line art of each
sketch style, including styles they never trained on.

Each held-out image's sketch is made in every style (`sketch_styles.sketch_of`, a seed fixed per
image, no variations; "threshold" is the builder's stored sketch) and colorized through
`Colorizer.colorize`, the picture the user receives: with no hints, and for runs that read hints
also with `strokes` strokes painted one per region as a person paints them
(`strokes.region_hint_layer`, the same strokes for every style and run). Scores: PSNR and SSIM
against the original (with L1).
"""

from __future__ import annotations

import numpy as np

from colorize.metrics import MeanMetrics

HINTED = 8  # the strokes of the hinted column


def style_sweep(runs: dict[str, object], examples, styles, strokes: int = HINTED,
                seed: int = 0) -> dict:
    """Scores of `runs` ({label: Colorizer}) on `examples` ((name, {"sketch", "cue", "color"}))
    for every style: {"styles": [...], "strokes": n, "images": n, "rows": {label: {style:
    {"0": metrics, "<strokes>": metrics (runs that read hints)}}}, "trained": {label: styles}}."""
    from colorize import sketch_styles
    from colorize.experiments.strokes import region_hint_layer

    counts = {label: [0, strokes] if c.conditioning.takes_strokes else [0]
              for label, c in runs.items()}
    meters = {(label, style, n): MeanMetrics() for label in runs for style in styles
              for n in counts[label]}
    images = 0
    for index, (_, ex) in enumerate(examples):
        images += 1
        layer = region_hint_layer(ex["color"], ex["sketch"], strokes, seed=seed + index)
        target = ex["color"][None].astype(np.float32) / 255.0
        for style in styles:
            drawn = sketch_styles.sketch_of(style, ex["color"], ex["sketch"], seed=seed + index)
            for label, colorizer in runs.items():
                for n in counts[label]:
                    out = colorizer.colorize(drawn, hints=layer if n else None)
                    meters[label, style, n].update(out[None].astype(np.float32) / 255.0, target)
    rows = {label: {style: {str(n): _result(meters[label, style, n]) for n in counts[label]}
                    for style in styles} for label in runs}
    return {"styles": list(styles), "strokes": strokes, "images": images, "seed": seed,
            "rows": rows}


def _result(meter: MeanMetrics) -> dict:
    result = meter.result()
    result.pop("images")
    return result


def format_styles(result: dict, trained: dict[str, set] | None = None) -> str:
    """A text table: one row per run and stroke count, PSNR / SSIM per style; styles a run did
    not train on are marked with '*'."""
    styles = result["styles"]
    width = max(len(label) for label in result["rows"]) + 14
    head = f"{'PSNR dB / SSIM':<{width}}" + "".join(f"{s:>16}" for s in styles)
    rows = [head]
    for label, by_style in result["rows"].items():
        for n in next(iter(by_style.values())):
            cells = "".join(
                f"{by_style[s][n]['psnr']:>8.2f} / {by_style[s][n]['ssim']:.3f}"
                + ("*" if trained and s not in trained.get(label, {s}) else " ") for s in styles)
            rows.append(f"{label + f', {n} strokes':<{width}}" + cells)
    if trained:
        rows.append("* a style the run never trained on")
    return "\n".join(rows)
