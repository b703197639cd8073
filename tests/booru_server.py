"""A fake Danbooru + Safebooru on 127.0.0.1 for the scraper tests, with scripted faults.

It answers the way ../shared/booru/API_NOTES.md describes the real boards: Danbooru's
`/posts.json` (2-tag limit for anonymous users, free metatags, numbered pages and `page=b<id>`),
`/posts/<id>.json` and the `/posts` HTML listing; Safebooru's
`/index.php` dapi XML with `pid` paging and `count`, and its HTML list; and the
image files under `/data/`. `board.fault(path, *faults)` makes the next requests for a path
misbehave, one fault per request. Every request is logged with its arrival time.
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import quoteattr

import pytest
from PIL import Image

from colorize.scrape import ScrapeOptions

# The fake's own list of metatags that cost no tag slot (a subset of Danbooru's).
FREE_METATAGS = {"rating", "filetype", "status", "width", "height", "score", "id", "md5"}
RATING_WORDS = {"g": "general", "s": "sensitive", "q": "questionable", "e": "explicit"}
PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif",
                 "webm": "video/webm", "mp4": "video/mp4", "zip": "application/zip"}
CHALLENGE_PAGE = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body></body></html>"


@dataclass
class Answer:
    """What the board sends for a request when no fault is scripted."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hit:
    time: float  # time.monotonic() at arrival
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakePost:
    id: int
    tags: tuple[str, ...] = ("solo",)
    rating: str = "g"  # Danbooru letter
    ext: str = "jpg"  # the original's
    size: tuple[int, int] = (600, 520)
    sample_size: tuple[int, int] | None = None  # a jpg sample of this size exists
    hidden: bool = False  # banned/restricted: no URL keys, no md5
    duration: float | None = None
    seed: int = 0  # image content; 0 means the id (give another post's id for a repost)
    md5: str = ""
    list_size: bool = True  # False: the API answers leave out the original's width and height
    list_sample_size: bool = True  # False: ... and the sample's


Fault = Callable[[BaseHTTPRequestHandler, Answer], None]


def image_bytes(ext: str, size: tuple[int, int], seed: int) -> bytes:
    """A small solid-colour image (colour from `seed`, so md5s differ), or filler for videos."""
    if ext not in PIL_FORMATS:
        return f"fake {ext} {seed}".encode()
    color = (seed * 37 % 256, seed * 91 % 256, (seed * 53 + 17) % 256)
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=PIL_FORMATS[ext])
    return buffer.getvalue()


# --- faults ---------------------------------------------------------------------------------------


def send(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
    """The normal answer (use it to let a request through before a scripted fault)."""
    handler.send_response(answer.status)
    handler.send_header("Content-Type", answer.content_type)
    handler.send_header("Content-Length", str(len(answer.body)))
    for name, value in answer.headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(answer.body)


def status(code: int, body: bytes = b"", content_type: str = "text/plain", **headers: str) -> Fault:
    """A fixed answer instead of the normal one (header names use '_' for '-')."""
    fixed = Answer(code, body, content_type, {k.replace("_", "-"): v for k, v in headers.items()})
    return lambda handler, _answer: send(handler, fixed)


def challenge() -> Fault:
    return status(403, CHALLENGE_PAGE, "text/html; charset=UTF-8", cf_mitigated="challenge")


def redirect(location: str) -> Fault:
    return status(302, b"", Location=location)


def stall(seconds: float) -> Fault:
    """Waits before answering normally (the client has usually timed out and gone by then)."""

    def fault(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
        time.sleep(seconds)
        send(handler, answer)

    return fault


def half_body(then: Callable[[], None] = lambda: None) -> Fault:
    """Sends the headers and half the body, runs `then`, and resets the connection."""

    def fault(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
        handler.send_response(answer.status)
        handler.send_header("Content-Type", answer.content_type)
        handler.send_header("Content-Length", str(len(answer.body)))
        handler.end_headers()
        handler.wfile.write(answer.body[: len(answer.body) // 2])
        handler.wfile.flush()
        then()
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True

    return fault


def truncated(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
    """A well-formed HTTP answer whose image is cut in half (Content-Length matches the cut)."""
    send(handler, Answer(answer.status, answer.body[: len(answer.body) // 2], answer.content_type))


def drip(interval: float, seconds: float) -> Fault:
    """The headers, then the body one byte per `interval`, for at most `seconds` (a slow-drip server)."""

    def fault(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
        handler.send_response(answer.status)
        handler.send_header("Content-Type", answer.content_type)
        handler.send_header("Content-Length", str(len(answer.body)))
        handler.end_headers()
        handler.close_connection = True
        end = time.monotonic() + seconds
        for byte in answer.body:
            if time.monotonic() > end:
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(interval)

    return fault


def endless(size: int) -> Fault:
    """`size` bytes of 'image' with no Content-Length, ended by closing the connection."""

    def fault(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        for _ in range(0, size, 65536):
            handler.wfile.write(b"\xff" * 65536)

    return fault


# --- the board ------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real board
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms ACK waits

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        board: FakeBoard = self.server.board  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        board.hits.append(Hit(time.monotonic(), parts.path, query, dict(self.headers)))
        answer = board.answer(parts.path, query, "Authorization" in self.headers)
        board.take_fault(parts.path)(self, answer)

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up on a stalled or endless answer are expected here


class FakeBoard:
    """Both boards on one server; `url` is the --base-url for either site."""

    def __init__(self) -> None:
        self.posts: dict[int, FakePost] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.hits: list[Hit] = []
        self.html_page_size = 3
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.board = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.cdn_url = self.url  # where the file URLs point (another host name tests credentials)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # scripting

    def add(self, post_id: int, **fields: Any) -> FakePost:
        """Adds a post and its files; the md5 is the real md5 of the original's bytes."""
        post = FakePost(post_id, **fields)
        seed = post.seed or post_id
        original = image_bytes(post.ext, post.size, seed)
        post.md5 = hashlib.md5(original).hexdigest()
        self.files[self.original_path(post)] = (original, CONTENT_TYPES[post.ext])
        if post.sample_size:
            self.files[self.sample_path(post)] = (image_bytes("jpg", post.sample_size, seed), "image/jpeg")
        self.posts[post_id] = post
        return post

    def add_many(self, ids: Iterable[int], **fields: Any) -> list[FakePost]:
        return [self.add(post_id, **fields) for post_id in ids]

    @staticmethod
    def original_path(post: FakePost) -> str:
        return f"/data/original/{post.md5}.{post.ext}"

    @staticmethod
    def sample_path(post: FakePost) -> str:
        return f"/data/sample/sample-{post.md5}.jpg"

    def image_path(self, post: FakePost) -> str:
        """The file --variant sample downloads for `post`."""
        return self.sample_path(post) if post.sample_size else self.original_path(post)

    def fault(self, path: str, *faults: Fault) -> None:
        with self._lock:
            self._faults.setdefault(path, []).extend(faults)

    def take_fault(self, path: str) -> Fault:
        with self._lock:
            queue = self._faults.get(path)
            return queue.pop(0) if queue else send

    def requests_to(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    # answers

    def answer(self, path: str, query: dict[str, str], authorized: bool) -> Answer:
        if path == "/posts.json":
            return self._danbooru_list(query, authorized, json_list=True)
        if path == "/posts":
            return self._danbooru_list(query, authorized, json_list=False)
        if path.startswith("/posts/") and path.endswith(".json"):
            post = self.posts.get(int(path[len("/posts/"):-len(".json")]))
            if post is None:
                return Answer(404, b'{"success": false, "message": "That record was not found."}')
            return Answer(200, json.dumps(self.danbooru_item(post)).encode())
        if path == "/index.php":
            return self._safebooru(query)
        if path in self.files:
            body, content_type = self.files[path]
            return Answer(200, body, content_type)
        return Answer(404, b"not found", "text/plain")

    def _search(self, tags: list[str]) -> list[FakePost]:
        """Posts matching plain tags and `rating:` (names or letters), newest first."""
        def matches(post: FakePost) -> bool:
            for tag in tags:
                name, _, value = tag.partition(":")
                if name == "rating":
                    wanted = {word[0] for word in value.split(",")}
                    if post.rating not in wanted:
                        return False
                elif name not in FREE_METATAGS and tag not in post.tags:
                    return False
            return True

        return [post for _, post in sorted(self.posts.items(), reverse=True) if matches(post)]

    def _danbooru_list(self, query: dict[str, str], authorized: bool, json_list: bool) -> Answer:
        tags = query.get("tags", "").split()
        counted = [tag for tag in tags if tag.partition(":")[0] not in FREE_METATAGS]
        allowed = 6 if authorized else 2
        if len(counted) > allowed:
            return Answer(422, json.dumps({
                "success": False, "error": "PostQuery::TagLimitError",
                "message": f"You cannot search for more than {allowed} tags at a time.", "backtrace": [],
            }).encode())
        limit = min(int(query.get("limit", "20")), 200)
        found = self._search(tags)
        page = query.get("page", "1")
        if page.startswith("b"):
            rows = [post for post in found if post.id < int(page[1:])][:limit]
        else:
            rows = found[(int(page) - 1) * limit:int(page) * limit]
        if json_list:
            return Answer(200, json.dumps([self.danbooru_item(post) for post in rows]).encode())
        articles = "".join(
            f'<article id="post_{p.id}" class="post-preview" data-id="{p.id}" data-rating="{p.rating}">'
            f'<a href="/posts/{p.id}"><img class="post-preview-image" src="/{p.md5}.jpg"></a></article>'
            for p in rows if not p.hidden  # the HTML listing does not render hidden posts
        )
        page = f'<html><body><div class="posts">{articles}</div></body></html>'
        return Answer(200, page.encode(), "text/html")

    def danbooru_item(self, post: FakePost) -> dict[str, Any]:
        width, height = post.size if post.list_size else (None, None)
        item: dict[str, Any] = {
            "id": post.id, "rating": post.rating, "tag_string": " ".join(post.tags), "file_ext": post.ext,
            "image_width": width, "image_height": height, "source": f"https://example.com/art/{post.id}",
            "has_large": post.sample_size is not None, "is_banned": post.hidden,
            "media_asset": {"id": post.id, "duration": post.duration},
        }
        if post.hidden:
            return item
        large = self.sample_path(post) if post.sample_size else self.original_path(post)
        item.update(
            md5=post.md5, file_url=self.cdn_url + self.original_path(post),
            large_file_url=self.cdn_url + large,
            preview_file_url=f"{self.cdn_url}/180x180/{post.md5}.jpg",
        )
        variants = [{"type": "original", "url": item["file_url"], "width": width, "height": height}]
        if post.sample_size:
            sample_width, sample_height = post.sample_size if post.list_sample_size else (None, None)
            variants.append({"type": "sample", "url": item["large_file_url"],
                             "width": sample_width, "height": sample_height})
        item["media_asset"].update(md5=post.md5, variants=variants)
        return item

    def gelbooru_fields(self, post: FakePost) -> dict[str, Any]:
        width, height = post.size if post.list_size else (0, 0)
        sample_width, sample_height = (post.list_sample_size and post.sample_size) or (0, 0)
        return {
            "id": post.id, "md5": post.md5, "rating": RATING_WORDS[post.rating],
            "tags": f" {' '.join(post.tags)} ", "width": width, "height": height,
            "file_url": self.cdn_url + self.original_path(post),
            "sample_url": self.cdn_url + self.image_path(post),
            "sample_width": sample_width, "sample_height": sample_height,
            "source": f"https://example.com/art/{post.id}",
        }

    def _safebooru(self, query: dict[str, str]) -> Answer:
        if query.get("page") == "post" and query.get("s") == "list":
            offset = int(query.get("pid", "0"))
            rows = self._search(query.get("tags", "").split())[offset:offset + self.html_page_size]
            thumbs = "".join(
                f'<span id="s{p.id}" class="thumb">'
                f'<a id="p{p.id}" href="index.php?page=post&amp;s=view&amp;id={p.id}">'
                f'<img src="/thumbnails/{p.md5}.jpg" class="preview"></a></span>'
                for p in rows
            )
            pager = f'<div><a href="?page=post&amp;s=list&amp;pid={offset + 42}">next</a></div>'
            return Answer(200, f"<html><body>{thumbs}{pager}</body></html>".encode(), "text/html")
        if "id" in query:
            rows = [self.posts[int(query["id"])]] if int(query["id"]) in self.posts else []
            count, offset = len(rows), 0
        else:
            limit, pid = int(query.get("limit", "100")), int(query.get("pid", "0"))
            found = self._search(query.get("tags", "").split())
            count, offset = len(found), pid * limit
            rows = found[offset:offset + limit]
        posts = "".join(
            "<post " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in self.gelbooru_fields(p).items()) + "/>"
            for p in rows
        )
        head = f'<?xml version="1.0" encoding="UTF-8"?><posts count="{count}" offset="{offset}">'
        return Answer(200, f"{head}{posts}</posts>".encode(), "text/xml")


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    fake = FakeBoard()
    yield fake
    fake.close()


def fast_options(board: FakeBoard, out: Path, **overrides: Any) -> ScrapeOptions:
    """Options for in-process runs against `board`: no politeness delays, quick give-up."""
    settings: dict[str, Any] = dict(
        site="danbooru", tags=("solo",), out=out, base_url=board.url, rate=1000.0,
        retries=2, backoff=0.001, timeout=2.0,
    )
    return ScrapeOptions(**(settings | overrides))


def folder_records(out: Path) -> list[dict[str, Any]]:
    """posts.jsonl's records, after checking the folder holds exactly their files and nothing half-done
    (no temporary file, no lock file)."""
    log = out / "posts.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    names = [record["file"] for record in records]
    assert len(names) == len(set(names)), "a post is recorded twice"
    records_files = {"posts.jsonl", "skipped.jsonl"}
    assert sorted(p.name for p in out.iterdir() if p.name not in records_files) == sorted(names)
    for record in records:
        with Image.open(out / record["file"]) as image:
            image.load()
            assert image.size == (record["width"], record["height"])
    return records
