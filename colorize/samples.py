"""Sample grids: one row per example, columns sketch | cue | output | target (uint8 RGB)."""

from __future__ import annotations

import numpy as np

COLUMNS = ("sketch", "cue", "output", "target")


def to_uint8(images) -> np.ndarray:
    """[-1, 1] float images -> uint8 RGB (gray images are repeated to 3 channels)."""
    images = np.asarray(images, dtype=np.float32)
    out = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return np.repeat(out, 3, axis=-1) if out.shape[-1] == 1 else out


def triplet_grid(inputs, outputs, targets, gap: int = 2) -> np.ndarray:
    """A (rows, 4 columns) grid from model-space batches: inputs (B, S, S, 4), outputs/targets (B, S, S, 3)."""
    inputs = np.asarray(inputs)
    columns = [to_uint8(inputs[..., :1]), to_uint8(inputs[..., 1:4]), to_uint8(outputs),
               to_uint8(targets)]
    batch, size = inputs.shape[0], inputs.shape[1]
    step = size + gap
    grid = np.full((batch * step - gap, len(columns) * step - gap, 3), 255, np.uint8)
    for row in range(batch):
        for col, images in enumerate(columns):
            grid[row * step:row * step + size, col * step:col * step + size] = images[row]
    return grid
