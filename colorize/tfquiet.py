"""Quiet TensorFlow's native (C++) start-up logging for the command line, unless the user set
TF_CPP_MIN_LOG_LEVEL: a newcomer reads "E ... failed call to cuInit: UNKNOWN ERROR (303)" on a
machine without a GPU as a failure."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

# TensorFlow's native log lines, in its own format and absl's: (severity letter, ...)
_NATIVE_LOG_LINE = re.compile(r"(?:\d{4}-\d\d-\d\d [\d:.]+: ([IWEF]) |([IWEF])\d{4} [\d:.]+ +\d+ )"
                              r"\S+:\d+\] ")
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called"
_SEVERITIES = "IWEF"


def quiet_tensorflow() -> None:
    """Quiet TensorFlow's native (C++) logging in this process unless TF_CPP_MIN_LOG_LEVEL is set:
    its start-up lines come with every command, `--help` included, and a newcomer reads
    "E ... failed call to cuInit: UNKNOWN ERROR (303)" on a machine without a GPU as a failure.

    The default, level 3, keeps only fatal lines: errors that matter reach Python as exceptions,
    and training says itself whether it found a GPU. A few lines are written while TensorFlow's
    libraries load, before the level applies (abseil's "before absl::InitializeLog()"), so the
    first import of TensorFlow runs with stderr captured, and native lines below the level (the
    user's, when set) are dropped. Call it before TensorFlow is imported.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if _min_log_level() > 0 and "tensorflow" not in sys.modules and not any(
            isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())


def _min_log_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Runs the first `import tensorflow` (wherever it happens: a command imports it at its own
    time) with native log lines below TF_CPP_MIN_LOG_LEVEL dropped from stderr."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once, and the real finders find the package
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            load = spec.loader.exec_module

            def exec_module(module):
                with _native_log_lines_dropped(_min_log_level()):
                    load(module)
            spec.loader.exec_module = exec_module
        return spec


@contextlib.contextmanager
def _native_log_lines_dropped(level: int):
    """Capture file descriptor 2 (native code writes there, not to sys.stderr); afterwards write
    back every line except native log lines of a severity below `level` (0 I, 1 W, 2 E, 3 F)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no stderr to capture
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines(keepends=True)
                    if not _below(line, level)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _below(line: str, level: int) -> bool:
    if line.startswith(_ABSL_PREAMBLE):
        return level > 0
    found = _NATIVE_LOG_LINE.match(line)
    return bool(found) and _SEVERITIES.index(found.group(1) or found.group(2)) < level
