"""Pieces shared by the boards' listings: metatag names, the page-limit rule, one post at a time."""

from __future__ import annotations

import json
import logging
import reprlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from colorize.scrape.http import BadStatus, Params, PoliteSession
from colorize.scrape.reasons import Skip, Skipped

T = TypeVar("T")

logger = logging.getLogger("colorize.scrape")


def metatag(tag: str) -> str:
    """The lower-case name of a `name:value` search term ('-rating:e' -> 'rating'), '' if none.

    Tags may contain ':' themselves (`honkai:_star_rail`); callers compare the name with the
    metatags they know.
    """
    name, colon, _ = tag.lstrip("-~").partition(":")
    return name.lower() if colon else ""


def load_json(body: bytes) -> Any:
    """`json.loads`, with ValueError also for JSON nested too deeply to parse.

    Python's JSON parser recurses once per nested array or object, so 400 KB of `[[[...]]]`
    from a board raises RecursionError; as a ValueError it is one more answer that does not
    parse, which the callers turn into a one-line reason.
    """
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None


def get_listing(session: PoliteSession, url: str, params: Params) -> bytes | None:
    """One listing page, or None at HTTP 410 (past the board's page limit: the search ends)."""
    try:
        return session.get(url, params)
    except BadStatus as err:
        if err.status != 410:
            raise
        logger.warning("%s: HTTP 410, past the board's page limit; the search ends here", err.url)
        return None


def parse_each(items: Iterable[Any], parse: Callable[[Any], T]) -> list[T | Skipped]:
    """Parses a page's items one by one: an item that does not parse (a bad id...) becomes a
    Skipped in its place, so one hostile post is skipped instead of failing its whole page."""
    parsed: list[T | Skipped] = []
    for item in items:
        try:
            parsed.append(parse(item))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            label = reprlib.repr(item.get("id")) if isinstance(item, Mapping) else type(item).__name__
            parsed.append(Skipped(Skip.BAD_REPLY, f"listed post {label}: {type(err).__name__} {err}"))
    return parsed
