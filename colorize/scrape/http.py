"""A polite HTTP client for image boards: rate-limited, retrying, http(s)-only, size- and time-capped.

One `PoliteSession` carries every request of a run (API pages and images alike), so `--rate`
bounds all of them together. Failures that concern one post raise `FetchError` (a `Skipped`), so
the run counts them and goes on; a Cloudflare challenge raises `Challenged` and a board that keeps
answering 429 raises `Throttled` (both `ColorizeError`s), so the run stops instead of retrying into
a ban.
"""

from __future__ import annotations

import email.utils
import threading
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
TOO_MANY_REQUESTS = 429


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


class TooSlow(FetchError):
    def __init__(self, url: str, seconds: float) -> None:
        super().__init__(Skip.TOO_SLOW, f"{url}: not received within --file-timeout {seconds:g} s")


class Challenged(ColorizeError):
    """Cloudflare answered with a browser challenge: this client is being blocked."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(
            f"{urlsplit(url).netloc} answered HTTP {status} with a Cloudflare challenge "
            "('Just a moment...'): the board is blocking this client, so the run stops here. "
            "Use a unique --user-agent that is not a browser's, lower --rate, or on Danbooru set "
            "DANBOORU_LOGIN and DANBOORU_API_KEY; re-run the same command later to resume.",
            reason="challenged",
        )


class Throttled(ColorizeError):
    """The board answered 429 to too many requests in a row: it wants this client to stop."""

    def __init__(self, url: str, answers: int, waited: float) -> None:
        super().__init__(
            f"{urlsplit(url).netloc} answered HTTP 429 (too many requests) {answers} times in a row, "
            f"though the run waited {waited:.0f} s in all between them, so the run stops here. "
            "Lower --rate, and re-run the same command later to resume.",
            reason="throttled",
        )


class _RetryableStatus(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.retry_after = status, retry_after


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


class Deadline:
    """Cuts a streamed answer off once `seconds` have passed since the request was sent.

    `--timeout` bounds each read, so a server that drips a byte now and then could keep one answer
    alive for ever; at the deadline a timer shuts the socket down, which ends the blocked read.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end: float | None = None
        self.passed = False

    def start(self) -> None:
        """Starts the clock when the first request is sent (not while the rate limiter waits)."""
        if self._end is None:
            self._end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self.seconds if self._end is None else max(0.0, self._end - time.monotonic())

    def guard(self, resp: requests.Response) -> threading.Timer:
        """Starts the timer that shuts `resp` down at the deadline; the caller cancels it."""
        timer = threading.Timer(self.remaining(), self._cut, args=(resp,))
        timer.daemon = True
        timer.start()
        return timer

    def _cut(self, resp: requests.Response) -> None:
        self.passed = True
        try:
            resp.raw.shutdown()
        except (AttributeError, OSError, RuntimeError, ValueError):  # already released or closed
            pass


class PoliteSession:
    """Every request of a scraping run goes through here.

    `retries`, `backoff` (seconds, doubled per retry), `max_delay` and `timeout` are arguments so
    tests can make faults cheap; `file_timeout` bounds one request from sending it to its last byte;
    `sleep` is how the session pauses after a failure (tests pass a recorder). Credentials are sent
    only to the origin of `auth_url` (the board itself: never its CDN, another port, or plain http
    after https), by the rule requests applies to redirects.

    A 429 asks the whole client to slow down, so its pause is kept by the session and waited out by
    the next request, whichever post it is for; each 429 in a row doubles the pause, and the
    `max_throttled`-th in a row raises Throttled.
    """

    def __init__(
        self, user_agent: str, *, rate: float, max_bytes: int, timeout: float = 30.0,
        file_timeout: float = 300.0, retries: int = 4, backoff: float = 1.0, max_delay: float = 120.0,
        max_redirects: int = 5, max_throttled: int = 10,
        auth: tuple[str, str] | None = None, auth_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = requests.Session()
        self._session.headers["User-Agent"] = user_agent
        self._limiter = RateLimiter(rate)
        self._auth, self._auth_url = auth, auth_url
        self.max_bytes, self.timeout, self.file_timeout = max_bytes, timeout, file_timeout
        self.retries, self.backoff, self.max_delay = retries, backoff, max_delay
        self.max_redirects, self.max_throttled = max_redirects, max_throttled
        self._sleep = sleep
        self._pause = 0.0  # seconds the next request waits first (a backoff or a 429's pause)
        self._throttled, self._throttled_wait = 0, 0.0  # 429 answers in a row, and the pauses they cost
        self.requests = 0  # sent so far, redirect hops and retries included

    def auth_for(self, url: str) -> tuple[str, str] | None:
        """The credentials for a request to `url`: only on the board's own origin and scheme."""
        if self._auth is None or self._auth_url is None:
            return None
        return None if self._session.should_strip_auth(self._auth_url, url) else self._auth

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
            if isinstance(failure, _RetryableStatus) and failure.status == TOO_MANY_REQUESTS:
                self._throttle(url, delay)  # kept even when this item gives up: the next one waits
            elif failures <= self.retries:
                backoff = self.backoff * 2 ** (failures - 1)
                self._pause = min(self.max_delay, backoff if delay is None else delay)
            if failures > self.retries:
                raise GaveUp(url, failures, failure) from failure

    def _throttle(self, url: str, retry_after: float | None) -> None:
        """Counts a 429 and sets the pause: Retry-After, or the doubling backoff once that is longer."""
        self._throttled += 1
        if self._throttled >= self.max_throttled:
            raise Throttled(url, self._throttled, self._throttled_wait)
        backoff = self.backoff * 2 ** (self._throttled - 1)
        self._pause = min(self.max_delay, max(backoff, retry_after or 0.0))
        self._throttled_wait += self._pause

    def _attempt(
        self, url: str, params: Params | None, consume: Callable[[requests.Response], T]
    ) -> T:
        """One try, after any pause the last failure asked for, within one `file_timeout`."""
        if self._pause:
            self._sleep(self._pause)
            self._pause = 0.0
        deadline = Deadline(self.file_timeout)
        try:
            return self._follow(url, params, consume, deadline)
        except TRANSIENT_ERRORS as err:
            if deadline.passed or not deadline.remaining():  # cut off, not a network fault: a
                raise TooSlow(url, self.file_timeout) from err  # dripping server stays slow, so no retry
            raise

    def _follow(
        self, url: str, params: Params | None, consume: Callable[[requests.Response], T],
        deadline: Deadline,
    ) -> T:
        """Follows up to max_redirects redirects by hand so each hop is checked."""
        for _ in range(self.max_redirects + 1):
            require_http(url)
            with self._limiter:
                deadline.start()
                if not deadline.remaining():  # spent on earlier hops
                    raise TooSlow(url, deadline.seconds)
                self.requests += 1
                with self._session.get(
                    url, params=params, stream=True, allow_redirects=False,
                    timeout=min(self.timeout, deadline.remaining()), auth=self.auth_for(url),
                ) as resp:
                    if resp.status_code != TOO_MANY_REQUESTS:
                        self._throttled, self._throttled_wait = 0, 0.0
                    if resp.is_redirect:
                        url, params = urljoin(resp.url, resp.headers["Location"]), None
                        continue
                    self._check_status(resp)
                    timer = deadline.guard(resp)
                    try:
                        return consume(resp)
                    finally:
                        timer.cancel()
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
