"""`colorize scrape` from the command line: flags, credentials from the environment, the request rate."""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys

import pytest
from booru_server import board, folder_records  # noqa: F401 (pytest fixtures)

from colorize.cli import main
from colorize.errors import ColorizeError
from colorize.scrape import cli as scrape_cli


def cli(board, out, *flags: str) -> int:
    return main(["scrape", "--site", "danbooru", "--tags", "solo", "--out", str(out),
                 "--base-url", board.url, "--min-size", "0", *flags])


def cli_error(board, out, *flags: str) -> ColorizeError:
    """The ColorizeError that `cli(board, out, *flags)` prints, raised by the command itself."""
    parser = argparse.ArgumentParser()
    scrape_cli.add_arguments(parser)
    args = parser.parse_args(["--site", "danbooru", "--tags", "solo", "--out", str(out),
                              "--base-url", board.url, "--min-size", "0", *flags])
    with pytest.raises(ColorizeError) as info:
        scrape_cli.run(args)
    return info.value


@pytest.mark.heavy
def test_request_rate_stays_at_or_below_rate(board, tmp_path):
    board.add_many(range(1, 10))  # 1 listing page + 9 images + 1 empty page = 11 requests
    assert cli(board, tmp_path, "--rate", "20") == 0
    arrivals = [hit.time for hit in board.hits]  # taken by the server as each request arrived
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(arrivals) == 11
    assert (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) <= 20
    assert min(gaps) >= 1 / 20  # not only on average: no two requests closer than 1/rate


def test_success_prints_a_summary(board, tmp_path, capsys):
    board.add(1)
    board.add(2, hidden=True)
    assert cli(board, tmp_path, "--rate", "1000") == 0
    out = capsys.readouterr().out
    assert "2 posts seen: 1 saved" in out and "no_url 1" in out and "stopped: end of results" in out


@pytest.mark.parametrize(("flags", "words", "reason"), [
    (["--user-agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120"], "--user-agent", "bad_value"),
    (["--rating", "safe-ish"], "--rating", "bad_value"),
    (["--base-url", "file:///tmp"], "--base-url", "bad_value"),
    (["--tags", "solo order:score"], "order:", "bad_value"),
    (["--tags", "solo rating:general"], "--rating", "conflicting"),
    (["--tags", " "], "--tags: give at least one tag", "missing_value"),
])
def test_bad_flags_print_one_line_and_exit_2(board, tmp_path, capsys, flags, words, reason):
    assert cli(board, tmp_path, *flags) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorize scrape: error: ") and words in err and "\n" not in err
    assert not board.hits and not tmp_path.joinpath("posts.jsonl").exists()
    assert cli_error(board, tmp_path, *flags).reason == reason


def test_credentials_come_from_the_environment(board, tmp_path, monkeypatch):
    board.add(1, tags=("solo", "a", "b"))
    monkeypatch.setenv("DANBOORU_LOGIN", "alice")
    monkeypatch.setenv("DANBOORU_API_KEY", "secret")
    assert cli(board, tmp_path, "--tags", "solo a b", "--rate", "1000") == 0  # 3 tags: needs an account
    assert board.hits[0].headers["Authorization"].startswith("Basic ")
    assert [r["id"] for r in folder_records(tmp_path)] == [1]


def test_half_set_credentials_are_refused(board, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DANBOORU_LOGIN", "alice")
    monkeypatch.delenv("DANBOORU_API_KEY", raising=False)
    assert cli(board, tmp_path) == 2
    assert "DANBOORU_API_KEY" in capsys.readouterr().err
    assert cli_error(board, tmp_path).reason == "missing_value"


@pytest.mark.heavy
def test_scrape_command_does_not_import_tensorflow():
    code = ("import sys; import colorize.cli, colorize.scrape.cli; "
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'cv2'}); "
            "print(heavy); sys.exit(bool(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
