"""`colorize scrape`: download a tag search from Danbooru or Safebooru (docs/scrape.md).

Credentials come from DANBOORU_LOGIN and DANBOORU_API_KEY in the environment, never from flags,
so they stay out of shell history and process lists.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import Any

from colorize.scrape.runner import BOARDS, VARIANTS, VIAS, ScrapeOptions, default_user_agent, scrape

EXIT_INTERRUPTED = 130


def _default(name: str) -> Any:
    return {f.name: f.default for f in dataclasses.fields(ScrapeOptions)}[name]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", required=True, choices=sorted(BOARDS), help="the board to search")
    parser.add_argument("--tags", required=True, help='space-separated tags, e.g. "holding_staff solo"')
    parser.add_argument("--out", required=True, type=Path, help="folder for the images and posts.jsonl")
    parser.add_argument(
        "--limit", type=int, default=_default("limit"),
        help="stop once the folder holds this many images of the search (default %(default)s)",
    )
    parser.add_argument(
        "--rating", default="general",
        help="comma-separated ratings to keep: general, sensitive, questionable, explicit "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--min-size", type=int, default=_default("min_size"),
        help="skip images whose short side is below this many pixels (default %(default)s)",
    )
    parser.add_argument(
        "--variant", choices=VARIANTS, default=_default("variant"),
        help="sample: the board's ~850 px jpg, like the paper's data; original: the full file, "
        "md5-checked (default %(default)s)",
    )
    parser.add_argument(
        "--rate", type=float, default=_default("rate"),
        help="requests per second over API pages and images together (default %(default)s)",
    )
    parser.add_argument(
        "--user-agent", help=f"default: {default_user_agent()} (plus '(by LOGIN)' with an account)"
    )
    parser.add_argument("--base-url", help="the board's address, e.g. a mirror (default: the public site)")
    parser.add_argument(
        "--via", choices=VIAS, default=_default("via"),
        help="api: the JSON/XML listing; html: post ids from the HTML search pages, then each post's "
        "API answer (default %(default)s)",
    )
    parser.add_argument(
        "--max-bytes", type=int, default=_default("max_bytes"), help="size cap per file (default %(default)s)"
    )
    parser.add_argument(
        "--max-pixels", type=int, default=_default("max_pixels"),
        help="pixel-count cap per image, against decompression bombs (default %(default)s)",
    )
    parser.add_argument(
        "--retries", type=int, default=_default("retries"),
        help="retries on 429/5xx, timeouts and dropped connections before skipping (default %(default)s)",
    )
    parser.add_argument(
        "--timeout", type=float, default=_default("timeout"),
        help="seconds to wait for a connection or for data (default %(default)s)",
    )
    parser.add_argument(
        "--file-timeout", type=float, default=_default("file_timeout"),
        help="seconds one file (or API page) may take from request to last byte, against servers "
        "that drip data (default %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    login = api_key = None
    if args.site == "danbooru":
        login = os.environ.get("DANBOORU_LOGIN") or None
        api_key = os.environ.get("DANBOORU_API_KEY") or None
    options = ScrapeOptions(
        site=args.site, tags=args.tags, out=args.out, limit=args.limit, ratings=args.rating,
        min_size=args.min_size, variant=args.variant, via=args.via, rate=args.rate,
        user_agent=args.user_agent, base_url=args.base_url, login=login, api_key=api_key,
        max_bytes=args.max_bytes, max_pixels=args.max_pixels, retries=args.retries, timeout=args.timeout,
        file_timeout=args.file_timeout,
    )
    logging.basicConfig(format="colorize scrape: %(message)s")
    summary = scrape(options, progress=sys.stderr)
    print(f"colorize scrape: {summary.describe()}")
    return EXIT_INTERRUPTED if summary.stopped == "interrupted" else 0
