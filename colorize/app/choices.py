"""The runs and models the page offers, each loaded and compiled once at start and picked by its
label (the client never names a file on the server). What the page says and does for one is its
experiment's (`reads_hints`, `takes_reference`, `page_note`)."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from colorize import experiments
from colorize.config import TEST_MODES
from colorize.experiments.base import Conditioning

IGNORES_HINTS = "ignores hints"


@dataclasses.dataclass
class Choice:
    """One model the page offers: its label and a Colorizer per test mode (sharing weights)."""

    label: str
    experiment: str  # a registered experiment's name
    colorizers: dict  # test mode -> Colorizer
    # the test mode the page starts it in (the run's; default: its experiment's), one it offers
    test_mode: str | None = None

    def __post_init__(self):
        mode = self.test_mode or self.conditioning.test_mode
        self.test_mode = mode if mode in self.colorizers else next(iter(self.colorizers))

    @property
    def conditioning(self) -> Conditioning:
        return experiments.of(self.experiment)

    @property
    def takes_hints(self) -> bool:
        return self.conditioning.reads_hints

    @property
    def fills(self) -> bool:
        """Whether its model is told where strokes reach, which the page can show."""
        return next(iter(self.colorizers.values())).fills

    @property
    def note(self) -> str:
        """What the page says of it (Markdown, one line)."""
        return self.conditioning.page_note


def label_of(experiment: str, *parts: str | None) -> str:
    """The experiment's name, the non-empty `parts` and, for an experiment that reads no hints,
    'ignores hints', joined by ' · '."""
    hint_free = None if experiments.of(experiment).reads_hints else IGNORES_HINTS
    return " · ".join(p for p in (experiment, *parts, hint_free) if p)


def run_label(run_dir: str, experiment: str) -> str:
    """'C · step 250 · 2026-12-03 07:41 · name' (a run that reads no hints: '... · ignores
    hints')."""
    from colorize.runfolder import RunFolder

    run = RunFolder.open(run_dir)
    when = run.trained_at()
    return label_of(experiment, f"step {run.step()}",
                    when.strftime("%Y-%m-%d %H:%M") if when else None,
                    os.path.basename(os.path.normpath(run_dir)))


def load_choices(runs: list[str], models: list[str], precision: str = "auto",
                 test_modes=TEST_MODES) -> dict[str, Choice]:
    """Every run and model file loaded (and traced, by one small call) once, by label."""
    from colorize.infer import Colorizer, load_model_file, load_run, run_recipe

    choices: dict[str, Choice] = {}

    def add(label, experiment, make, test_mode=None):
        colorizers = {mode: make(mode) for mode in test_modes}
        for colorizer in colorizers.values():  # compile now, not on the first stroke
            colorizer.colorize(np.full((8, 8), 255, np.uint8))
            if colorizer.fills:
                colorizer.reach(np.full((8, 8), 255, np.uint8))
        base, n = label, 2
        while label in choices:
            label, n = f"{base} ({n})", n + 1
        choices[label] = Choice(label, experiment, colorizers, test_mode)

    for run_dir in runs:
        generator, cfg = load_run(run_dir)
        recipe = run_recipe(cfg)
        add(run_label(run_dir, cfg.experiment), cfg.experiment,
            lambda mode: Colorizer(generator, test_mode=mode, conditioning=cfg.conditioning,
                                   recipe=recipe, precision=precision,
                                   experiment=cfg.experiment), cfg.test_mode)
    for path in models:
        generator = load_model_file(path)
        probe = Colorizer(generator, test_mode="deterministic", precision="float32")
        experiment = probe.conditioning.name
        add(label_of(experiment, os.path.basename(path)), experiment,
            lambda mode: Colorizer(generator, test_mode=mode, precision=precision))
    return choices
