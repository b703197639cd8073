"""The experiments, one object each (big_vision's tasks): what the generator is conditioned on.

A (no cue: all white) and B (the stored blurred cue) are the paper's (`paper`); C, simulated
highlighter strokes with a hint mask, is this project's extension (`strokes`). The interface is
`base.Conditioning`. A new experiment is one module with a `Conditioning` subclass, registered here
(or by `register` from anywhere, before a config names it).
"""

from __future__ import annotations

from colorize.errors import ColorizeError
from colorize.experiments.base import Conditioning
from colorize.experiments.paper import BlurredCue, NoCue
from colorize.experiments.strokes import HintStrokes

EXPERIMENTS: dict[str, Conditioning] = {}


def register(experiment: Conditioning) -> Conditioning:
    """Add an experiment under its name (a config, the CLI and every command then know it)."""
    EXPERIMENTS[experiment.name] = experiment
    return experiment


for _experiment in (NoCue(), BlurredCue(), HintStrokes()):
    register(_experiment)


def of(experiment: str) -> Conditioning:
    """The conditioning of an experiment name."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {sorted(EXPERIMENTS)}, not {experiment!r}")
    return EXPERIMENTS[experiment]


def layouts() -> list[Conditioning]:
    """Every registered experiment in each of its input layouts (`Conditioning.variants`)."""
    return [v for c in EXPERIMENTS.values() for v in c.variants()]


def for_channels(channels: int) -> Conditioning:
    """The conditioning of a generator file of unknown experiment, from its input channels: the
    first registered experiment of that channel count that serves bare generators."""
    matches = [c for c in layouts() if c.input_channels == channels]
    if not matches:
        raise ColorizeError(f"no experiment takes {channels} input channels", reason="wrong_model")
    return next((c for c in matches if c.serves_bare_generators), matches[0])
