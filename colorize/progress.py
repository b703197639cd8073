"""Training progress on the console: Keras' live bar where someone watches (a terminal or a
notebook), plain lines in a log file or a pipe, nothing on workers other than the chief."""

from __future__ import annotations

import sys
import time

import keras

PROGRESS_SECONDS = 30  # how often a redirected log gets a progress line (and one per epoch)


class LogProgress:
    """Progress for a log file or a pipe: a plain line every `every` seconds and one at the
    epoch's end. Keras' Progbar redraws its bar with carriage returns and escape codes up to 20
    times a second, and a redirected log keeps every frame."""

    def __init__(self, target: int, log=print, every: float = PROGRESS_SECONDS,
                 unit: str = "step"):
        self.target, self.log, self.every, self.unit = target, log, every, unit
        self._sums: dict[str, float] = {}
        self._count = 0
        self._start = self._last = time.monotonic()

    def update(self, current: int, values) -> None:
        """As Progbar.update: the step within the epoch and this step's (name, value) pairs; the
        line shows their means over the epoch so far."""
        for name, value in values:
            self._sums[name] = self._sums.get(name, 0.0) + float(value)
        self._count += 1
        now = time.monotonic()
        if current < self.target and now - self._last < self.every:
            return
        self._last = now
        elapsed = now - self._start
        eta = elapsed / self._count * (self.target - current)
        timing = f"{elapsed:.0f} s" + (f", {eta:.0f} s to go" if current < self.target else "")
        means = ", ".join(f"{k} {v / self._count:.4f}" for k, v in self._sums.items())
        self.log(f"  {current}/{self.target} {self.unit}s ({timing})" + (f": {means}" if means
                                                                          else ""))


def progress_bar(steps: int, *, chief: bool, log=print, stateful=(), unit: str = "step"):
    """An epoch's progress: `update(step, [(name, value), ...])` after each step. `stateful`
    names the values a live bar shows as they are rather than averaged; `unit` what a step is
    ("page": a chapter's progress, with the time to go)."""
    if chief and not _interactive():
        return LogProgress(steps, log, unit=unit)
    return keras.utils.Progbar(steps, stateful_metrics=list(stateful), verbose=1 if chief else 0,
                               unit_name=unit)


def _interactive() -> bool:
    """Whether stdout shows a live bar (a terminal or a notebook) rather than keeping each frame."""
    try:
        if sys.stdout.isatty():
            return True
    except (AttributeError, ValueError):  # no stdout, or a closed one
        return False
    ipython = sys.modules.get("IPython")  # a notebook's kernel, not merely ipykernel imported
    shell = ipython.get_ipython() if ipython and hasattr(ipython, "get_ipython") else None
    return getattr(shell, "kernel", None) is not None
