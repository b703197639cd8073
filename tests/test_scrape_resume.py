"""Resuming: runs stopped by a fault, by Ctrl-C, or by a crash between saving and recording."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from booru_server import board, challenge, fast_options, folder_records, half_body  # noqa: F401 (pytest fixtures)

from colorize.errors import ColorizeError
from colorize.scrape import scrape

REPO = Path(__file__).resolve().parents[1]


def image_requests(board) -> dict[int, int]:
    """Post id -> how many times its file was requested."""
    return {i: len(board.requests_to(board.image_path(post))) for i, post in board.posts.items()}


def test_rerun_after_a_fault_continues_without_downloading_twice(board, tmp_path):
    board.add_many(range(1, 7))  # listed 6, 5, ..., 1
    board.fault(board.image_path(board.posts[3]), challenge())  # stops the run after k = 3 saves
    with pytest.raises(ColorizeError) as info:
        scrape(fast_options(board, tmp_path))
    assert info.value.reason == "challenged"
    assert [r["id"] for r in folder_records(tmp_path)] == [6, 5, 4]

    summary = scrape(fast_options(board, tmp_path))
    assert (summary.already, summary.saved) == (3, 3)
    assert sorted(r["id"] for r in folder_records(tmp_path)) == [1, 2, 3, 4, 5, 6]
    assert image_requests(board) == {6: 1, 5: 1, 4: 1, 3: 2, 2: 1, 1: 1}  # 3: the challenge, then the file


def test_limit_counts_what_earlier_runs_saved(board, tmp_path):
    board.add_many(range(1, 7))
    scrape(fast_options(board, tmp_path, limit=2))
    summary = scrape(fast_options(board, tmp_path, limit=4))
    assert (summary.already, summary.saved, summary.stopped) == (2, 2, "limit")
    assert [r["id"] for r in folder_records(tmp_path)] == [6, 5, 4, 3]


def test_file_saved_but_not_recorded_is_verified_and_kept(board, tmp_path):
    board.add_many(range(1, 4))
    scrape(fast_options(board, tmp_path))
    log = tmp_path / "posts.jsonl"
    log.write_text(log.read_text()[:-20])  # a crash while appending the last record (post 1)
    summary = scrape(fast_options(board, tmp_path))
    assert (summary.already, summary.saved) == (2, 1)
    assert image_requests(board) == {1: 1, 2: 1, 3: 1}  # post 1's file was adopted, not fetched again
    assert sorted(r["id"] for r in folder_records(tmp_path)) == [1, 2, 3]


def test_stale_part_files_are_removed(board, tmp_path):
    board.add(1)
    (tmp_path / ".danbooru_9.jpg.part").write_bytes(b"half")  # left by a killed run
    scrape(fast_options(board, tmp_path))
    assert [r["id"] for r in folder_records(tmp_path)] == [1]


def test_ctrl_c_exits_cleanly_and_the_rerun_completes(board, tmp_path):
    board.add_many(range(1, 6))
    arrived, release = threading.Event(), threading.Event()
    board.fault(board.image_path(board.posts[3]), half_body(then=lambda: (arrived.set(), release.wait(10))))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANBOORU_")}
    command = [sys.executable, "-m", "colorize.cli", "scrape", "--site", "danbooru", "--tags", "solo",
               "--out", str(tmp_path), "--base-url", board.url, "--rate", "200", "--min-size", "0"]
    # as started from a terminal: a suite run in the background of a script (`cmd &`) ignores
    # SIGINT, and its children inherit that
    default_ctrl_c = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    process = subprocess.Popen(command, cwd=REPO, env=env, text=True, preexec_fn=default_ctrl_c,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert arrived.wait(30), "the scraper never reached post 3"
        process.send_signal(signal.SIGINT)  # Ctrl-C while post 3's body is half received
        stdout, stderr = process.communicate(timeout=30)
    finally:
        release.set()
        process.kill()
    assert process.returncode == 130, stderr
    assert "stopped: interrupted" in stdout and "Traceback" not in stderr
    assert [r["id"] for r in folder_records(tmp_path)] == [5, 4]  # no part file of post 3 left

    summary = scrape(fast_options(board, tmp_path, min_size=0))
    assert (summary.already, summary.saved) == (2, 3)
    assert image_requests(board) == {5: 1, 4: 1, 3: 2, 2: 1, 1: 1}
