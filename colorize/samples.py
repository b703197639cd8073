"""Sample grids: one row per example, the experiment's input columns, then output and target.

For experiments A and B the columns are sketch | cue | output | target (uint8 RGB); the
experiment's `Conditioning.grid_columns` says what it shows of its input.
"""

from __future__ import annotations

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


def grid(conditioning, inputs, outputs, targets, gap: int = 2) -> np.ndarray:
    """A (rows, columns) uint8 grid from model-space batches: inputs (B, S, S, C), outputs and
    targets (B, S, S, 3), columns as `columns` says, white gaps between the cells."""
    cells = [images for _, images in columns(conditioning, inputs, outputs, targets)]
    batch, size = cells[0].shape[0], cells[0].shape[1]
    step = size + gap
    out = np.full((batch * step - gap, len(cells) * step - gap, 3), 255, np.uint8)
    for row in range(batch):
        for col, images in enumerate(cells):
            out[row * step:row * step + size, col * step:col * step + size] = images[row]
    return out
