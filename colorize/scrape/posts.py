"""The board-independent view of a post, and the rules that decide whether to download it."""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from colorize.scrape.http import require_http
from colorize.scrape.reasons import Skip, Skipped

RATING_NAMES = {"g": "general", "s": "sensitive", "q": "questionable", "e": "explicit"}
STILL_EXTS = frozenset({"jpg", "jpeg", "png", "webp"})  # what `colorize build` reads
MOVING_EXTS = frozenset({"gif", "webm", "mp4", "zip", "swf"})  # animation, video, ugoira, flash


def url_ext(url: str) -> str:
    """The lower-case extension of a URL's path ('' when it has none or the URL is malformed)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    return posixpath.splitext(path)[1].lstrip(".").lower()


def optional_int(value: Any) -> int | None:
    """A size field as an int; None for missing, empty or zero (boards write 0 for 'no sample')."""
    return int(value) if value not in (None, "", 0, "0") else None


def absolute_url(base_url: str, url: str) -> str:
    """Resolves protocol-relative (`//host/...`) and site-relative (`/data/...`) URLs."""
    return urljoin(base_url + "/", url)


@dataclass(frozen=True)
class Variant:
    """One downloadable file of a post, with its size in pixels when the board says it."""

    url: str
    width: int | None = None
    height: int | None = None

    @property
    def ext(self) -> str:
        return url_ext(self.url)


def make_variant(base_url: str, url: Any, width: Any, height: Any) -> Variant | None:
    """A Variant with an absolute URL and parsed sizes, or None when the board gave no URL."""
    if not url:
        return None
    try:
        url = absolute_url(base_url, str(url))
    except ValueError:  # malformed: kept as given, and refused by check_post as unsafe
        url = str(url)
    return Variant(url, optional_int(width), optional_int(height))


def sample_or_original(original: Variant | None, sample: Variant | None) -> Variant | None:
    """The sample, or the original itself when the board has no distinct smaller copy."""
    if original is None or sample is None or sample.url == original.url:
        return original
    return sample


@dataclass(frozen=True)
class Post:
    """What the scraper needs from a post of any board.

    `original` and `sample` are None when the board hides the file (banned or restricted posts);
    `sample` is the original itself when the board has no smaller copy. `rating` is a Danbooru
    letter (g/s/q/e) or None when the board's value is unknown.
    """

    site: str
    id: int
    md5: str | None
    rating: str | None
    tags: tuple[str, ...]
    file_ext: str
    animated: bool
    source: str
    original: Variant | None
    sample: Variant | None

    def variant(self, which: str) -> Variant | None:
        """The file to download for --variant `which` ('sample' falls back to the original)."""
        return (self.sample or self.original) if which == "sample" else self.original

    def file_name(self, variant: Variant) -> str:
        """`<site>_<id>.<ext>`: built only from checked values, never from server strings."""
        ext = variant.ext
        if ext not in STILL_EXTS:
            raise Skipped(Skip.UNSUPPORTED, f".{ext}")
        return f"{self.site}_{self.id:d}.{'jpg' if ext == 'jpeg' else ext}"


def check_post(
    post: Post, variant: Variant | None, *, ratings: Collection[str], min_size: int,
    known_md5s: Collection[str],
) -> Variant:
    """Returns the variant to download, or raises Skipped with the first rule the post fails."""
    if variant is None:
        raise Skipped(Skip.NO_URL)
    require_http(variant.url)
    if post.animated or post.file_ext in MOVING_EXTS or variant.ext in MOVING_EXTS:
        raise Skipped(Skip.NOT_STILL, post.file_ext)
    if post.rating not in ratings:
        raise Skipped(Skip.RATING, str(post.rating))
    if variant.ext not in STILL_EXTS:
        raise Skipped(Skip.UNSUPPORTED, f".{variant.ext}")
    if variant.width and variant.height and min(variant.width, variant.height) < min_size:
        raise Skipped(Skip.TOO_SMALL, f"{variant.width}x{variant.height}")
    if post.md5 in known_md5s:
        raise Skipped(Skip.DUPLICATE, str(post.md5))
    return variant


class Board(Protocol):
    """A site the scraper can list and fetch posts from (see danbooru.py, safebooru.py)."""

    site: str

    def search(self, tags: Sequence[str], ratings: Collection[str]) -> Iterator[Post]:
        """Posts of a tag search through the JSON/XML API, newest first, to the end."""
        ...

    def search_html(self, tags: Sequence[str], ratings: Collection[str]) -> Iterator[int]:
        """Post ids of a tag search read from the board's HTML listing pages."""
        ...

    def fetch_post(self, post_id: int) -> Post:
        """One post's API answer; raises Skipped when it cannot be had."""
        ...
