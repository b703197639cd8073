"""What identifies an image: the SHA-1 of its file bytes, never its position or name.

Separate bits of the hash decide its split (bits 0-31), its `--part` (32-63) and its Beam shard
group (64-95), so the three choices are independent. A file's name is only shown: in JSON as
valid UTF-8, with the exact bytes beside it when the name is not UTF-8.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

from colorize.errors import ColorizeError


def content_id(data: bytes) -> str:
    """The id of a file whose bytes are `data` (hex SHA-1): a record's `id`."""
    return hashlib.sha1(data).hexdigest()


def split_of(image_id: str, test_fraction: float) -> str:
    """"test" for a `test_fraction` share of content hashes, "train" for the rest."""
    return "test" if int(image_id[:8], 16) < test_fraction * 2**32 else "train"


@dataclasses.dataclass(frozen=True)
class Part:
    """Which share of the input (by content hash) a build covers: `index` of `count`, 0-based."""

    index: int = 0
    count: int = 1

    def __post_init__(self):
        if not 0 <= self.index < self.count:
            raise ColorizeError(f"part {self}: need 0 <= I < N", reason="bad_value")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def contains(self, image_id: str) -> bool:
        return int(image_id[8:16], 16) % self.count == self.index

    def shard_prefix(self, split: str) -> str:
        """`train` for a whole build, `train-p01of04` for a part, so parts' shards never collide."""
        return split if self.count == 1 else f"{split}-p{self.index:02d}of{self.count:02d}"


def bucket_of(image_id: str, buckets: int) -> int:
    """The Beam shard group of an image, from bits of its hash that neither split nor part uses."""
    return int(image_id[16:24], 16) % max(buckets, 1)


def display_name(name: str) -> str:
    """A file name as valid UTF-8 text: bytes that are not UTF-8 become U+FFFD (for JSON, logs)."""
    return os.fsencode(name).decode("utf-8", "replace")


def name_fields(key: str, name: str) -> dict[str, str]:
    """`{key: name}` for JSON; a name that is not UTF-8 also gets its bytes, as hex, in key_hex."""
    shown = display_name(name)
    return {key: shown} if shown == name else {key: shown, f"{key}_hex": os.fsencode(name).hex()}


def stored_name(entry: dict, key: str) -> str:
    """The exact file name that `name_fields` stored under `key` (the inverse of name_fields)."""
    raw = entry.get(f"{key}_hex")
    return entry[key] if raw is None else os.fsdecode(bytes.fromhex(raw))
