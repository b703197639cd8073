"""Why a post was not saved: the keys of the run summary's skip counts."""

from __future__ import annotations

from enum import Enum


class Skip(Enum):
    """One reason for not saving a post; the value is the name shown in the summary."""

    NO_URL = "no_url"  # hidden, banned or restricted: the board omits the file URLs
    NOT_STILL = "not_still_image"  # gif, video, ugoira zip, flash, or a non-null duration
    UNSUPPORTED = "unsupported_format"  # a still image `colorize build` cannot read (avif, bmp...)
    RATING = "rating"  # a rating that --rating did not ask for
    TOO_SMALL = "too_small"  # short side below --min-size
    DUPLICATE = "duplicate"  # md5 already in the output folder
    UNSAFE_URL = "unsafe_url"  # not http(s), or a redirect to another scheme
    TOO_LARGE = "too_large"  # body over --max-bytes
    TOO_MANY_PIXELS = "too_many_pixels"  # over --max-pixels (decompression bomb guard)
    BAD_IMAGE = "bad_image"  # not decodable, truncated, or not the format its URL names
    MD5_MISMATCH = "md5_mismatch"  # original whose bytes do not match the board's md5
    BAD_REPLY = "bad_reply"  # a post answer or listed post that could not be parsed (a bad id...)
    HTTP_ERROR = "http_error"  # a non-retryable HTTP status (404, 403 without a challenge...)
    GAVE_UP = "gave_up"  # still failing after the allowed retries
    TOO_SLOW = "too_slow"  # not received within --file-timeout (a slow-drip server)

    @property
    def is_fault(self) -> bool:
        """True when something went wrong (worth a warning), False for a post filtered out by choice."""
        return self not in _FILTERS


_FILTERS = frozenset(
    {Skip.NO_URL, Skip.NOT_STILL, Skip.UNSUPPORTED, Skip.RATING, Skip.TOO_SMALL, Skip.DUPLICATE}
)


class Skipped(Exception):
    """Raised to drop one post; the run counts `reason` and goes on."""

    def __init__(self, reason: Skip, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
