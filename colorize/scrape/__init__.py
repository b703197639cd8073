"""Download tagged illustrations from Danbooru or Safebooru into a folder `colorize build` reads.

Polite (one rate limit over every request, a unique User-Agent, backoff), resumable (`posts.jsonl`),
and safe by default (general rating, http(s) only, size and pixel caps, atomic files). No
TensorFlow here: requests, beautifulsoup4 and Pillow only.
"""

from colorize.scrape.runner import ScrapeOptions, Summary, scrape

__all__ = ["ScrapeOptions", "Summary", "scrape"]
