"""Each stroke's color spread to the nearest pixels of its region, at use time, through the
generator: where one region holds strokes of several colors (drawn line art's regions leak; an
artist paints a second color to stop a flood), each of its pixels takes the color of the nearest
painted pixel in the region (Euclidean), not the mean of all of them (the fill as trained). Mask
as the fill's: 1 in every touched region. PSNR of each style's 8-stroke picture, held-out faces.
Usage: python nearprobe.py N RUN, where the training commands ran (runs/, faces256/)."""
import sys
import numpy as np
from scipy import ndimage
from colorize import regions
from common import colorizer, psnr, styled_inputs, with_fill


def nearest_fill(hints, sketch):
    """(S, S, 4): `regions.fill_np`'s fill, but each touched region's pixels the color of its
    nearest painted pixel in the region."""
    labels, _ = regions.labels_np(sketch)
    painted = hints[..., 3] > 0.5
    out = np.zeros(hints.shape[:2] + (4,), np.float32)
    for r in np.unique(labels[painted]):
        if r == 0:
            continue
        inside = labels == r
        _, (iy, ix) = ndimage.distance_transform_edt(~(painted & inside), return_indices=True)
        out[inside, :3] = hints[iy[inside], ix[inside], :3]
        out[inside, 3] = 1.0
    return out


def main(n, run):
    c = colorizer(run)
    res = {}
    for style, inputs, out, gt in styled_inputs(c, n):
        fill = nearest_fill(inputs[..., 1:5], inputs[..., :1])
        changed = float((np.abs(fill - inputs[..., 5:]).max(-1) > 1e-3).mean())
        res.setdefault(style, []).append(
            [psnr(out, gt), psnr(with_fill(c, inputs, fill), gt), changed])
    print(f"PSNR dB, {n} faces, 8 strokes one per region: the fill as used; nearest stroke in the "
          "region (paired difference +- one standard error); share of pixels whose fill changed")
    for k, v in res.items():
        v = np.array(v)
        d = v[:, 1] - v[:, 0]
        print(f"{k:10s} used {v[:, 0].mean():6.2f}  nearest {v[:, 1].mean():6.2f} "
              f"({d.mean():+.2f} +- {d.std(ddof=1) / np.sqrt(len(v)):.2f})  "
              f"changed {v[:, 2].mean():.3f}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
