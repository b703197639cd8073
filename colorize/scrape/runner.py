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

from colorize import __version__
from colorize.errors import ColorizeError
from colorize.scrape import danbooru, safebooru
from colorize.scrape.http import FetchError, PoliteSession, UnsafeURL, require_http
from colorize.scrape.images import DEFAULT_MAX_PIXELS, ImageInfo
from colorize.scrape.listing import metatag
from colorize.scrape.lock import folder_lock
from colorize.scrape.posts import RATING_NAMES, Board, Post, Variant, check_post
from colorize.scrape.progress import Progress
from colorize.scrape.reasons import Skip, Skipped
from colorize.scrape.store import PostLog, SmallLog, remove_stale_parts, save_image, write_error

logger = logging.getLogger("colorize.scrape")

BOARDS: dict[str, Callable[..., Board]] = {
    danbooru.SITE: danbooru.Danbooru, safebooru.SITE: safebooru.Safebooru,
}
DEFAULT_URLS = {danbooru.SITE: danbooru.DEFAULT_URL, safebooru.SITE: safebooru.DEFAULT_URL}
VARIANTS = ("sample", "original")
VIAS = ("api", "html")
# Agents Danbooru is reported to block: browser look-alikes and requests' default.
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
        raise ColorizeError(f"--rating {text!r}: use a comma-separated list of {names} (or g, s, q, e)",
                            reason="bad_value")
    return tuple(sorted({letters[word] for word in wanted}))


@dataclass(frozen=True)
class ScrapeOptions:
    """Everything a run needs; the defaults are the polite CLI defaults.

    `tags` may be a space-separated string; `ratings` names or letters. Credentials are
    arguments here and environment variables in the CLI, never flags, and the key is left out of
    the repr. `timeout`, `file_timeout`, `retries`, `backoff` and `max_delay` (seconds) shape
    retries; `max_throttled` is how many 429 answers in a row stop the run; `per_page` overrides
    the board's page size.
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
    api_key: str | None = field(default=None, repr=False)
    max_bytes: int = 50_000_000
    max_pixels: int = DEFAULT_MAX_PIXELS
    timeout: float = 30.0
    file_timeout: float = 300.0
    retries: int = 4
    backoff: float = 1.0
    max_delay: float = 120.0
    max_throttled: int = 10
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
            raise problem

    def _problems(self) -> Iterator[ColorizeError]:
        if self.site not in BOARDS:
            yield ColorizeError(f"--site {self.site!r}: choose one of {', '.join(BOARDS)}",
                                reason="bad_value")
        if not self.tags:
            yield ColorizeError("--tags: give at least one tag", reason="missing_value")
        if any(metatag(tag) == "rating" for tag in self.tags):
            yield ColorizeError("--tags: leave rating: out of the tags and use --rating",
                                reason="conflicting")
        if self.site == danbooru.SITE and any(metatag(tag) == "order" for tag in self.tags):
            yield ColorizeError("--tags: order: is not supported: paging by page=b<id> needs "
                                "Danbooru's newest-first order", reason="bad_value")
        for name in ("limit", "max_bytes", "max_pixels", "max_throttled"):
            if getattr(self, name) < 1:
                yield ColorizeError(f"--{name.replace('_', '-')} must be at least 1, got "
                                    f"{getattr(self, name)}", reason="bad_value")
        if self.min_size < 0 or self.retries < 0:
            yield ColorizeError("--min-size and --retries cannot be negative", reason="bad_value")
        for name in ("rate", "timeout", "file_timeout"):
            if not getattr(self, name) > 0:
                yield ColorizeError(f"--{name.replace('_', '-')} must be positive, got "
                                    f"{getattr(self, name)}", reason="bad_value")
        if self.variant not in VARIANTS or self.via not in VIAS:
            yield ColorizeError(f"--variant must be one of {VARIANTS} and --via one of {VIAS}",
                                reason="bad_value")
        yield from _base_url_problems(str(self.base_url))
        agent = str(self.user_agent)
        if not agent.strip() or agent.lower().startswith(BLOCKED_AGENTS) or "\n" in agent:
            yield ColorizeError(
                f"--user-agent {agent!r}: the boards block browser and library default agents; "
                "use a unique one such as 'my-scraper/1.0 (by your_name)'",
                reason="bad_value",
            )
        if bool(self.login) != bool(self.api_key):
            yield ColorizeError("set both DANBOORU_LOGIN and DANBOORU_API_KEY, or neither",
                                reason="missing_value")


def _base_url_problems(url: str) -> Iterator[ColorizeError]:
    if "@" in url.partition("//")[2].partition("/")[0]:  # user:key@host: never echoed
        yield ColorizeError("--base-url: leave the login and key out of the address; set "
                            "DANBOORU_LOGIN and DANBOORU_API_KEY", reason="bad_value")
        return
    try:
        require_http(url)
    except UnsafeURL:
        yield ColorizeError(f"--base-url {url!r}: give an http:// or https:// address",
                            reason="bad_value")


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
    the run cannot go on: a Cloudflare challenge, Danbooru's tag limit, a listing that keeps failing,
    a board that keeps answering 429, another run in the same folder, a full disk.
    """
    try:
        options.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ColorizeError(f"--out {options.out}: cannot create the folder ({err.strerror})",
                            reason="write_failed") from err
    with folder_lock(options.out):
        return _Run(options, progress).run()


class _Run:
    def __init__(self, options: ScrapeOptions, progress: TextIO | None) -> None:
        self.options = options
        remove_stale_parts(options.out)
        self.log = PostLog(options.out)
        self.small = SmallLog(options.out)
        base_url = str(options.base_url)
        self.session = PoliteSession(
            str(options.user_agent), rate=options.rate, max_bytes=options.max_bytes,
            timeout=options.timeout, file_timeout=options.file_timeout, retries=options.retries,
            backoff=options.backoff, max_delay=options.max_delay, max_throttled=options.max_throttled,
            auth=(options.login, options.api_key) if options.login and options.api_key else None,
            auth_url=base_url,
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
            for listed in self._listing():
                self._consider(listed)
                self.progress.show(s.seen, s.saved, s.skipped.total(), self.session.requests)
                if s.kept >= self.options.limit:
                    return "limit"
        except FetchError as err:  # per-post failures are caught in _consider: this is the listing
            raise ColorizeError(f"listing failed: {err}; re-run the same command to resume",
                                reason="listing_failed") from err
        return "end of results"

    def _listing(self) -> Iterator[Post | int | Skipped]:
        """Listed posts; a post id when the post is still to be fetched (--via html); a Skipped
        for a listed post that did not parse."""
        tags, ratings = self.options.tags, self.options.ratings
        if self.options.via == "api":
            yield from self.board.search(tags, ratings)
        else:
            yield from self.board.search_html(tags, ratings)

    def _consider(self, listed: Post | int | Skipped) -> None:
        self.summary.seen += 1
        if isinstance(listed, Skipped):
            self._skip(listed, "a listed post")
            return
        post_id = listed if isinstance(listed, int) else listed.id
        if (self.board.site, post_id) in self.log:
            self.summary.already += 1
            return
        short = self.small.short_side(self.board.site, post_id, self.options.variant)
        if short is not None and short < self.options.min_size:  # found too small by an earlier run
            self.summary.skipped[Skip.TOO_SMALL] += 1
            return
        dest = self.options.out
        try:
            post = listed if isinstance(listed, Post) else self.board.fetch_post(post_id)
            variant = check_post(
                post, post.variant(self.options.variant), ratings=self.options.ratings,
                min_size=self.options.min_size, known_md5s=self.log.md5s,
            )
            dest = self.options.out / post.file_name(variant)
            info = save_image(
                self.session, variant.url, dest, max_pixels=self.options.max_pixels,
                accept=functools.partial(self._accept, post, variant),
            )
        except Skipped as skip:
            self._skip(skip, f"post {post_id}")
            return
        except OSError as err:  # the disk, not the board: network errors arrive as FetchError
            raise write_error(err, dest) from err
        self._record(post, variant, dest, info)

    def _skip(self, skip: Skipped, what: str) -> None:
        self.summary.skipped[skip.reason] += 1
        if skip.reason.is_fault:
            logger.warning("%s %s skipped: %s", self.board.site, what, skip)

    def _record(self, post: Post, variant: Variant, dest: Path, info: ImageInfo) -> None:
        """Adds the saved image to posts.jsonl; an image that cannot be recorded is removed, so
        the folder holds only recorded images and the next run fetches it again."""
        try:
            self.log.add(_record(post, variant, dest.name, info))
        except ColorizeError:
            dest.unlink(missing_ok=True)
            raise
        self.summary.saved += 1

    def _accept(self, post: Post, variant: Variant, info: ImageInfo) -> None:
        """Checks a decoded download: the original's md5, the real size, and duplicates. A file too
        small is remembered in skipped.jsonl, so that re-runs do not download it again."""
        if post.md5 and variant == post.original and info.md5 != post.md5.lower():
            raise Skipped(Skip.MD5_MISMATCH, f"{variant.url}: md5 {info.md5}, the board says {post.md5}")
        if min(info.width, info.height) < self.options.min_size:
            self.small.add(post.site, post.id, self.options.variant, variant.url, info)
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

