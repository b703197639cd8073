"""Temporary: the old module name of `colorize.experiments` while its importers move over."""
from colorize.experiments import *  # noqa: F401,F403
from colorize.experiments import EXPERIMENTS, for_channels, of, register  # noqa: F401
from colorize.experiments.base import *  # noqa: F401,F403
from colorize.experiments.base import Conditioning, check_aspect, hints_to_cue  # noqa: F401
from colorize.experiments.strokes import *  # noqa: F401,F403
