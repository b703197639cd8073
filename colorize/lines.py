"""The ways of `--lines`: how the any-size method brings the model's colors to the input's size and
lines (`colorize.anysize.composite`, docs/inference.md).

A module of its own, free of TensorFlow, so that the commands offering the choice (`colorize
predict`, `colorize evaluate`) and the code running it share one list.
"""

LINES = ("auto", "model", "guided", "keep")
