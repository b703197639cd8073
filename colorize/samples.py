"""Sample grids: one row per example, the experiment's input columns, then output and target,
under a row of column titles.

For experiment B the columns are sketch | cue | output | target (uint8 RGB); the experiment's
`Conditioning.grid_columns` says what it shows of its input and what to call it.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_uint8(images) -> np.ndarray:
    """[-1, 1] float images -> uint8 RGB (gray images are repeated to 3 channels)."""
    images = np.asarray(images, dtype=np.float32)
    out = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return np.repeat(out, 3, axis=-1) if out.shape[-1] == 1 else out


def columns(conditioning, inputs, outputs, targets) -> list[tuple[str, np.ndarray]]:
    """(title, (B, S, S, 3) uint8) per grid column."""
    shown = [*conditioning.grid_columns(inputs), ("output", outputs), ("target", targets)]
    return [(title, to_uint8(images)) for title, images in shown]


def titles(names: list[str], size: int, gap: int) -> np.ndarray:
    """A white strip with each column's title centred over its cells, scaled to fit the cell."""
    font, height = cv2.FONT_HERSHEY_SIMPLEX, max(12, size // 10)
    strip = np.full((height, len(names) * (size + gap) - gap, 3), 255, np.uint8)
    for col, name in enumerate(names):
        (width, tall), _ = cv2.getTextSize(name, font, 1.0, 1)
        scale = min((size - 2) / width, (height - 3) / tall)
        (width, tall), _ = cv2.getTextSize(name, font, scale, 1)
        origin = (col * (size + gap) + (size - width) // 2, (height + tall) // 2)
        cv2.putText(strip, name, origin, font, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def grid(conditioning, inputs, outputs, targets, gap: int = 2) -> np.ndarray:
    """A uint8 grid from model-space batches: inputs (B, S, S, C), outputs and targets
    (B, S, S, 3); a row of column titles, then one row per example with the columns `columns`
    says, white gaps between the cells."""
    named = columns(conditioning, inputs, outputs, targets)
    cells = [images for _, images in named]
    batch, size = cells[0].shape[0], cells[0].shape[1]
    step = size + gap
    out = np.full((batch * step - gap, len(cells) * step - gap, 3), 255, np.uint8)
    for row in range(batch):
        for col, images in enumerate(cells):
            out[row * step:row * step + size, col * step:col * step + size] = images[row]
    head = titles([name for name, _ in named], size, gap)
    return np.concatenate([head, np.full((gap, out.shape[1], 3), 255, np.uint8), out])
