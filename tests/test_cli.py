"""The `colorize` command's help: every option says what it does and what it is when left out."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from colorize.cli import COMMANDS


def _parser(name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"colorize {name}")
    importlib.import_module(COMMANDS[name][0]).add_arguments(parser)
    return parser


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_option_has_help_that_names_its_default(name):
    parser = _parser(name)
    formatter = parser._get_formatter()
    for action in parser._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        text = formatter._expand_help(action) if action.help else ""
        assert text, f"colorize {name} {action.option_strings[0]}: no help"
        if action.required or action.default in (None, False, [], argparse.SUPPRESS):
            continue  # nothing to name: required, off, or said in the text ("default: the run's")
        assert "default" in text, f"colorize {name} {action.option_strings[0]}: {text!r}"


# -- TensorFlow's native start-up logging -------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
# a native log line, in TensorFlow's format ("2024-01-01 12:00:00.1: E tensorflow/...] ") or
# absl's ("E0000 00:00:1700000000.1  1234 cuda_platform.cc:52] "), or absl's preamble to them
NATIVE_LOG = re.compile(r"^(\d{4}-\d\d-\d\d .*: [IWEF] \S+:\d+\] "
                        r"|[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\] "
                        r"|WARNING: All log messages before absl)", re.MULTILINE)


def _start(args: list[str], level: str | None = None) -> subprocess.Popen:
    """`python ARGS` in the repository, TF_CPP_MIN_LOG_LEVEL unset or `level`; started, not
    awaited, so that a test's processes (each importing TensorFlow for seconds) run at once."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _run(args: list[str], level: str | None = None) -> subprocess.CompletedProcess:
    return _finish(_start(args, level))


def test_the_commands_that_can_answer_without_tensorflow_do():
    """`colorize --help`, and `predict`'s and `app`'s options (before a model is loaded):
    TensorFlow takes seconds to import."""
    code = ("import sys; from colorize import cli, predict_cli, scrape, demo; "
            "from colorize.app import cli as app_cli; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    proc = _run(["-c", code])
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


@pytest.mark.heavy
def test_commands_print_no_tensorflow_start_up_noise(block_records, tmp_path):
    """`--help` and a short training run: stderr holds none of TensorFlow's native lines (on a
    machine without a GPU, "E ... failed call to cuInit: UNKNOWN ERROR (303)")."""
    train = ["-m", "colorize.cli", "train", "--data", block_records, "--out", str(tmp_path / "run"),
             "--image-size", "32", "--width", "8", "--precision", "float32", "--epochs", "1",
             "--steps-per-epoch", "1", "--eval-images", "0", "--num-samples", "1"]
    started = [_start(args) for args in (["-m", "colorize.cli", "--help"], ["mainv3.py", "--help"],
                                         ["-m", "colorize.cli", "predict", "--help"], train)]
    for proc in map(_finish, started):
        args = proc.args[1:]
        assert proc.returncode == 0, proc.stderr
        assert not NATIVE_LOG.search(proc.stderr) and "cuInit" not in proc.stderr, (args,
                                                                                     proc.stderr)
    assert "Run folder: " in proc.stdout  # and it says itself where it trains
    assert re.search(r"\((CPU, no GPU found|\d+ GPUs?), precision", proc.stdout), proc.stdout


@pytest.mark.heavy
def test_a_tf_cpp_min_log_level_the_user_set_is_kept(monkeypatch):
    """The user's level stays as set, and with 0 TensorFlow says what it says without the CLI."""
    from colorize import cli

    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    cli.quiet_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL")
    cli.quiet_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"

    def native(stderr: str) -> list[str]:  # the messages, without time stamps and thread ids
        return sorted(line.split("] ", 1)[1] for line in stderr.splitlines()
                      if NATIVE_LOG.match(line) and "] " in line)

    started = [_start(["-c", "import tensorflow"], level="0"),
               _start(["mainv3.py", "--help"], level="0")]
    bare, shown = map(_finish, started)
    assert shown.returncode == 0
    assert native(shown.stderr) == native(bare.stderr)
