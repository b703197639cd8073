"""One scraping run: list a tag search, filter its posts, save their images, record and summarise."""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from colorize import __version__
from colorize.errors import ColorizeError
from colorize.scrape import danbooru, safebooru
from colorize.scrape.http import FetchError, PoliteSession, UnsafeURL, require_http
from colorize.scrape.images import DEFAULT_MAX_PIXELS, ImageInfo
from colorize.scrape.listing import metatag
from colorize.scrape.posts import RATING_NAMES, Board, Post, Variant, check_post
from colorize.scrape.progress import Progress
from colorize.scrape.reasons import Skip, Skipped
from colorize.scrape.store import PostLog, remove_stale_parts, save_image

logger = logging.getLogger("colorize.scrape")

BOARDS: dict[str, Callable[..., Board]] = {
    danbooru.SITE: danbooru.Danbooru, safebooru.SITE: safebooru.Safebooru,
}
DEFAULT_URLS = {danbooru.SITE: danbooru.DEFAULT_URL, safebooru.SITE: safebooru.DEFAULT_URL}
VARIANTS = ("sample", "original")
VIAS = ("api", "html")
# Agents Danbooru is reported to block (API_NOTES.md): browser look-alikes and requests' default.
BLOCKED_AGENTS = ("mozilla/", "python-requests")


def default_user_agent(login: str | None = None) -> str:
    """`manga-colorize/<version>`, plus `(by <login>)` when the run has an account."""
    return f"manga-colorize/{__version__}" + (f" (by {login})" if login else "")


def parse_ratings(text: str) -> tuple[str, ...]:
    """'general,sensitive' or 'g,s' -> ('g', 's')."""
    letters = {name: letter for letter, name in RATING_NAMES.items()} | {k: k for k in RATING_NAMES}
    wanted = [word.strip().lower() for word in text.split(",") if word.strip()]
    unknown = [word for word in wanted if word not in letters]
    if unknown or not wanted:
        names = ", ".join(RATING_NAMES.values())
        raise ColorizeError(f"--rating {text!r}: use a comma-separated list of {names} (or g, s, q, e)")
    return tuple(sorted({letters[word] for word in wanted}))


@dataclass(frozen=True)
class ScrapeOptions:
    """Everything a run needs; the defaults are the polite CLI defaults.

    `tags` may be a space-separated string; `ratings` names or letters. Credentials are
    arguments here and environment variables in the CLI, never flags. `timeout`, `retries`,
    `backoff` and `max_delay` (seconds) shape retries; `per_page` overrides the board's page size.
    """

    site: str
    tags: tuple[str, ...]
    out: Path
    limit: int = 100
    ratings: tuple[str, ...] = ("g",)
    min_size: int = 512
    variant: str = "sample"
    via: str = "api"
    rate: float = 1.0
    user_agent: str | None = None
    base_url: str | None = None
    login: str | None = None
    api_key: str | None = None
    max_bytes: int = 50_000_000
    max_pixels: int = DEFAULT_MAX_PIXELS
    timeout: float = 30.0
    retries: int = 4
    backoff: float = 1.0
    max_delay: float = 120.0
    per_page: int | None = None

    def __post_init__(self) -> None:
        """Normalises the fields and raises ColorizeError for values a run cannot use."""
        set_ = functools.partial(object.__setattr__, self)
        set_("tags", tuple(self.tags.split() if isinstance(self.tags, str) else self.tags))
        ratings = self.ratings if isinstance(self.ratings, str) else ",".join(self.ratings)
        set_("ratings", parse_ratings(ratings))
        set_("out", Path(self.out))
        set_("base_url", (self.base_url or DEFAULT_URLS.get(self.site, "")).rstrip("/"))
        set_("user_agent", self.user_agent or default_user_agent(self.login))
        problem = next(self._problems(), None)
        if problem:
            raise ColorizeError(problem)

    def _problems(self) -> Iterator[str]:
        if self.site not in BOARDS:
            yield f"--site {self.site!r}: choose one of {', '.join(BOARDS)}"
        if not self.tags:
            yield "--tags: give at least one tag"
        if any(metatag(tag) == "rating" for tag in self.tags):
            yield "--tags: leave rating: out of the tags and use --rating"
        if self.site == danbooru.SITE and any(metatag(tag) == "order" for tag in self.tags):
            yield "--tags: order: is not supported: paging by page=b<id> needs Danbooru's newest-first order"
        for name in ("limit", "max_bytes", "max_pixels"):
            if getattr(self, name) < 1:
                yield f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}"
        if self.min_size < 0 or self.retries < 0:
            yield "--min-size and --retries cannot be negative"
        if not (self.rate > 0 and self.timeout > 0):
            yield f"--rate and --timeout must be positive, got {self.rate} and {self.timeout}"
        if self.variant not in VARIANTS or self.via not in VIAS:
            yield f"--variant must be one of {VARIANTS} and --via one of {VIAS}"
        try:
            require_http(str(self.base_url))
        except UnsafeURL:
            yield f"--base-url {self.base_url!r}: give an http:// or https:// address"
        agent = str(self.user_agent)
        if not agent.strip() or agent.lower().startswith(BLOCKED_AGENTS) or "\n" in agent:
            yield (
                f"--user-agent {agent!r}: the boards block browser and library default agents; "
                "use a unique one such as 'my-scraper/1.0 (by your_name)'"
            )
        if bool(self.login) != bool(self.api_key):
            yield "set both DANBOORU_LOGIN and DANBOORU_API_KEY, or neither"


@dataclass
class Summary:
    """What a run did. `already` counts posts of this search recorded by an earlier run."""

    seen: int = 0
    saved: int = 0
    already: int = 0
    skipped: Counter[Skip] = field(default_factory=Counter)
    requests: int = 0
    seconds: float = 0.0
    stopped: str = ""  # "limit", "end of results" or "interrupted"

    @property
    def kept(self) -> int:
        return self.saved + self.already

    def describe(self) -> str:
        reasons = ", ".join(f"{reason.value} {n}" for reason, n in self.skipped.most_common())
        return (
            f"{self.seen} posts seen: {self.saved} saved, {self.already} already here, "
            f"{self.skipped.total()} skipped{f' ({reasons})' if reasons else ''}; "
            f"{self.requests} requests in {self.seconds:.1f} s; stopped: {self.stopped}"
        )


def scrape(options: ScrapeOptions, progress: TextIO | None = None) -> Summary:
    """Saves up to `options.limit` images of a tag search into `options.out`, resuming earlier runs.

    Returns the summary, also after Ctrl-C (stopped == "interrupted"). Raises ColorizeError when
    the run cannot go on: a Cloudflare challenge, Danbooru's tag limit, a listing that keeps failing.
    """
    return _Run(options, progress).run()


class _Run:
    def __init__(self, options: ScrapeOptions, progress: TextIO | None) -> None:
        self.options = options
        try:
            options.out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ColorizeError(f"--out {options.out}: cannot create the folder ({err.strerror})") from err
        remove_stale_parts(options.out)
        self.log = PostLog(options.out)
        base_url = str(options.base_url)
        self.session = PoliteSession(
            str(options.user_agent), rate=options.rate, max_bytes=options.max_bytes,
            timeout=options.timeout, retries=options.retries, backoff=options.backoff,
            max_delay=options.max_delay,
            auth=(options.login, options.api_key) if options.login and options.api_key else None,
            auth_netloc=urlsplit(base_url).netloc,
        )
        page_size = {"per_page": options.per_page} if options.per_page else {}
        self.board: Board = BOARDS[options.site](self.session, base_url, **page_size)
        self.summary = Summary()
        self.progress = Progress(progress)

    def run(self) -> Summary:
        start = time.monotonic()
        try:
            self.summary.stopped = self._loop()
        except KeyboardInterrupt:
            self.summary.stopped = "interrupted"
        finally:
            self.summary.requests = self.session.requests
            self.summary.seconds = time.monotonic() - start
            self.session.close()
            self.progress.close()
        return self.summary

    def _loop(self) -> str:
        s = self.summary
        try:
            for post_id, listed in self._listing():
                self._consider(post_id, listed)
                self.progress.show(s.seen, s.saved, s.skipped.total(), self.session.requests)
                if s.kept >= self.options.limit:
                    return "limit"
        except FetchError as err:  # per-post failures are caught in _consider: this is the listing
            raise ColorizeError(f"listing failed: {err}; re-run the same command to resume") from err
        return "end of results"

    def _listing(self) -> Iterator[tuple[int, Post | None]]:
        """(post id, post) pairs; the post is None when it is still to be fetched (--via html)."""
        tags, ratings = self.options.tags, self.options.ratings
        if self.options.via == "api":
            yield from ((post.id, post) for post in self.board.search(tags, ratings))
        else:
            yield from ((post_id, None) for post_id in self.board.search_html(tags, ratings))

    def _consider(self, post_id: int, listed: Post | None) -> None:
        self.summary.seen += 1
        if (self.board.site, post_id) in self.log:
            self.summary.already += 1
            return
        try:
            post = listed or self.board.fetch_post(post_id)
            variant = check_post(
                post, post.variant(self.options.variant), ratings=self.options.ratings,
                min_size=self.options.min_size, known_md5s=self.log.md5s,
            )
            name = post.file_name(variant)
            info = save_image(
                self.session, variant.url, self.options.out / name, max_pixels=self.options.max_pixels,
                accept=functools.partial(self._accept, post, variant),
            )
        except Skipped as skip:
            self.summary.skipped[skip.reason] += 1
            if skip.reason.is_fault:
                logger.warning("%s post %d skipped: %s", self.board.site, post_id, skip)
            return
        self.log.add(_record(post, variant, name, info))
        self.summary.saved += 1

    def _accept(self, post: Post, variant: Variant, info: ImageInfo) -> None:
        """Checks a decoded download: the original's md5, the real size, and duplicates."""
        if post.md5 and variant == post.original and info.md5 != post.md5.lower():
            raise Skipped(Skip.MD5_MISMATCH, f"{variant.url}: md5 {info.md5}, the board says {post.md5}")
        if min(info.width, info.height) < self.options.min_size:
            raise Skipped(Skip.TOO_SMALL, f"{info.width}x{info.height}")
        if info.md5 in self.log.md5s:
            raise Skipped(Skip.DUPLICATE, info.md5)


def _record(post: Post, variant: Variant, name: str, info: ImageInfo) -> dict[str, Any]:
    """The posts.jsonl line of a saved post."""
    return {
        "site": post.site, "id": post.id, "md5": post.md5, "file_md5": info.md5,
        "rating": post.rating, "tags": list(post.tags), "width": info.width, "height": info.height,
        "bytes": info.bytes, "url": variant.url, "source": post.source, "file": name,
    }

