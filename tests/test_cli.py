"""The `colorize` command's help: every option says what it does and what it is when left out."""

from __future__ import annotations

import argparse
import importlib

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
