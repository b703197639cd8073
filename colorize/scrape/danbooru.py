"""Danbooru: `/posts.json` listing with `page=b<id>` deep paging, and `/posts?tags=` HTML ids.

docs/scrape.md describes the limits and edge cases handled here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from bs4 import BeautifulSoup

from colorize.errors import ColorizeError
from colorize.scrape.http import BadStatus, Params, PoliteSession
from colorize.scrape.listing import get_listing, load_json, metatag, parse_each
from colorize.scrape.posts import Post, Variant, make_variant, parse_post_id, sample_or_original
from colorize.scrape.reasons import Skip, Skipped

SITE = "danbooru"
DEFAULT_URL = "https://danbooru.donmai.us"
MAX_PER_PAGE = 200
SAMPLE_WIDTH = 850  # `large_file_url` is an 850 px wide jpg when the original is wider
# Metatags that do not count against the 2-tag limit (PostQuery::UNLIMITED_METATAGS).
UNLIMITED_METATAGS = frozenset(
    "status rating limit is id date age filesize filetype parent child md5 width height duration "
    "mpixels ratio score upvote downvotes favcount embedded tagcount pixiv_id pixiv".split()
)

T = TypeVar("T")


def counted_tags(tags: Sequence[str]) -> list[str]:
    """The search terms that count against Danbooru's per-account tag limit."""
    return [tag for tag in tags if metatag(tag) not in UNLIMITED_METATAGS]


def build_query(tags: Sequence[str], ratings: Collection[str]) -> str:
    """The `tags` parameter: the user's tags plus a rating metatag, which costs no tag slot."""
    return " ".join([*tags, "rating:" + ",".join(sorted(ratings))])


def tag_limit_error(body: bytes, tags: Sequence[str]) -> ColorizeError:
    """Turns a 422 TagLimitError answer into a message that says how many tags are allowed."""
    try:
        message = str(load_json(body).get("message", ""))
    except (ValueError, AttributeError):
        message = body.decode("utf-8", "replace")[:200]
    found = re.search(r"more than (\d+) tags", message)
    allowed = f"at most {found.group(1)} tags" if found else "fewer tags"
    counted = counted_tags(tags)
    return ColorizeError(
        f"danbooru allows {allowed} per search for this account, and --tags has {len(counted)} "
        f"that count ({' '.join(counted)}); metatags such as rating: and filetype: are free. "
        f"Search with fewer tags, or set DANBOORU_LOGIN and DANBOORU_API_KEY for an account "
        f"with a higher limit (Gold: 6). Danbooru said: {message!r}",
        reason="too_many_tags",
    )


def _sample_size(item: Mapping[str, Any], original: Variant) -> tuple[Any, Any]:
    """The sample's size from `media_asset.variants`, else the original scaled to 850 px wide."""
    variants = (item.get("media_asset") or {}).get("variants") or []
    for variant in variants:
        if variant.get("type") == "sample":
            return variant.get("width"), variant.get("height")
    if original.width and original.height:
        return SAMPLE_WIDTH, round(original.height * SAMPLE_WIDTH / original.width)
    return None, None


def parse_post(item: Mapping[str, Any], base_url: str = DEFAULT_URL) -> Post:
    """One posts.json item. Hidden posts lack the URL keys (and md5): their variants are None."""
    original = make_variant(base_url, item.get("file_url"), item.get("image_width"), item.get("image_height"))
    sample = original and make_variant(base_url, item.get("large_file_url"), *_sample_size(item, original))
    tags = tuple(str(item.get("tag_string", "")).split())
    duration = (item.get("media_asset") or {}).get("duration")
    return Post(
        site=SITE,
        id=parse_post_id(item["id"]),
        md5=item.get("md5"),
        rating=str(item.get("rating", "")).lower() or None,
        tags=tags,
        file_ext=str(item.get("file_ext", "")).lower(),
        animated=duration is not None or "animated" in tags,
        source=str(item.get("source") or ""),
        original=original,
        sample=sample_or_original(original, sample),
    )


def parse_posts(body: bytes, base_url: str = DEFAULT_URL) -> list[Post | Skipped]:
    """A posts.json page, with a Skipped in place of each post that does not parse; raises
    ValueError when the page is not a JSON list."""
    items = load_json(body)
    if not isinstance(items, list):
        raise ValueError(f"expected a JSON list, got {type(items).__name__}")
    return parse_each(items, lambda item: parse_post(item, base_url))


def post_ids_from_html(html: bytes | str) -> list[int]:
    """Post ids of an HTML listing page: `<article data-id=N>` thumbnails, in page order."""
    soup = BeautifulSoup(html, "html.parser")
    ids = (str(article.get("data-id", "")) for article in soup.find_all("article"))
    return list(dict.fromkeys(int(i) for i in ids if i.isdigit()))


class Danbooru:
    """The Danbooru board; `base_url` may point at a mirror or a test server."""

    site = SITE

    def __init__(
        self, session: PoliteSession, base_url: str = DEFAULT_URL, per_page: int = MAX_PER_PAGE
    ) -> None:
        self._session, self._base, self._per_page = session, base_url, per_page

    def search(self, tags: Sequence[str], ratings: Collection[str]) -> Iterator[Post | Skipped]:
        for posts in self._pages("/posts.json", tags, ratings, self._parse_page, lambda post: post.id):
            yield from posts

    def search_html(self, tags: Sequence[str], ratings: Collection[str]) -> Iterator[int]:
        for ids in self._pages("/posts", tags, ratings, post_ids_from_html, lambda post_id: post_id):
            yield from ids

    def fetch_post(self, post_id: int) -> Post:
        body = self._session.get(f"{self._base}/posts/{post_id:d}.json")
        try:
            return parse_post(load_json(body), self._base)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise Skipped(Skip.BAD_REPLY, f"post {post_id}: {err!r}") from err

    def _parse_page(self, body: bytes) -> list[Post | Skipped]:
        try:
            return parse_posts(body, self._base)
        except ValueError as err:
            raise ColorizeError(f"{self._base}/posts.json: not a Danbooru post list ({err})",
                                reason="bad_reply") from err

    def _pages(
        self, path: str, tags: Sequence[str], ratings: Collection[str],
        parse: Callable[[bytes], list[T | Skipped]], id_of: Callable[[T], int],
    ) -> Iterator[list[T | Skipped]]:
        """Pages of a search, newest first: page 1, then `page=b<lowest id so far>`, to a page
        without a post below the cursor (an empty page, at the end).

        b-paging has no page limit (numbered pages stop at 1000); a 410 still ends the search.
        Only ids below the cursor are kept, so a board that ignores `page=b` cannot loop forever.
        The posts that did not parse (Skipped) come along with their page.
        """
        params: Params = {"tags": build_query(tags, ratings), "limit": self._per_page}
        cursor: int | None = None
        while True:
            try:
                body = get_listing(self._session, self._base + path, params)
            except BadStatus as err:
                if err.status == 422 and b"TagLimit" in err.body:
                    raise tag_limit_error(err.body, tags) from err
                raise
            page = parse(body) if body is not None else []
            items = [i for i in page if isinstance(i, Skipped) or cursor is None or id_of(i) < cursor]
            ids = [id_of(item) for item in items if not isinstance(item, Skipped)]
            if not ids:
                return
            yield items
            cursor = min(ids)
            params["page"] = f"b{cursor}"
