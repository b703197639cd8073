"""The one exception type the CLI turns into a one-line message and exit code 2."""


class ColorizeError(Exception):
    """Bad input or a refused operation; the message names the file and the reason."""

    exit_code = 2
