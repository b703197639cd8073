"""Safebooru.org (Gelbooru 0.2 engine): the `dapi` listing (XML, or a JSON list) with `pid` paging.

docs/scrape.md describes the fields and edge cases handled here.
"""

from __future__ import annotations

import functools
import itertools
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from colorize.errors import ColorizeError
from colorize.scrape.http import Params, PoliteSession
from colorize.scrape.listing import get_listing, load_json, parse_each
from colorize.scrape.posts import Post, make_variant, parse_post_id, sample_or_original
from colorize.scrape.reasons import Skip, Skipped

SITE = "safebooru"
DEFAULT_URL = "https://safebooru.org"
PER_PAGE = 100
# Gelbooru 0.2 used s/q/e with s = "safe"; current Safebooru writes words. Map to Danbooru's letters.
RATINGS = {
    "s": "g", "safe": "g", "general": "g", "sensitive": "s",
    "q": "q", "questionable": "q", "e": "e", "explicit": "e",
}
DAPI: Params = {"page": "dapi", "s": "post", "q": "index"}  # the post API's fixed query part


def parse_post(fields: Mapping[str, Any], base_url: str = DEFAULT_URL) -> Post:
    """One post from the XML attributes or a JSON item (md5 is `md5` in XML, `hash` in JSON)."""
    file_url = fields.get("file_url")
    if not file_url and fields.get("directory") and fields.get("image"):  # older JSON
        file_url = f"/images/{fields['directory']}/{fields['image']}"
    original = make_variant(base_url, file_url, fields.get("width"), fields.get("height"))
    sample = make_variant(
        base_url, fields.get("sample_url"), fields.get("sample_width"), fields.get("sample_height")
    )
    tags = tuple(str(fields.get("tags", "")).split())  # XML pads the list with spaces
    return Post(
        site=SITE,
        id=parse_post_id(fields["id"]),
        md5=fields.get("md5") or fields.get("hash") or None,
        rating=RATINGS.get(str(fields.get("rating", "")).lower()),
        tags=tags,
        file_ext=original.ext if original else "",
        animated="animated" in tags,
        source=str(fields.get("source") or ""),
        original=original,
        sample=sample_or_original(original, sample),
    )


def parse_dapi(body: bytes, base_url: str = DEFAULT_URL) -> tuple[list[Post | Skipped], int | None]:
    """A dapi answer: (posts, total count), with a Skipped in place of each post that does not
    parse. JSON lists carry no count; an empty body is no posts.

    Raises ValueError for anything that is not a Gelbooru 0.2 post list.
    """
    text = body.strip()
    if text in (b"", b"[]"):
        return [], None
    parse = functools.partial(parse_post, base_url=base_url)
    try:
        if text[:1] == b"[":
            items = load_json(text)
            if not isinstance(items, list):
                raise TypeError(f"expected a JSON list, got {type(items).__name__}")
            return parse_each(items, parse), None
        root = ET.fromstring(text)
        if root.tag != "posts":
            raise ValueError(f"root element <{root.tag}>, expected <posts>")
        count = root.get("count")
        if any(len(post) and "id" not in post.attrib for post in root.iter("post")):
            raise ValueError("posts hold child elements, not attributes (Danbooru's XML?)")
        return parse_each((post.attrib for post in root.iter("post")), parse), int(count) if count else None
    except (ET.ParseError, TypeError) as err:
        raise ValueError(f"not a dapi post list ({err!r})") from err


def post_ids_from_html(html: bytes | str) -> list[int]:
    """Post ids of an HTML listing page: links to `index.php?page=post&s=view&id=N`, in page order."""
    soup = BeautifulSoup(html, "html.parser")
    ids = []
    for link in soup.find_all("a", href=True):
        query = parse_qs(urlsplit(str(link["href"])).query)
        post_id = query.get("id", [""])[0]
        if query.get("page") == ["post"] and query.get("s") == ["view"] and post_id.isdigit():
            ids.append(int(post_id))
    return list(dict.fromkeys(ids))


class Safebooru:
    """The Safebooru board; `base_url` may point at another Gelbooru 0.2 board or a test server.

    Ratings are filtered on our side (the scraper's rule), not in the query.
    """

    site = SITE

    def __init__(
        self, session: PoliteSession, base_url: str = DEFAULT_URL, per_page: int = PER_PAGE
    ) -> None:
        self._session, self._base, self._per_page = session, base_url, per_page
        self._url = f"{base_url}/index.php"

    def search(self, tags: Sequence[str], ratings: Collection[str]) -> Iterator[Post | Skipped]:
        """`pid` is a page index. Stops at an empty page, once `count` posts have been listed, or
        at a page with no new post (a board that ignores `pid` cannot loop forever). The posts
        that did not parse (Skipped) come along with the new posts of their page."""
        seen: set[int] = set()
        for pid in itertools.count():
            params: Params = {**DAPI, "tags": " ".join(tags), "limit": self._per_page, "pid": pid}
            page, count = self._parse(get_listing(self._session, self._url, params) or b"")
            items = [item for item in page if isinstance(item, Skipped) or item.id not in seen]
            new = {item.id for item in items if not isinstance(item, Skipped)}
            if not new:
                return
            yield from items
            seen |= new
            if count is not None and (pid + 1) * self._per_page >= count:
                return

    def search_html(self, tags: Sequence[str], ratings: Collection[str]) -> Iterator[int]:
        """The HTML list's `pid` is an offset in posts, so it advances by the new ids found."""
        seen: set[int] = set()
        while True:
            params: Params = {"page": "post", "s": "list", "tags": " ".join(tags), "pid": len(seen)}
            body = get_listing(self._session, self._url, params)
            ids = [i for i in (post_ids_from_html(body) if body else []) if i not in seen]
            if not ids:
                return
            yield from ids
            seen.update(ids)

    def fetch_post(self, post_id: int) -> Post:
        body = self._session.get(self._url, {**DAPI, "id": post_id})
        try:
            posts, _ = parse_dapi(body, self._base)
        except ValueError as err:
            raise Skipped(Skip.BAD_REPLY, f"post {post_id}: {err}") from err
        ids = [post.id if isinstance(post, Post) else None for post in posts]
        if ids != [post_id]:
            raise Skipped(Skip.BAD_REPLY, f"post {post_id}: the answer holds posts {ids}")
        return cast(Post, posts[0])

    def _parse(self, body: bytes) -> tuple[list[Post | Skipped], int | None]:
        try:
            return parse_dapi(body, self._base)
        except ValueError as err:
            raise ColorizeError(f"{self._url}: not a Safebooru dapi answer ({err})",
                                reason="bad_reply") from err
