"""Pieces shared by the boards' listings: metatag names and the page-limit rule."""

from __future__ import annotations

import logging

from colorize.scrape.http import BadStatus, Params, PoliteSession

logger = logging.getLogger("colorize.scrape")


def metatag(tag: str) -> str:
    """The lower-case name of a `name:value` search term ('-rating:e' -> 'rating'), '' if none.

    Tags may contain ':' themselves (`honkai:_star_rail`); callers compare the name with the
    metatags they know.
    """
    name, colon, _ = tag.lstrip("-~").partition(":")
    return name.lower() if colon else ""


def get_listing(session: PoliteSession, url: str, params: Params) -> bytes | None:
    """One listing page, or None at HTTP 410 (past the board's page limit: the search ends)."""
    try:
        return session.get(url, params)
    except BadStatus as err:
        if err.status != 410:
            raise
        logger.warning("%s: HTTP 410, past the board's page limit; the search ends here", err.url)
        return None
