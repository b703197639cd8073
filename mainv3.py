"""Train pix2pix for manga colorization: `python mainv3.py --experiment A|B [flags]`.

A thin entry point to `colorize train`; see `python mainv3.py --help` and the README.
"""

import sys

from colorize.train_cli import main

if __name__ == "__main__":
    sys.exit(main())
