"""The board-independent view of a post, and the rules that decide whether to download it."""

from __future__ import annotations

import posixpath
import re
import reprlib
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from colorize.scrape.http import require_http
from colorize.scrape.reasons import Skip, Skipped

RATING_NAMES = {"g": "general", "s": "sensitive", "q": "questionable", "e": "explicit"}
STILL_EXTS = frozenset({"jpg", "jpeg", "png", "webp"})  # what `colorize build` reads
MOVING_EXTS = frozenset({"gif", "webm", "mp4", "zip", "swf"})  # animation, video, ugoira, flash
# Boards number posts from 1 in a database integer; 18 digits leave room and keep file names short.
POST_ID = re.compile(r"[0-9]{1,18}")


def url_ext(url: str) -> str:
    """The lower-case extension of a URL's path ('' when it has none or the URL is malformed)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    return posixpath.splitext(path)[1].lstrip(".").lower()


def optional_int(value: Any) -> int | None:
    """A size field as a positive int: 600, "600" and "600.0" alike. None for missing, zero
    (boards write 0 for 'no sample') or unreadable ("12px"), so a bad size is unknown, not fatal."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(number) if number.is_integer() and number > 0 else None


def parse_post_id(value: Any) -> int:
    """A listed post id as an int; ValueError unless it is a whole number from 1 to 18 digits.

    Post ids go into file names (`danbooru_<id>.jpg`), so '../../evil', '-3' or 300 digits are
    refused here rather than turned into a path or a name too long for the file system.
    """
    text = str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not POST_ID.fullmatch(text) or int(text) < 1:
        raise ValueError(f"the id {reprlib.repr(value)} is not a whole number of 1 to 18 digits")
    return int(text)


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

    def below(self, min_size: int) -> bool:
        """True when a known side is below `min_size` (the short side can only be shorter)."""
        return any(side is not None and side < min_size for side in (self.width, self.height))


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
    # A sample is never larger than its original, so the original's size bounds a sample whose
    # own size the board leaves out (Safebooru's sample_width=0, a variant without width).
    small = next((v for v in (variant, post.original) if v is not None and v.below(min_size)), None)
    if small is not None:
        raise Skipped(Skip.TOO_SMALL, f"{small.width or '?'}x{small.height or '?'}")
    if post.md5 in known_md5s:
        raise Skipped(Skip.DUPLICATE, str(post.md5))
    return variant


class Board(Protocol):
    """A site the scraper can list and fetch posts from (see danbooru.py, safebooru.py)."""

    site: str

    def search(self, tags: Sequence[str], ratings: Collection[str]) -> Iterator[Post | Skipped]:
        """Posts of a tag search through the JSON/XML API, newest first, to the end; a listed
        post that does not parse comes as a Skipped in its place."""
        ...

    def search_html(self, tags: Sequence[str], ratings: Collection[str]) -> Iterator[int]:
        """Post ids of a tag search read from the board's HTML listing pages."""
        ...

    def fetch_post(self, post_id: int) -> Post:
        """One post's API answer; raises Skipped when it cannot be had."""
        ...
