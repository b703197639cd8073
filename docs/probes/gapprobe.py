"""Closing gaps in the line art before the fill, at use time, through the generator: each style's
8-stroke picture with its own fill (as used: a 3x3 closing), and with the fill's regions found
after a closing of radius R (the ink dilated by a disk, regions grown back through the 3x3 paper
by geodesic steps, so gaps under 2R px stay closed and every region keeps its full extent; paper
no grown region reaches keeps its 3x3 region). PSNR of the picture, held-out faces.
Usage: python gapprobe.py N RUN R [R ...], where the training commands ran (runs/, faces256/)."""
import sys
import cv2
import numpy as np
from colorize import regions
from common import colorizer, psnr, styled_inputs, to8, with_fill


def closed_labels(sketch, radius):
    """(S, S) int32 region labels of a model-space sketch (S, S, 1), 0 on the lines, after a
    closing of `radius` (see above). Round five's `fillprobe.labels_of` closes with a square and
    grows back a fixed number of steps, leaving unreached paper as lines; here a disk, grown
    until nothing changes, and unreached paper keeps its own regions."""
    ink = regions.ink_np(sketch)
    paper3 = regions.paper_np(sketch).astype(bool)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    seeds = (1 - cv2.dilate(ink, disk)).astype(np.uint8) & paper3.astype(np.uint8)
    _, lab = cv2.connectedComponents(seeds, connectivity=4)
    lab = lab.astype(np.float32)
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)
    for _ in range(4 * radius):
        grown = np.where((lab == 0) & paper3, cv2.dilate(lab, cross), lab)
        if np.array_equal(grown, lab):
            break
        lab = grown
    lab = lab.astype(np.int32)
    rest = (lab == 0) & paper3  # paper no seed reached: its own 3x3 regions
    if rest.any():
        _, extra = cv2.connectedComponents(rest.astype(np.uint8), connectivity=4)
        lab = np.where(rest, extra + lab.max(), lab)
    return lab


def main(n, run, radii):
    c = colorizer(run)
    res = {}
    for style, inputs, out, gt in styled_inputs(c, n):
        own = regions.fill_np(inputs[..., 1:5], inputs[..., :1])
        row = [psnr(out, gt), float(np.abs(own - inputs[..., 5:]).max())]
        for r in radii:
            fill = regions.fill_np(inputs[..., 1:5], inputs[..., :1],
                                   labels=closed_labels(inputs[..., :1], r))
            row.append(psnr(to8(with_fill(c, inputs, fill)), gt))
        res.setdefault(style, []).append(row)
    print(f"PSNR dB, {n} faces; R: the mean and its paired difference from the own fill "
          "(+- one standard error); the own fill recomputed by fill_np: largest difference")
    for k, v in res.items():
        v = np.array(v)
        diff = v[:, 2:] - v[:, :1]
        se = diff.std(0, ddof=1) / np.sqrt(len(v))
        print(f"{k:10s} own {v[:, 0].mean():6.2f}  " + "  ".join(
            f"R={r} {m:6.2f} ({d:+.2f} +- {e:.2f})"
            for r, m, d, e in zip(radii, v[:, 2:].mean(0), diff.mean(0), se))
              + f"  [{v[:, 1].max():.1e}]", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], [int(r) for r in sys.argv[3:]])
