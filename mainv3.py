"""Train pix2pix for manga colorization: `python mainv3.py --experiment A|B [flags]`.

A thin entry point to `colorize train`; see `python mainv3.py --help` and the README.
"""

import sys

from colorize.tfquiet import quiet_tensorflow

quiet_tensorflow()  # before colorize.train_cli imports TensorFlow

from colorize.train_cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
