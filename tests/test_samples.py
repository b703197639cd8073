"""The sample grid: a titled column per input the experiment shows, then output and target."""

from __future__ import annotations

import numpy as np
import pytest

from colorize import experiments, samples


@pytest.mark.parametrize("name,shown", [("A", ["sketch", "no cue (white)"]),
                                        ("B", ["sketch", "cue"]),
                                        ("C", ["sketch", "hints", "hints filled"])])
def test_every_column_of_the_grid_has_its_title(name, shown):
    conditioning = experiments.of(name)
    size, gap = 64, 2
    inputs = np.ones((2, size, size, conditioning.input_channels), np.float32)  # white everywhere
    white = np.ones((2, size, size, 3), np.float32)
    titles = [title for title, _ in samples.columns(conditioning, inputs, white, white)]
    assert titles == [*shown, "output", "target"]
    grid = samples.grid(conditioning, inputs, white, white, gap=gap)
    head = grid.shape[0] - (2 * (size + gap) - gap) - gap  # the title strip's height
    columns = len(titles)
    assert head >= 12 and grid.shape[1] == columns * (size + gap) - gap
    for col in range(columns):  # dark title text over each column, on otherwise white cells
        strip = grid[:head, col * (size + gap):col * (size + gap) + size]
        assert (strip < 128).any(), titles[col]
    assert (grid[head:] == 255).all()
