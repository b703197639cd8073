"""A polite HTTP client for image boards: rate-limited, retrying, http(s)-only, size-capped.

One `PoliteSession` carries every request of a run (API pages and images alike), so `--rate`
bounds all of them together. Failures that concern one post raise `FetchError` (a `Skipped`), so
the run counts them and goes on; a Cloudflare challenge raises `Challenged` (a `ColorizeError`),
so the run stops at once instead of retrying into a ban.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import requests

from colorize.errors import ColorizeError
from colorize.scrape.reasons import Skip, Skipped

T = TypeVar("T")
Params = dict[str, str | int]  # a query string

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TRANSIENT_ERRORS = (
    requests.ConnectionError,  # refused, reset, and read timeouts while streaming
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,  # body cut short (urllib3 IncompleteRead)
)
ALLOWED_SCHEMES = frozenset({"http", "https"})
CHUNK = 64 * 1024


class FetchError(Skipped):
    """A request for one item failed for good; the caller skips that item."""


class UnsafeURL(FetchError):
    def __init__(self, url: str) -> None:
        super().__init__(Skip.UNSAFE_URL, f"refusing {url!r}: only http and https are fetched")


class TooLarge(FetchError):
    def __init__(self, url: str, max_bytes: int) -> None:
        super().__init__(Skip.TOO_LARGE, f"{url}: body over {max_bytes} bytes")


class BadStatus(FetchError):
    """A non-retryable HTTP error; `body` holds the start of the answer for error messages."""

    def __init__(self, url: str, status: int, body: bytes) -> None:
        super().__init__(Skip.HTTP_ERROR, f"{url}: HTTP {status}")
        self.url, self.status, self.body = url, status, body


class GaveUp(FetchError):
    def __init__(self, url: str, attempts: int, last: BaseException) -> None:
        super().__init__(Skip.GAVE_UP, f"{url}: {last} (after {attempts} attempts)")


class Challenged(ColorizeError):
    """Cloudflare answered with a browser challenge: this client is being blocked."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(
            f"{urlsplit(url).netloc} answered HTTP {status} with a Cloudflare challenge "
            "('Just a moment...'): the board is blocking this client, so the run stops here. "
            "Use a unique --user-agent that is not a browser's, lower --rate, or on Danbooru set "
            "DANBOORU_LOGIN and DANBOORU_API_KEY; re-run the same command later to resume."
        )


class _RetryableStatus(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.retry_after = retry_after


def require_http(url: str) -> None:
    """Raises UnsafeURL unless `url` is a well-formed absolute http(s) URL."""
    try:
        parts = urlsplit(url)
    except ValueError as err:  # e.g. an unclosed IPv6 bracket
        raise UnsafeURL(url) from err
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not parts.netloc:
        raise UnsafeURL(url)


def retry_after_seconds(value: str | None) -> float | None:
    """Parses a Retry-After header: delta-seconds or an HTTP date; None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def is_challenge(resp: requests.Response, head: bytes) -> bool:
    """Cloudflare's managed challenge: `cf-mitigated: challenge` or the 'Just a moment' page."""
    if resp.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    return resp.status_code in (403, 503) and b"Just a moment..." in head


def capped_chunks(resp: requests.Response, max_bytes: int) -> Iterator[bytes]:
    """The decoded body in chunks; raises TooLarge as soon as it passes `max_bytes`."""
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(resp.url, max_bytes)
    total = 0
    for chunk in resp.iter_content(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise TooLarge(resp.url, max_bytes)
        yield chunk


def _head(resp: requests.Response, limit: int = CHUNK) -> bytes:
    """The first `limit` bytes of an error answer (enough for messages and challenge pages)."""
    data = b""
    for chunk in resp.iter_content(8192):
        data += chunk
        if len(data) >= limit:
            break
    return data[:limit]


class RateLimiter:
    """Lets a request start only 1/rate seconds after the previous one has finished.

    Measuring from the end (not the start) of the previous request means the server never sees
    more than `rate` requests per second, whatever the latency.
    """

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = time.monotonic()

    def __enter__(self) -> None:
        wait = self._next - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def __exit__(self, *exc: object) -> None:
        self._next = time.monotonic() + self._interval


class PoliteSession:
    """Every request of a scraping run goes through here.

    `retries`, `backoff` (seconds, doubled per retry), `max_delay` and `timeout` are arguments so
    tests can make faults cheap; `sleep` is how backoff waits (tests pass a recorder). Credentials
    are sent only to `auth_netloc` (the board itself, never its CDN or a redirect elsewhere).
    """

    def __init__(
        self, user_agent: str, *, rate: float, max_bytes: int, timeout: float = 30.0,
        retries: int = 4, backoff: float = 1.0, max_delay: float = 120.0, max_redirects: int = 5,
        auth: tuple[str, str] | None = None, auth_netloc: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = requests.Session()
        self._session.headers["User-Agent"] = user_agent
        self._limiter = RateLimiter(rate)
        self._auth, self._auth_netloc = auth, auth_netloc
        self.max_bytes, self.timeout = max_bytes, timeout
        self.retries, self.backoff, self.max_delay = retries, backoff, max_delay
        self.max_redirects = max_redirects
        self._sleep = sleep
        self.requests = 0  # sent so far, redirect hops and retries included

    def get(self, url: str, params: Params | None = None) -> bytes:
        """The body of a 2xx answer (at most max_bytes); raises FetchError or Challenged."""
        return self._with_retries(
            url, params, lambda resp: b"".join(capped_chunks(resp, self.max_bytes))
        )

    def download(self, url: str, path: Path) -> None:
        """Streams `url` into `path` (truncated first on each attempt); raises like get()."""

        def write(resp: requests.Response) -> None:
            if resp.headers.get("Content-Type", "").lower().startswith("text/"):
                raise Skipped(Skip.BAD_IMAGE, f"{url}: a {resp.headers['Content-Type']} page, not an image")
            with path.open("wb") as file:
                for chunk in capped_chunks(resp, self.max_bytes):
                    file.write(chunk)

        self._with_retries(url, None, write)

    def close(self) -> None:
        self._session.close()

    def _with_retries(
        self, url: str, params: Params | None, consume: Callable[[requests.Response], T]
    ) -> T:
        failures = 0
        while True:
            try:
                return self._attempt(url, params, consume)
            except _RetryableStatus as err:
                failure: Exception = err
                delay = err.retry_after
            except TRANSIENT_ERRORS as err:
                failure, delay = err, None
            except requests.RequestException as err:  # a URL or header requests cannot send
                raise FetchError(Skip.HTTP_ERROR, f"{url}: {err}") from err
            failures += 1
            if failures > self.retries:
                raise GaveUp(url, failures, failure) from failure
            backoff = self.backoff * 2 ** (failures - 1)
            self._sleep(min(self.max_delay, backoff if delay is None else delay))

    def _attempt(
        self, url: str, params: Params | None, consume: Callable[[requests.Response], T]
    ) -> T:
        """One try: follows up to max_redirects redirects by hand so each hop is checked."""
        for _ in range(self.max_redirects + 1):
            require_http(url)
            with self._limiter:
                self.requests += 1
                with self._session.get(
                    url, params=params, stream=True, allow_redirects=False, timeout=self.timeout,
                    auth=self._auth if urlsplit(url).netloc == self._auth_netloc else None,
                ) as resp:
                    if resp.is_redirect:
                        url, params = urljoin(resp.url, resp.headers["Location"]), None
                        continue
                    self._check_status(resp)
                    return consume(resp)
        raise FetchError(Skip.HTTP_ERROR, f"{url}: more than {self.max_redirects} redirects")

    @staticmethod
    def _check_status(resp: requests.Response) -> None:
        if 200 <= resp.status_code < 300:
            return
        head = _head(resp)
        if is_challenge(resp, head):
            raise Challenged(resp.url, resp.status_code)
        if resp.status_code in RETRY_STATUSES:
            retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
            raise _RetryableStatus(resp.status_code, retry_after)
        raise BadStatus(resp.url, resp.status_code, head)
