"""Test helper: `colorize train ARGS` as one worker of a TF_CONFIG cluster, then dump its weights.

Runs the real command-line entry point; just before the trainer closes, writes the worker's final
state (every variable of both networks, and the step) to $COLORIZE_TEST_DUMP (.npz), so a test
can compare workers whose checkpoints, except the chief's, are deleted.

Usage: COLORIZE_TEST_DUMP=W.npz TF_CONFIG=... python tests/_multiworker_train.py TRAIN_ARGS...
"""

from __future__ import annotations

import os
import sys

import numpy as np

from colorize import cli, train

_close = train.Trainer.close


def _dump_then_close(self: train.Trainer) -> None:
    model = self.model
    variables = model.generator.weights + model.discriminator.weights
    np.savez(os.environ["COLORIZE_TEST_DUMP"], step=int(self.step),
             **{f"w{i}": v.numpy() for i, v in enumerate(variables)})
    _close(self)


if __name__ == "__main__":
    train.Trainer.close = _dump_then_close
    sys.exit(cli.main(["train", *sys.argv[1:]]))
