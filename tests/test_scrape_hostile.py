"""Issue #12: careless and hostile input to the scraper, one section per item of the issue.

Each test scripts the input on the fake board (tests/booru_server.py) or on the output folder, and
checks the run's outcome, the requests the board saw, and that the folder stays consistent.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
import requests
from booru_server import (  # noqa: F401 (pytest fixtures)
    board,
    drip,
    fast_options,
    folder_records,
    half_body,
    redirect,
    send,
    status,
)

from colorize.cli import main
from colorize.errors import ColorizeError
from colorize.scrape import ScrapeOptions, danbooru, runner, scrape
from colorize.scrape.http import PoliteSession
from colorize.scrape.posts import Post, check_post
from colorize.scrape.reasons import Skip, Skipped
from colorize.scrape.store import PostLog

REPO = Path(__file__).resolve().parents[1]
KEY = "s3cret-api-key"


def image_hits(board, post) -> int:
    return len(board.requests_to(board.image_path(post)))


# --- 6. credentials after a redirect from https to http ---------------------------------------------


class HttpsAsHttp(requests.adapters.HTTPAdapter):
    """Sends https:// requests as plain http to the same host and port, so the fake board can play
    an https board: the client's rules see https, and the board still sees every request."""

    def send(self, request, **kwargs):
        request.url = "http" + request.url.removeprefix("https")
        return super().send(request, **kwargs)


@pytest.fixture
def https_board(board, monkeypatch):
    class Session(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self.mount("https://", HttpsAsHttp())

    monkeypatch.setattr(requests, "Session", Session)
    board.cdn_url = board.url.replace("http://", "https://")  # files on the board's own https origin
    return board


def test_credentials_are_not_sent_after_a_redirect_to_http_on_the_same_host(https_board, tmp_path):
    board = https_board
    path = board.image_path(board.add(1))
    board.fault(path, redirect(board.url + path))  # http://127.0.0.1:<same port>/...: a downgrade
    options = fast_options(board, tmp_path, base_url=board.cdn_url, login="alice", api_key=KEY)
    assert scrape(options).saved == 1
    over_https, over_http = board.requests_to(path)
    assert board.requests_to("/posts.json")[0].headers["Authorization"].startswith("Basic ")
    assert over_https.headers["Authorization"].startswith("Basic ")  # the board's own https origin
    assert "Authorization" not in over_http.headers


@pytest.mark.parametrize(("url", "sent"), [
    ("https://board.test/posts.json", True),
    ("https://BOARD.test:443/posts.json", True),  # the same origin, spelled differently
    ("http://board.test/posts.json", False),  # a downgrade: the credentials would travel in clear
    ("http://board.test:443/posts.json", False),
    ("https://board.test:8443/posts.json", False),
    ("https://cdn.board.test/a.jpg", False),
])
def test_credentials_go_only_to_the_board_origin(url, sent):
    session = PoliteSession("ua/1", rate=1.0, max_bytes=1, auth=("alice", KEY), auth_url="https://board.test")
    assert session.auth_for(url) == (("alice", KEY) if sent else None)


# --- 7. secrets out of reprs and logs ------------------------------------------------------------------


def test_the_api_key_stays_out_of_reprs_and_logs(board, tmp_path, caplog):
    board.add(1)
    board.fault(board.image_path(board.add(2)), status(404))  # a fault: logged as a warning
    options = fast_options(board, tmp_path, login="alice", api_key=KEY)
    assert KEY not in repr(options) and KEY not in str(options)
    with caplog.at_level(logging.DEBUG):
        summary = scrape(options)
    assert summary.skipped == {Skip.HTTP_ERROR: 1}
    assert "danbooru post 2 skipped" in caplog.text and KEY not in caplog.text


def test_credentials_in_the_base_url_are_refused_without_echoing_them(tmp_path):
    with pytest.raises(ColorizeError, match="DANBOORU_API_KEY") as caught:
        ScrapeOptions(site="danbooru", tags="solo", out=tmp_path, base_url=f"https://alice:{KEY}@board.test")
    assert KEY not in str(caught.value)
    assert caught.value.reason == "bad_value"


# --- 9. posts.jsonl cut inside a UTF-8 character ----------------------------------------------------------


def test_a_log_cut_inside_a_utf8_character_is_repaired_and_the_run_resumes(board, tmp_path):
    board.add_many(range(1, 4), tags=("solo", "魔法少女"))
    scrape(fast_options(board, tmp_path))
    log = tmp_path / "posts.jsonl"
    data = log.read_bytes()
    cut = data.rindex("法".encode()) + 1  # inside the last record's 3-byte character
    log.write_bytes(data[:cut])  # a kill mid-write
    summary = scrape(fast_options(board, tmp_path))
    assert (summary.already, summary.saved) == (2, 1)
    assert {i: image_hits(board, post) for i, post in board.posts.items()} == {1: 1, 2: 1, 3: 1}  # adopted
    assert sorted(r["id"] for r in folder_records(tmp_path)) == [1, 2, 3]


def test_a_middle_line_that_is_not_utf8_is_reported_with_its_number(tmp_path):
    (tmp_path / "posts.jsonl").write_bytes(b'{"site": "danbooru", "id": 1}\n{"site": "\xff"}\n{"site": "a", "id": 2}\n')
    with pytest.raises(ColorizeError, match="posts.jsonl: line 2") as caught:
        PostLog(tmp_path)
    assert caught.value.reason == "bad_log"


# --- 10. two scrapes into the same folder ---------------------------------------------------------------


def test_a_second_scrape_into_the_same_folder_stops_and_leaves_the_first_alone(board, tmp_path):
    board.add_many(range(1, 4))
    arrived, release = threading.Event(), threading.Event()
    board.fault(board.image_path(board.posts[2]), half_body(then=lambda: (arrived.set(), release.wait(10))))
    first: dict[str, object] = {}

    def run_first() -> None:
        try:
            first["summary"] = scrape(fast_options(board, tmp_path))
        except Exception as err:  # noqa: BLE001 (reported by the assertions below)
            first["error"] = err

    thread = threading.Thread(target=run_first)
    thread.start()
    try:
        assert arrived.wait(10), "the first run never reached post 2"
        for _ in range(200):  # the first run opens its .part file as the body starts arriving
            parts = list(tmp_path.glob(".*.part"))
            if parts:
                break
            time.sleep(0.01)
        hits = len(board.hits)
        with pytest.raises(ColorizeError, match=r"another colorize scrape \(pid \d+\) is writing into") as caught:
            scrape(fast_options(board, tmp_path))
        assert caught.value.reason == "locked"
        assert len(board.hits) == hits and parts and list(tmp_path.glob(".*.part")) == parts
    finally:
        release.set()
        thread.join(30)
    assert "error" not in first and first["summary"].saved == 3
    assert sorted(r["id"] for r in folder_records(tmp_path)) == [1, 2, 3]  # and no lock file left
    assert scrape(fast_options(board, tmp_path)).already == 3  # the folder is free again


# --- 11. a slow-drip server --------------------------------------------------------------------------------


@pytest.mark.heavy
def test_a_slow_drip_download_is_cut_at_the_file_timeout(board, tmp_path):
    board.add(1)
    slow = board.add(2)
    board.fault(board.image_path(slow), drip(0.02, seconds=5.0))  # a byte every 20 ms: never a read timeout
    start = time.monotonic()
    summary = scrape(fast_options(board, tmp_path, timeout=1.0, file_timeout=0.5))
    took = time.monotonic() - start
    assert summary.skipped == {Skip.TOO_SLOW: 1}
    assert image_hits(board, slow) == 1  # not retried: a dripping server stays slow
    assert took < 4.0, f"the run took {took:.1f} s: the 5 s drip was not cut"
    assert [r["id"] for r in folder_records(tmp_path)] == [1]


def test_file_timeout_flag_is_checked(board, tmp_path, capsys):
    argv = ["scrape", "--site", "danbooru", "--tags", "solo", "--out", str(tmp_path), "--base-url", board.url]
    assert main([*argv, "--file-timeout", "0"]) == 2
    assert "--file-timeout" in capsys.readouterr().err and not board.hits
    with pytest.raises(ColorizeError, match="--file-timeout must be positive, got 0") as caught:
        ScrapeOptions(site="danbooru", tags="solo", out=tmp_path, file_timeout=0)
    assert caught.value.reason == "bad_value"
    assert ScrapeOptions(site="danbooru", tags="solo", out=tmp_path).file_timeout == 300.0


# --- 12. posts the metadata already shows too small ---------------------------------------------------------


@pytest.mark.parametrize("site", ["danbooru", "safebooru"])
def test_a_post_whose_metadata_says_too_small_is_not_downloaded(board, tmp_path, site):
    # A 2000x400 banner: the sample's own size is not listed, the post's is, and the sample is smaller.
    post = board.add(1, size=(2000, 400), sample_size=(850, 170), list_sample_size=False)
    for _ in range(2):
        summary = scrape(fast_options(board, tmp_path, site=site))
        assert summary.skipped == {Skip.TOO_SMALL: 1}
    assert image_hits(board, post) == 0


def post_of(**fields: object) -> Post:
    item = {"id": 1, "md5": "0" * 32, "rating": "g", "file_ext": "jpg", "media_asset": {"duration": None},
            "file_url": "https://board.test/original/a.jpg", "large_file_url": "https://board.test/sample/a.jpg"}
    return danbooru.parse_post(item | fields)


@pytest.mark.parametrize("fields", [
    {"image_width": 2000, "image_height": 400, "media_asset": {"variants": [{"type": "sample"}]}},
    {"image_width": "2000.0", "image_height": "400.0"},  # sizes as strings, even with a decimal point
    {"image_width": None, "image_height": 400},  # one side is enough to bound the short side
    {"image_width": "2000", "image_height": "400"},
], ids=["sample-size-unknown", "float-strings", "one-side", "strings"])
def test_the_post_size_bounds_the_sample_size(fields):
    with pytest.raises(Skipped) as caught:
        post = post_of(**fields)
        check_post(post, post.variant("sample"), ratings=("g",), min_size=512, known_md5s=())
    assert caught.value.reason is Skip.TOO_SMALL


def test_unreadable_sizes_are_unknown_rather_than_fatal():
    post = post_of(image_width="wide", image_height="12px")
    assert (post.original.width, post.original.height) == (None, None)


def test_a_post_found_too_small_after_download_is_not_fetched_again(board, tmp_path):
    post = board.add(1, size=(300, 200), list_size=False)  # the board does not say how big it is
    for _ in range(2):
        assert scrape(fast_options(board, tmp_path)).skipped == {Skip.TOO_SMALL: 1}
    assert image_hits(board, post) == 1
    summary = scrape(fast_options(board, tmp_path, min_size=100))  # a lower --min-size looks again
    assert summary.saved == 1 and image_hits(board, post) == 2
    assert [r["id"] for r in folder_records(tmp_path)] == [1]


# --- 13. a board that answers 429 to everything -----------------------------------------------------------


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The pauses the run's session asks for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(runner, "PoliteSession", functools.partial(PoliteSession, sleep=recorded.append))
    return recorded


def test_retry_after_is_honoured_by_the_next_post_too(board, tmp_path, waits):
    board.add(1)
    board.fault(board.image_path(board.add(2)), status(429, Retry_After="5"))
    summary = scrape(fast_options(board, tmp_path, retries=0))
    assert summary.skipped == {Skip.GAVE_UP: 1} and summary.saved == 1
    assert waits == [5.0]  # post 2 gave up at once; post 1's request still waited


def test_a_board_that_keeps_answering_429_slows_the_run_down_then_stops_it(board, tmp_path, waits):
    posts = board.add_many(range(1, 6))
    for post in posts:
        board.fault(board.image_path(post), *[status(429, Retry_After="3")] * 10)
    with pytest.raises(ColorizeError, match="429") as caught:
        scrape(fast_options(board, tmp_path, retries=2, backoff=1.0))
    assert "re-run" in str(caught.value)
    assert caught.value.reason == "throttled"
    assert sum(image_hits(board, post) for post in posts) == 10  # the bound: 10 answers of 429 in a row
    assert waits == [3, 3, 4, 8, 16, 32, 64, 120, 120]  # Retry-After, or the doubling pause once longer
    assert folder_records(tmp_path) == []


# --- 14. posts with ids that are not post ids -----------------------------------------------------------------


def listing_page(board, site: str, bad_ids: list[str]) -> tuple[str, bytes]:
    """(path, body) of a first listing page: the board's posts with copies of post 1 under `bad_ids`."""
    posts = sorted(board.posts.values(), key=lambda p: -p.id)
    if site == "danbooru":
        items = [board.danbooru_item(p) for p in posts]
        items[1:1] = [dict(items[-1], id=bad) for bad in bad_ids]
        return "/posts.json", json.dumps(items).encode()
    fields = [board.gelbooru_fields(p) for p in posts]
    fields[1:1] = [dict(fields[-1], id=bad) for bad in bad_ids]
    rows = "".join("<post " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in f.items()) + "/>" for f in fields)
    return "/index.php", f'<posts count="{len(fields)}" offset="0">{rows}</posts>'.encode()


@pytest.mark.parametrize("site", ["danbooru", "safebooru"])
@pytest.mark.parametrize("bad_ids", [["../../evil"], ["1" * 300], ["../../evil", "-3", "1" * 300]],
                         ids=["path", "300-digits", "several"])
def test_a_post_with_a_bad_id_is_skipped_and_the_search_goes_on(board, tmp_path, caplog, site, bad_ids):
    board.add_many(range(1, 4))
    path, body = listing_page(board, site, bad_ids)
    board.fault(path, status(200, body, "application/json" if site == "danbooru" else "text/xml"))
    summary = scrape(fast_options(board, tmp_path, site=site))
    assert (summary.saved, summary.stopped) == (3, "end of results")
    assert summary.skipped == {Skip.BAD_REPLY: len(bad_ids)}
    assert "bad_reply" in caplog.text and "1" * 100 not in caplog.text  # named, but shortened
    assert sorted(r["id"] for r in folder_records(tmp_path)) == [1, 2, 3]


# --- 15. disk full ----------------------------------------------------------------------------------------------

# Runs the CLI with a limit on the size of any file it writes: a write past it fails with EFBIG, the
# way a full disk fails with ENOSPC (SIGXFSZ is ignored so the write fails instead of killing).
LIMITED_CLI = (
    "import resource, runpy, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
    "limit = int(sys.argv.pop(1)); resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)); "
    "sys.argv[0] = 'colorize'; runpy.run_module('colorize.cli', run_name='__main__')"
)


def limited_cli(board, out: Path, max_file_bytes: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANBOORU_")}
    command = [sys.executable, "-c", LIMITED_CLI, str(max_file_bytes), "scrape", "--site", "danbooru",
               "--tags", "solo", "--out", str(out), "--base-url", board.url, "--rate", "1000", "--min-size", "0"]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("colorize scrape: error: "), result.stderr
    assert all(word in lines[0] for word in words), lines[0]


def test_disk_full_during_a_download_is_one_line_and_keeps_what_was_saved(board, tmp_path):
    board.add(3, ext="png", size=(16, 16))  # ~100 bytes
    board.add(2, size=(600, 520))  # a ~6 KB jpg: over the limit
    board.add(1, ext="png", size=(16, 16))
    result = limited_cli(board, tmp_path, 2000)
    assert_one_line_error(result, "danbooru_2.jpg", "File too large", "re-run")
    assert [r["id"] for r in folder_records(tmp_path)] == [3]  # and no .part file left
    summary = scrape(fast_options(board, tmp_path, min_size=0))
    assert (summary.already, summary.saved) == (1, 2)


@pytest.mark.heavy
def test_disk_full_while_recording_leaves_posts_jsonl_valid(board, tmp_path):
    board.add_many(range(1, 4), ext="png", size=(16, 16))
    probe = tmp_path / "probe"
    scrape(fast_options(board, probe, min_size=0, limit=1))
    line = len((probe / "posts.jsonl").read_bytes())
    out = tmp_path / "out"
    result = limited_cli(board, out, line + line // 2)  # the second record is cut by the limit
    assert_one_line_error(result, "posts.jsonl", "File too large")
    assert [r["id"] for r in folder_records(out)] == [3]  # the unrecorded image is not left behind
    assert (out / "posts.jsonl").read_bytes().endswith(b"}\n")
    summary = scrape(fast_options(board, out, min_size=0))
    assert (summary.already, summary.saved) == (1, 2)


# --- issue #30, 5. an answer of 200,000 nested JSON arrays ------------------------------------------------

DEEP_JSON = b"[" * 200_000 + b"]" * 200_000  # 400 KB; Python's JSON parser recurses once per level


@pytest.mark.parametrize(("site", "path", "words"), [
    ("danbooru", "/posts.json", "not a Danbooru post list"),
    ("safebooru", "/index.php", "not a Safebooru dapi answer"),
])
def test_a_deeply_nested_listing_stops_the_run_with_one_line(board, tmp_path, capsys, site, path, words):
    board.add_many(range(1, 3))
    board.fault(path, status(200, DEEP_JSON, "application/json"))
    argv = ["scrape", "--site", site, "--tags", "solo", "--out", str(tmp_path), "--base-url", board.url,
            "--rate", "1000"]
    assert main(argv) == 2  # was a RecursionError traceback
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"colorize scrape: error: {board.url}"), lines
    assert words in lines[0] and "JSON nested too deeply to parse" in lines[0]
    assert folder_records(tmp_path) == [] and len(board.hits) == 1
    board.fault(path, status(200, DEEP_JSON, "application/json"))
    with pytest.raises(ColorizeError, match=words) as caught:
        scrape(fast_options(board, tmp_path, site=site))
    assert caught.value.reason == "bad_reply"


@pytest.mark.parametrize("site", ["danbooru", "safebooru"])
def test_a_deeply_nested_post_answer_is_a_bad_reply_and_the_run_goes_on(board, tmp_path, caplog, site):
    board.add_many(range(1, 4))
    if site == "danbooru":
        board.fault("/posts/2.json", status(200, DEEP_JSON, "application/json"))
    else:  # the HTML list and post 3 come through /index.php first
        board.fault("/index.php", send, send, status(200, DEEP_JSON, "application/json"))
    summary = scrape(fast_options(board, tmp_path, site=site, via="html"))
    assert (summary.saved, summary.stopped) == (2, "end of results")
    assert summary.skipped == {Skip.BAD_REPLY: 1}
    assert f"{site} post 2 skipped: bad_reply: post 2:" in caplog.text
    assert "JSON nested too deeply to parse" in caplog.text
    assert sorted(r["id"] for r in folder_records(tmp_path)) == [1, 3]


def test_a_deeply_nested_tag_limit_answer_still_names_the_tag_limit(board, tmp_path):
    board.fault("/posts.json", status(422, b"[" * 30_000 + b'"TagLimitError"', "application/json"))
    with pytest.raises(ColorizeError, match="^danbooru allows fewer tags per search") as caught:
        scrape(fast_options(board, tmp_path))
    assert "\n" not in str(caught.value)
    assert caught.value.reason == "too_many_tags"
