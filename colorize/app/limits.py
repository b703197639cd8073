"""The page's sizes and caps, in a module that imports nothing (so `colorize app --help` answers
without TensorFlow)."""

CANVAS_SIDE = 512  # the editor's longest side by default (twice a 256 px model's input)
MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # per file
MAX_PIXELS = 4096 * 4096  # per image: a 16-megapixel page takes about a second per picture
