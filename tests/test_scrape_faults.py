"""Faults a board or network can throw at the scraper, each scripted on the fake board.

Every test also checks, through folder_records, that nothing half-written is left behind.
"""

from __future__ import annotations

import pytest
from booru_server import (  # noqa: F401 (pytest fixtures)
    board,
    challenge,
    endless,
    fast_options,
    folder_records,
    half_body,
    redirect,
    stall,
    status,
    truncated,
)

from colorize.errors import ColorizeError
from colorize.scrape import scrape
from colorize.scrape.http import GaveUp, PoliteSession
from colorize.scrape.reasons import Skip


def one_post(board):
    """A board with one post; returns the path of the file a default run downloads."""
    return board.image_path(board.add(1))


def session(**overrides) -> PoliteSession:
    settings = dict(rate=1000.0, max_bytes=10**6, timeout=2.0, retries=3, backoff=0.01) | overrides
    return PoliteSession("manga-colorize/test", **settings)


# --- retries and backoff (PoliteSession) ---------------------------------------------------------


def test_backoff_doubles_and_honours_retry_after(board):
    board.fault("/posts.json", status(500), status(429, Retry_After="7"), status(503))
    waits = []
    body = session(sleep=waits.append).get(board.url + "/posts.json")
    assert body == b"[]"
    assert waits == [0.01, 7.0, 0.04]  # backoff * 2**k, except where the board said how long


def test_retry_after_is_capped_by_max_delay(board):
    board.fault("/posts.json", status(429, Retry_After="86400"))
    waits = []
    session(sleep=waits.append, max_delay=60.0).get(board.url + "/posts.json")
    assert waits == [60.0]


def test_retries_are_bounded(board):
    board.fault("/posts.json", *[status(503)] * 5)
    waits = []
    with pytest.raises(GaveUp, match="after 3 attempts"):
        session(sleep=waits.append, retries=2).get(board.url + "/posts.json")
    assert len(board.hits) == 3 and len(waits) == 2


# --- image downloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [
    status(500),
    status(429, b"You're doing that too fast. Wait a minute and try again.", Retry_After="0"),
    stall(1.0),  # longer than the 0.3 s timeout
    half_body(),  # connection reset mid-body
], ids=["500", "429", "timeout", "reset-mid-body"])
def test_transient_fault_then_success_saves_the_image(board, tmp_path, fault):
    path = one_post(board)
    board.fault(path, fault)
    summary = scrape(fast_options(board, tmp_path, timeout=0.3))
    assert (summary.saved, summary.skipped.total()) == (1, 0)
    assert len(board.requests_to(path)) == 2
    assert [r["id"] for r in folder_records(tmp_path)] == [1]


def test_persistent_fault_skips_the_post_and_the_run_goes_on(board, tmp_path):
    board.add(1)
    path = board.image_path(board.add(2))
    board.fault(path, *[status(503)] * 3)
    summary = scrape(fast_options(board, tmp_path, retries=2))
    assert summary.skipped == {Skip.GAVE_UP: 1}
    assert len(board.requests_to(path)) == 3
    assert [r["id"] for r in folder_records(tmp_path)] == [1]


@pytest.mark.parametrize(("fault", "reason"), [
    (truncated, Skip.BAD_IMAGE),
    (status(200, b"<html><body>Not here</body></html>", "text/html"), Skip.BAD_IMAGE),
    (status(200, b"<html><body>Not here</body></html>", "image/jpeg"), Skip.BAD_IMAGE),  # lies about its type
    (redirect("file:///etc/passwd"), Skip.UNSAFE_URL),
    (endless(3 * 2**20), Skip.TOO_LARGE),  # no Content-Length: the cap is enforced while streaming
    (status(403, b"Forbidden"), Skip.HTTP_ERROR),
], ids=["truncated", "html", "html-as-jpeg", "redirect-to-file", "over-size-stream", "403"])
def test_bad_download_is_skipped_without_retry_or_leftovers(board, tmp_path, fault, reason):
    path = one_post(board)
    board.fault(path, fault)
    summary = scrape(fast_options(board, tmp_path, max_bytes=2**20))
    assert summary.skipped == {reason: 1}
    assert len(board.requests_to(path)) == 1
    assert folder_records(tmp_path) == []


def test_declared_size_over_the_cap_is_refused(board, tmp_path):
    path = one_post(board)
    size = len(board.files[path][0])
    summary = scrape(fast_options(board, tmp_path, max_bytes=size - 1))
    assert summary.skipped == {Skip.TOO_LARGE: 1}
    assert folder_records(tmp_path) == []


def test_redirect_to_http_is_followed(board, tmp_path):
    path = one_post(board)
    board.fault(path, redirect(path))
    assert scrape(fast_options(board, tmp_path)).saved == 1
    assert len(board.requests_to(path)) == 2


def test_pixel_cap_refuses_a_decompression_bomb(board, tmp_path):
    board.add(1, ext="png", size=(1200, 1000))  # 1.2 MP in a few KB of png
    summary = scrape(fast_options(board, tmp_path, max_pixels=10**6))
    assert summary.skipped == {Skip.TOO_MANY_PIXELS: 1}
    assert folder_records(tmp_path) == []


# --- faults that end the run ----------------------------------------------------------------------


def test_cloudflare_challenge_on_the_listing_stops_at_once(board, tmp_path):
    one_post(board)
    board.fault("/posts.json", challenge())
    with pytest.raises(ColorizeError, match="Cloudflare challenge") as info:
        scrape(fast_options(board, tmp_path))
    assert info.value.reason == "challenged"
    assert len(board.hits) == 1  # no retry storm
    assert folder_records(tmp_path) == []


def test_cloudflare_challenge_on_an_image_stops_with_earlier_posts_kept(board, tmp_path):
    board.add_many(range(1, 4))
    board.fault(board.image_path(board.posts[2]), challenge())
    with pytest.raises(ColorizeError, match="--user-agent") as info:
        scrape(fast_options(board, tmp_path))
    assert info.value.reason == "challenged"
    assert [r["id"] for r in folder_records(tmp_path)] == [3]
    assert not board.requests_to(board.image_path(board.posts[1]))


def test_listing_that_keeps_failing_ends_the_run_with_a_resume_hint(board, tmp_path):
    one_post(board)
    board.fault("/posts.json", *[status(500)] * 3)
    with pytest.raises(ColorizeError, match="re-run the same command to resume") as info:
        scrape(fast_options(board, tmp_path, retries=2))
    assert info.value.reason == "listing_failed"


def test_listing_that_is_not_json_is_a_clear_error(board, tmp_path):
    board.fault("/posts.json", status(200, b"<html>maintenance</html>", "text/html"))
    with pytest.raises(ColorizeError, match="not a Danbooru post list") as info:
        scrape(fast_options(board, tmp_path))
    assert info.value.reason == "bad_reply"
