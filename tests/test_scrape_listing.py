"""Listing, paging and filtering against the fake boards on 127.0.0.1 (tests/booru_server.py)."""

from __future__ import annotations

import logging

import pytest
from booru_server import board, fast_options, folder_records, send, status  # noqa: F401 (pytest fixtures)

from colorize.errors import ColorizeError
from colorize.scrape import scrape
from colorize.scrape.reasons import Skip


def listing_pages(board, path="/posts.json", key="page"):
    return [hit.query.get(key) for hit in board.requests_to(path)]


def test_danbooru_pages_continue_below_the_lowest_id_until_an_empty_page(board, tmp_path):
    board.add_many(range(1, 8))  # ids 7..1, newest first: pages (7 6 5) (4 3 2) (1) ()
    summary = scrape(fast_options(board, tmp_path, per_page=3))
    assert listing_pages(board) == [None, "b5", "b2", "b1"]
    assert (summary.saved, summary.stopped) == (7, "end of results")
    assert sorted(r["id"] for r in folder_records(tmp_path)) == list(range(1, 8))


def test_limit_stops_the_listing_early(board, tmp_path):
    board.add_many(range(1, 8))
    summary = scrape(fast_options(board, tmp_path, per_page=3, limit=4))
    assert (summary.saved, summary.stopped) == (4, "limit")
    assert [r["id"] for r in folder_records(tmp_path)] == [7, 6, 5, 4]
    assert listing_pages(board) == [None, "b5"]


@pytest.mark.parametrize("site", ["danbooru", "safebooru"])
def test_a_board_that_ignores_the_page_parameter_cannot_loop_forever(board, tmp_path, site):
    board.add_many(range(1, 8))
    path = "/posts.json" if site == "danbooru" else "/index.php"
    first_page = board.answer(path, {"tags": "solo", "limit": "3"}, authorized=False)
    board.fault(path, *[status(200, first_page.body, first_page.content_type)] * 5)
    summary = scrape(fast_options(board, tmp_path, site=site, per_page=3))
    assert (summary.saved, summary.stopped) == (3, "end of results")
    assert len(board.requests_to(path)) == 2


def test_safebooru_pid_pages_stop_once_count_posts_are_listed(board, tmp_path):
    board.add_many(range(1, 8))
    summary = scrape(fast_options(board, tmp_path, site="safebooru", per_page=3))
    assert listing_pages(board, "/index.php", "pid") == ["0", "1", "2"]  # 3 * 3 >= count 7: no pid=3
    assert summary.saved == 7
    assert sorted(r["file"] for r in folder_records(tmp_path)) == [f"safebooru_{i}.jpg" for i in range(1, 8)]


def test_rating_metatag_does_not_use_up_the_two_tag_limit(board, tmp_path):
    board.add(1, tags=("holding_staff", "solo"))
    board.add(2, tags=("holding_staff", "solo"), rating="q")
    summary = scrape(fast_options(board, tmp_path, tags="holding_staff solo"))
    assert board.requests_to("/posts.json")[0].query["tags"] == "holding_staff solo rating:g"
    assert summary.saved == 1 and [r["id"] for r in folder_records(tmp_path)] == [1]


def test_three_tags_end_the_run_with_the_allowed_count(board, tmp_path):
    board.add(1, tags=("a", "b", "c"))
    with pytest.raises(ColorizeError, match="at most 2 tags") as info:
        scrape(fast_options(board, tmp_path, tags="a b c"))
    assert info.value.reason == "too_many_tags"
    assert len(board.hits) == 1  # no retry of a 422
    assert folder_records(tmp_path) == []


def test_credentials_lift_the_tag_limit_and_stay_on_the_board_host(board, tmp_path):
    board.cdn_url = board.url.replace("127.0.0.1", "localhost")  # files on another host name
    board.add(1, tags=("a", "b", "c"))
    summary = scrape(fast_options(board, tmp_path, tags="a b c", login="alice", api_key="secret"))
    assert summary.saved == 1
    listing = board.requests_to("/posts.json")[0]
    image = board.requests_to(board.image_path(board.posts[1]))[0]
    assert listing.headers["Authorization"].startswith("Basic ")
    assert "Authorization" not in image.headers
    assert listing.headers["User-Agent"].endswith("(by alice)")


def test_page_limit_410_ends_paging_cleanly(board, tmp_path, caplog):
    board.add_many(range(1, 8))
    gone = b'{"success": false, "message": "You cannot go beyond page 1000."}'
    board.fault("/posts.json", send, status(410, gone, "application/json"))
    with caplog.at_level(logging.WARNING, logger="colorize.scrape"):
        summary = scrape(fast_options(board, tmp_path, per_page=3))
    assert (summary.saved, summary.stopped) == (3, "end of results")
    assert len(board.requests_to("/posts.json")) == 2
    assert "410" in caplog.text
    assert len(folder_records(tmp_path)) == 3


def test_filters_count_each_skip_reason(board, tmp_path):
    board.add(1)
    board.add(2, hidden=True)
    board.add(3, ext="gif", duration=1.2)
    board.add(4, ext="webm", duration=3.0)
    board.add(5, ext="png", size=(1200, 1040), sample_size=(850, 737))
    board.add(6, size=(400, 300))
    summary = scrape(fast_options(board, tmp_path))
    assert summary.skipped == {Skip.NO_URL: 1, Skip.NOT_STILL: 2, Skip.TOO_SMALL: 1}
    assert (summary.seen, summary.saved) == (6, 2)
    records = {r["id"]: r for r in folder_records(tmp_path)}
    assert records[5]["file"] == "danbooru_5.jpg"  # a png original, saved as its jpg sample
    assert (records[5]["width"], records[5]["height"]) == (850, 737)
    assert records[1]["md5"] == board.posts[1].md5 == records[1]["file_md5"]


def test_safebooru_drops_ratings_not_asked_for(board, tmp_path):
    board.add(1)
    board.add(2, rating="s")
    board.add(3, rating="q")
    summary = scrape(fast_options(board, tmp_path, site="safebooru", ratings="general,sensitive"))
    assert summary.skipped == {Skip.RATING: 1}
    assert sorted(r["rating"] for r in folder_records(tmp_path)) == ["g", "s"]


def test_md5_dedupe_across_reposts_tags_and_sites(board, tmp_path):
    board.add(1, tags=("solo", "staff"))
    board.add(2, tags=("solo",))
    board.add(3, tags=("solo",), seed=1)  # a repost of post 1: same file, same md5
    first = scrape(fast_options(board, tmp_path, tags="staff"))
    second = scrape(fast_options(board, tmp_path, tags="solo"))
    third = scrape(fast_options(board, tmp_path, site="safebooru", tags="solo"))  # the same files again
    assert (first.saved, second.saved, third.saved) == (1, 1, 0)
    assert (second.already, second.skipped) == (1, {Skip.DUPLICATE: 1})
    assert third.skipped == {Skip.DUPLICATE: 3}
    assert [len(board.requests_to(board.image_path(p))) for p in board.posts.values()] == [1, 1, 1]
    assert sorted(r["id"] for r in folder_records(tmp_path)) == [1, 2]


def test_original_variant_is_checked_against_the_board_md5(board, tmp_path):
    board.add(1, ext="png", size=(700, 600), sample_size=(600, 514))
    forged = board.add(2)
    board.files[board.original_path(forged)] = board.files[board.original_path(board.add(3))]
    summary = scrape(fast_options(board, tmp_path, variant="original"))
    assert summary.skipped == {Skip.MD5_MISMATCH: 1}
    assert sorted(r["file"] for r in folder_records(tmp_path)) == ["danbooru_1.png", "danbooru_3.jpg"]


def test_danbooru_via_html_reads_article_ids_and_fetches_each_post(board, tmp_path):
    board.add_many(range(1, 6))
    board.add(6, hidden=True)  # the HTML listing does not render it, so it is never fetched
    summary = scrape(fast_options(board, tmp_path, via="html", per_page=2))
    assert listing_pages(board, "/posts") == [None, "b5", "b3", "b1"]
    fetched = sorted(h.path for h in board.hits if h.path.startswith("/posts/"))
    assert fetched == [f"/posts/{i}.json" for i in range(1, 6)]
    assert summary.saved == 5 and sorted(r["id"] for r in folder_records(tmp_path)) == [1, 2, 3, 4, 5]


def test_safebooru_via_html_reads_view_links_and_fetches_each_post(board, tmp_path):
    board.add_many(range(1, 6))
    summary = scrape(fast_options(board, tmp_path, site="safebooru", via="html"))
    lists = [h.query["pid"] for h in board.requests_to("/index.php") if h.query.get("s") == "list"]
    fetches = [h.query["id"] for h in board.requests_to("/index.php") if "id" in h.query]
    assert lists == ["0", "3", "5"]  # pid is an offset: pages of 3, then 2, then none
    assert fetches == ["5", "4", "3", "2", "1"]
    assert summary.saved == 5 and sorted(r["id"] for r in folder_records(tmp_path)) == [1, 2, 3, 4, 5]


def test_post_that_vanishes_between_html_listing_and_fetch_is_skipped(board, tmp_path):
    board.add_many(range(1, 4))
    board.fault("/posts/2.json", status(404, b'{"success": false, "message": "That record was not found."}'))
    summary = scrape(fast_options(board, tmp_path, via="html"))
    assert summary.skipped == {Skip.HTTP_ERROR: 1}
    assert [r["id"] for r in folder_records(tmp_path)] == [3, 1]


def test_safebooru_post_answer_without_the_post_is_skipped(board, tmp_path):
    board.add_many(range(1, 4))
    empty = b'<?xml version="1.0" encoding="UTF-8"?><posts count="0" offset="0"></posts>'
    board.fault("/index.php", send, status(200, empty, "text/xml"))  # the first list page, then post 3
    summary = scrape(fast_options(board, tmp_path, site="safebooru", via="html"))
    assert summary.skipped == {Skip.BAD_REPLY: 1}
    assert [r["id"] for r in folder_records(tmp_path)] == [2, 1]
