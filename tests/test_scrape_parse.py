"""Scraper units without a server: post parsing, skip rules, options, posts.jsonl, image checks,
and the replay of the real recorded board answers in ../shared/booru/."""

from __future__ import annotations

import email.utils
import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image

from colorize.errors import ColorizeError
from colorize.scrape import ScrapeOptions, danbooru, safebooru
from colorize.scrape.http import retry_after_seconds
from colorize.scrape.images import inspect_image
from colorize.scrape.posts import Post, Variant, check_post
from colorize.scrape.progress import Progress
from colorize.scrape.reasons import Skip, Skipped
from colorize.scrape.store import PostLog

RECORDED = Path(__file__).resolve().parents[2] / "shared" / "booru"
BASE = "https://board.test"


def danbooru_item(post_id: int = 1, **fields: object) -> dict:
    """A minimal visible posts.json item: a 1000x800 jpg with an 850x680 sample, rating g."""
    item = {
        "id": post_id, "md5": f"{post_id:032x}", "rating": "g", "tag_string": "solo 1girl",
        "file_ext": "jpg", "image_width": 1000, "image_height": 800,
        "file_url": f"{BASE}/original/{post_id:032x}.jpg",
        "large_file_url": f"{BASE}/sample/sample-{post_id:032x}.jpg",
        "media_asset": {"duration": None},
    }
    return item | fields


def skip_of(post: Post, *, ratings: tuple[str, ...] = ("g",), min_size: int = 512,
            known: frozenset[str] = frozenset(), variant: str = "sample") -> Skip | None:
    try:
        check_post(post, post.variant(variant), ratings=ratings, min_size=min_size, known_md5s=known)
    except Skipped as skip:
        return skip.reason
    return None


# --- Danbooru posts --------------------------------------------------------------------------------


def test_download_extension_comes_from_url_not_file_ext():
    post = danbooru.parse_post(danbooru_item(file_ext="png", file_url=f"{BASE}/original/a.png"))
    sample, original = post.variant("sample"), post.variant("original")
    assert (post.file_ext, sample.ext, original.ext) == ("png", "jpg", "png")
    assert post.file_name(sample) == "danbooru_1.jpg"
    assert post.file_name(original) == "danbooru_1.png"


def test_sample_size_is_scaled_to_850_wide_when_variants_are_missing():
    sample = danbooru.parse_post(danbooru_item()).variant("sample")
    assert (sample.width, sample.height) == (850, 680)  # 800 * 850 / 1000


def test_post_without_large_file_uses_the_original_as_sample():
    post = danbooru.parse_post(danbooru_item(large_file_url=danbooru_item()["file_url"]))
    assert post.variant("sample") == post.variant("original")


def test_hidden_post_without_url_keys_is_skipped_as_no_url():
    item = {k: v for k, v in danbooru_item().items() if k not in ("file_url", "large_file_url", "md5")}
    post = danbooru.parse_post(item)
    assert (post.original, post.sample, post.md5) == (None, None, None)
    assert skip_of(post) is Skip.NO_URL


@pytest.mark.parametrize("fields", [
    {"file_ext": "gif", "file_url": f"{BASE}/a.gif", "large_file_url": f"{BASE}/a.gif"},
    {"file_ext": "webm", "file_url": f"{BASE}/a.webm", "large_file_url": f"{BASE}/a.webm"},
    {"file_ext": "mp4"}, {"file_ext": "zip"}, {"file_ext": "swf"},
    {"media_asset": {"duration": 1.5}},  # animated png/webp: only the duration tells
    {"tag_string": "animated solo"},
])
def test_animated_and_video_posts_are_not_still_images(fields):
    assert skip_of(danbooru.parse_post(danbooru_item(**fields))) is Skip.NOT_STILL


SMALL_NO_SAMPLE = {"image_width": 600, "image_height": 500, "large_file_url": danbooru_item()["file_url"]}


@pytest.mark.parametrize(("fields", "options", "reason"), [
    ({"rating": "q"}, {}, Skip.RATING),
    ({"rating": "s"}, {"ratings": ("g", "s")}, None),
    (SMALL_NO_SAMPLE, {}, Skip.TOO_SMALL),
    ({}, {"min_size": 700}, Skip.TOO_SMALL),  # the 850x680 sample is what gets downloaded
    ({}, {"min_size": 700, "variant": "original"}, None),  # the 1000x800 original is big enough
    ({"file_url": f"{BASE}/a.avif", "large_file_url": f"{BASE}/a.avif"}, {}, Skip.UNSUPPORTED),
    ({}, {"known": frozenset({f"{1:032x}"})}, Skip.DUPLICATE),
    ({}, {}, None),
])
def test_skip_rules(fields, options, reason):
    assert skip_of(danbooru.parse_post(danbooru_item(**fields)), **options) is reason


def test_file_name_is_built_from_site_id_and_a_checked_extension():
    post = danbooru.parse_post(danbooru_item(7, file_url=f"{BASE}/x/..%2F..%2Fevil name.PNG?name=a.sh"))
    assert post.file_name(post.variant("original")) == "danbooru_7.png"
    php = danbooru.parse_post(danbooru_item(8, file_url=f"{BASE}/image.php?f=a.jpg"))
    with pytest.raises(Skipped) as caught:
        php.file_name(php.variant("original"))
    assert caught.value.reason is Skip.UNSUPPORTED


@pytest.mark.parametrize("url", ["file:///etc/passwd.jpg", "javascript:alert(1)//a.jpg", "http://[::1/a.jpg"])
def test_post_with_a_non_http_or_malformed_url_is_unsafe(url):
    assert skip_of(danbooru.parse_post(danbooru_item(file_url=url, large_file_url=url))) is Skip.UNSAFE_URL
    assert skip_of(safebooru.parse_post({"id": 1, "rating": "general", "file_url": url})) is Skip.UNSAFE_URL


def test_relative_and_protocol_relative_urls_are_made_absolute():
    post = safebooru.parse_post({"id": "1", "file_url": "//safebooru.org/i/a.jpg", "sample_url": "/s/s.jpg"})
    assert post.original.url == "https://safebooru.org/i/a.jpg"
    assert post.sample.url == "https://safebooru.org/s/s.jpg"


# --- Danbooru queries ------------------------------------------------------------------------------


def test_only_plain_tags_and_counted_metatags_use_up_the_tag_limit():
    tags = ["holding_staff", "solo", "filetype:png,jpg", "-rating:e", "honkai:_star_rail", "order:score"]
    assert danbooru.counted_tags(tags) == ["holding_staff", "solo", "honkai:_star_rail", "order:score"]


def test_query_adds_the_rating_metatag():
    assert danbooru.build_query(["holding_staff", "solo"], ("s", "g")) == "holding_staff solo rating:g,s"


def test_tag_limit_error_says_how_many_tags_are_allowed():
    body = b'{"success": false, "message": "You cannot search for more than 6 tags at a time."}'
    message = str(danbooru.tag_limit_error(body, ["a", "b", "rating:g"]))
    assert "at most 6 tags" in message and "has 2 that count" in message


# --- Safebooru ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("word", "letter"), [
    ("s", "g"), ("safe", "g"), ("general", "g"), ("sensitive", "s"), ("questionable", "q"), ("e", "e"),
    ("unheard_of", None),
])
def test_safebooru_ratings_become_danbooru_letters(word, letter):
    assert safebooru.parse_post({"id": 1, "rating": word}).rating == letter


@pytest.mark.parametrize("body", [b"", b"  \n", b"[]"])
def test_empty_dapi_answers_are_no_posts(body):
    assert safebooru.parse_dapi(body) == ([], None)


def test_non_dapi_xml_is_refused():
    with pytest.raises(ValueError):
        safebooru.parse_dapi(b"<html><body>maintenance</body></html>")


def test_safebooru_html_ids_come_only_from_post_view_links():
    view = b'<a href="index.php?page=post&amp;s=view&amp;id=%d">x</a>'
    html = view % 12 + b'<a href="index.php?page=post&amp;s=list&amp;pid=42">next</a>' + view % 9 + view % 12
    assert safebooru.post_ids_from_html(html) == [12, 9]


# --- HTTP helpers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("7", 7.0), ("0", 0.0), ("soon", None), (None, None), ("", None),
])
def test_retry_after_seconds(value, expected):
    assert retry_after_seconds(value) == expected


def test_retry_after_http_date():
    when = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 27 <= retry_after_seconds(when) <= 30


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_is_drawn_on_terminals_only():
    terminal, pipe = FakeTerminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress(stream, every=0.0)
        progress.show(seen=5, saved=3, skipped=2, requests=7)
        progress.close()
    assert "5 seen | 3 saved | 2 skipped | " in terminal.getvalue() and " req/s" in terminal.getvalue()
    assert pipe.getvalue() == ""


# --- options ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "words", "reason"), [
    ({"tags": ""}, "--tags", "missing_value"),
    ({"tags": "solo rating:general"}, "--rating", "conflicting"),
    ({"tags": "solo order:score"}, "order:", "bad_value"),
    ({"ratings": "general,spicy"}, "--rating", "bad_value"),
    ({"user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}, "--user-agent", "bad_value"),
    ({"user_agent": "python-requests/2.32"}, "--user-agent", "bad_value"),
    ({"base_url": "file:///etc"}, "--base-url", "bad_value"),
    ({"base_url": "ftp://board.test"}, "--base-url", "bad_value"),
    ({"rate": 0}, "--rate", "bad_value"),
    ({"limit": 0}, "--limit", "bad_value"),
    ({"max_bytes": 0}, "--max-bytes", "bad_value"),
    ({"login": "me"}, "DANBOORU_API_KEY", "missing_value"),
    ({"site": "gelbooru"}, "--site", "bad_value"),
    ({"variant": "huge"}, "--variant", "bad_value"),
])
def test_bad_options_are_refused_with_the_flag_named(overrides, words, reason, tmp_path):
    settings = {"site": "danbooru", "tags": "solo", "out": tmp_path} | overrides
    with pytest.raises(ColorizeError, match=re.escape(words)) as info:
        ScrapeOptions(**settings)
    assert info.value.reason == reason


def test_option_defaults_are_safe_and_polite(tmp_path):
    options = ScrapeOptions(site="danbooru", tags="holding_staff solo", out=tmp_path)
    assert options.tags == ("holding_staff", "solo")
    assert (options.ratings, options.variant, options.rate, options.min_size) == (("g",), "sample", 1.0, 512)
    assert options.base_url == "https://danbooru.donmai.us"
    assert re.fullmatch(r"manga-colorize/\d+\.\d+\.\d+\S*", str(options.user_agent))
    assert ScrapeOptions(site="safebooru", tags="a", out=tmp_path).base_url == "https://safebooru.org"


def test_account_name_goes_into_the_default_user_agent(tmp_path):
    options = ScrapeOptions(site="danbooru", tags="a", out=tmp_path, login="alice", api_key="k")
    assert str(options.user_agent).endswith("(by alice)")


# --- posts.jsonl ---------------------------------------------------------------------------------


def test_post_log_round_trips_and_drops_a_line_cut_short(tmp_path):
    log = PostLog(tmp_path)
    log.add({"site": "danbooru", "id": 1, "md5": "a" * 32, "file_md5": "b" * 32})
    with log.path.open("a") as file:
        file.write('{"site": "danbooru", "id": 2, "md5"')  # a crash mid-write
    again = PostLog(tmp_path)
    assert (("danbooru", 1) in again, ("danbooru", 2) in again) == (True, False)
    assert again.md5s == {"a" * 32, "b" * 32}
    assert log.path.read_text().endswith("}\n") and len(log.path.read_text().splitlines()) == 1


def test_post_log_refuses_a_damaged_middle_line(tmp_path):
    lines = ['{"site": "danbooru", "id": 1}', "not json", '{"site": "danbooru", "id": 2}']
    (tmp_path / "posts.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(ColorizeError, match="posts.jsonl: line 2") as info:
        PostLog(tmp_path)
    assert info.value.reason == "bad_log"


# --- image checks ---------------------------------------------------------------------------------


def save(tmp_path: Path, name: str, image: Image.Image, fmt: str, **kwargs: object) -> Path:
    path = tmp_path / name
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    path.write_bytes(buffer.getvalue())
    return path


def test_inspect_reports_size_bytes_and_md5(tmp_path):
    path = save(tmp_path, "a.png", Image.new("RGB", (30, 20), "red"), "PNG")
    info = inspect_image(path, "png", max_pixels=600)
    assert (info.width, info.height, info.bytes) == (30, 20, path.stat().st_size)
    assert re.fullmatch(r"[0-9a-f]{32}", info.md5)


@pytest.mark.parametrize(("name", "fmt", "kwargs", "ext", "max_pixels", "reason"), [
    ("a.png", "PNG", {}, "png", 599, Skip.TOO_MANY_PIXELS),  # 30x20 = 600 pixels
    ("a.jpg", "PNG", {}, "jpg", 10**6, Skip.BAD_IMAGE),  # a png named .jpg
    ("a.webp", "WEBP", {"save_all": True, "append_images": [Image.new("RGB", (30, 20), "blue")]},
     "webp", 10**6, Skip.NOT_STILL),
])
def test_inspect_refuses(tmp_path, name, fmt, kwargs, ext, max_pixels, reason):
    path = save(tmp_path, name, Image.new("RGB", (30, 20), "red"), fmt, **kwargs)
    with pytest.raises(Skipped) as caught:
        inspect_image(path, ext, max_pixels=max_pixels)
    assert caught.value.reason is reason


def test_inspect_refuses_a_truncated_jpeg(tmp_path):
    path = save(tmp_path, "a.jpg", Image.effect_noise((64, 64), 50).convert("RGB"), "JPEG")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(Skipped) as caught:
        inspect_image(path, "jpg", max_pixels=10**6)
    assert caught.value.reason is Skip.BAD_IMAGE


# --- replay of the real recorded answers ------------------------------------------------------


def _danbooru_single(raw: bytes) -> None:
    item = json.loads(raw)
    post = danbooru.parse_post(item)
    sample = [v for v in item["media_asset"]["variants"] if v["type"] == "sample"][0]
    assert (post.id, post.md5, post.rating) == (item["id"], item["md5"], item["rating"])
    assert post.tags == tuple(item["tag_string"].split())
    assert post.original.url == item["file_url"]
    assert post.variant("sample") == Variant(item["large_file_url"], sample["width"], sample["height"])
    assert skip_of(post) is None  # a general-rated jpg sample of 850 px: saved by default
    assert post.file_name(post.variant("sample")) == f"danbooru_{item['id']}.jpg"


def _danbooru_png_with_jpg_sample(raw: bytes) -> None:
    item = json.loads(raw)
    post = danbooru.parse_post(item)
    assert item["file_ext"] == "png" and post.variant("sample").ext == "jpg"
    assert post.file_name(post.variant("sample")).endswith(".jpg")
    assert post.file_name(post.variant("original")).endswith(".png")
    assert skip_of(post) is Skip.RATING  # rating s: not saved by default...
    assert skip_of(post, ratings=("g", "s")) is None  # ...but saved when asked for


def _danbooru_gifs(raw: bytes) -> None:
    items = json.loads(raw)
    posts = danbooru.parse_posts(raw)
    assert [post.id for post in posts] == [item["id"] for item in items]
    assert all(post.variant("sample") == post.variant("original") for post in posts)  # no sample
    assert [skip_of(post) for post in posts] == [Skip.NOT_STILL] * len(items)


def _danbooru_tag_limit(raw: bytes) -> None:
    allowed = re.search(rb"more than (\d+) tags", raw).group(1).decode()
    assert f"at most {allowed} tags" in str(danbooru.tag_limit_error(raw, ["a", "b", "c"]))
    assert danbooru.tag_limit_error(raw, ["a", "b", "c"]).reason == "too_many_tags"


def _safebooru_json(raw: bytes) -> None:
    items = json.loads(raw)
    posts, count = safebooru.parse_dapi(raw, safebooru.DEFAULT_URL)
    assert count is None  # JSON lists carry no total
    for post, item in zip(posts, items, strict=True):
        assert (post.id, post.md5, post.rating) == (item["id"], item["hash"], "g")
        assert post.tags == tuple(item["tags"].split())
        assert post.original == Variant(item["file_url"], item["width"], item["height"])
        sample = Variant(item["sample_url"], item["sample_width"], item["sample_height"])
        assert post.variant("sample") == sample
        small = min(item["sample_width"], item["sample_height"]) < 512
        assert skip_of(post) is (Skip.TOO_SMALL if small else None)


def _gelbooru_xml(raw: bytes) -> None:
    text = raw.decode()
    posts, count = safebooru.parse_dapi(raw, safebooru.DEFAULT_URL)
    assert count == int(re.search(r'<posts count="(\d+)"', text).group(1))
    assert [p.id for p in posts] == [int(i) for i in re.findall(r'\sid="(\d+)"', text)]
    assert [p.md5 for p in posts] == re.findall(r'\smd5="([0-9a-f]{32})"', text)
    assert [p.original.url for p in posts] == re.findall(r'\sfile_url="([^"]+)"', text)
    first_tags = re.search(r'\stags="([^"]*)"', text).group(1)
    assert posts[0].tags == tuple(first_tags.split()) and "" not in posts[0].tags
    assert {p.rating for p in posts} <= {"g", "q", "e"}  # Gelbooru's s/q/e, with s = safe = general


def _danbooru_legacy_html(raw: bytes) -> None:
    expected = [int(i) for i in re.findall(rb'<article[^>]*\sid="post_(\d+)"', raw)]
    assert expected and danbooru.post_ids_from_html(raw) == expected


def _danbooru_legacy_xml(raw: bytes) -> None:
    # Danbooru 2.x posts.xml (history only): the dapi reader must refuse it rather than guess.
    with pytest.raises(ValueError):
        safebooru.parse_dapi(raw)


REPLAYS = {
    "danbooru_post_single_2025.json": _danbooru_single,
    "danbooru_post_png_with_jpg_sample_2021.json": _danbooru_png_with_jpg_sample,
    "danbooru_posts_gif_2023.json": _danbooru_gifs,
    "danbooru_error_422_taglimit.json": _danbooru_tag_limit,
    "safebooru_dapi_json_2025.json": _safebooru_json,
    "gelbooru_dapi_posts_2017.xml": _gelbooru_xml,
    "danbooru_posts_page_legacy_2016.html": _danbooru_legacy_html,
    "danbooru_posts_legacy_2016.xml": _danbooru_legacy_xml,
}
needs_recordings = pytest.mark.skipif(not RECORDED.is_dir(), reason=f"{RECORDED} is absent")


@needs_recordings
@pytest.mark.parametrize("name", sorted(REPLAYS))
def test_recorded_answer_replays_through_the_parser(name):
    path = RECORDED / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    REPLAYS[name](path.read_bytes())


@needs_recordings
def test_every_recorded_answer_has_a_replay():
    recorded = {p.name for p in RECORDED.iterdir() if p.suffix in (".json", ".xml", ".html")}
    assert recorded <= set(REPLAYS)
