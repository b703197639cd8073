"""The triplet record format: one `tf.train.Example` per (sketch, cue, color) triplet.

Encodings, chosen for size and decode speed (see README, "Data format"):
- `sketch`: bilevel (1-bit) PNG, 0 = line, 255 = paper. Lossless, so the sketch stays exactly
  binary; about 6 KB at 256x256, and decoded to 8-bit gray by `tf.io.decode_png`.
- `color`: JPEG, quality 95, 4:4:4 chroma. Decodes about 3x faster than PNG at a third of the size;
  sources are JPEGs already, and q95 without chroma subsampling keeps the target's line edges.
- `cue`: JPEG, quality 95. The cue is a sigma-20 blur: it has no edges (about 9 KB).
Plus `complexity` (percent of black sketch pixels), `id` (content hash of the source file),
`source` (path relative to its input root) and `height`/`width`, so readers can check the size
without decoding.

Encoding uses only OpenCV, so builder workers never import TensorFlow; the Example and parsing
functions import it on first use.
"""

from __future__ import annotations

import glob
import os
from typing import Iterator

import cv2
import numpy as np

JPEG_QUALITY = 95
SPLITS = ("train", "test")
ENCODINGS = {
    "sketch": "PNG, 1-bit bilevel (0 = line, 255 = paper), lossless",
    "color": f"JPEG quality {JPEG_QUALITY}, 4:4:4",
    "cue": f"JPEG quality {JPEG_QUALITY}, 4:4:4",
}


def encode_sketch(sketch: np.ndarray) -> bytes:
    """Bilevel PNG of an (H, W) or (H, W, 1) uint8 sketch with values {0, 255}."""
    ok, buf = cv2.imencode(".png", sketch, [cv2.IMWRITE_PNG_BILEVEL, 1])
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def encode_jpeg(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """JPEG of an (H, W, 3) uint8 RGB image, without chroma subsampling."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
              cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def encode_triplet(color: np.ndarray, sketch: np.ndarray, cue: np.ndarray) -> dict[str, bytes]:
    """Encoded bytes of one triplet, in the record format."""
    return {"color": encode_jpeg(color), "sketch": encode_sketch(sketch), "cue": encode_jpeg(cue)}


def make_example(encoded: dict[str, bytes], *, complexity: float, id: str, source: str,
                 height: int, width: int) -> bytes:
    """Serialized `tf.train.Example` for one encoded triplet."""
    import tensorflow as tf

    def b(value: bytes):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    def i(value: int):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

    feature = {
        "color": b(encoded["color"]),
        "sketch": b(encoded["sketch"]),
        "cue": b(encoded["cue"]),
        "complexity": tf.train.Feature(float_list=tf.train.FloatList(value=[complexity])),
        "id": b(id.encode()),
        "source": b(os.fsencode(source)),  # the file name's bytes, UTF-8 or not
        "height": i(height),
        "width": i(width),
    }
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString(deterministic=True)  # the same bytes in every process


def feature_spec():
    """The parsing spec of the record format."""
    import tensorflow as tf

    return {
        "color": tf.io.FixedLenFeature([], tf.string),
        "sketch": tf.io.FixedLenFeature([], tf.string),
        "cue": tf.io.FixedLenFeature([], tf.string),
        "complexity": tf.io.FixedLenFeature([], tf.float32),
        "id": tf.io.FixedLenFeature([], tf.string),
        "source": tf.io.FixedLenFeature([], tf.string),
        "height": tf.io.FixedLenFeature([], tf.int64),
        "width": tf.io.FixedLenFeature([], tf.int64),
    }


def decode_example(serialized):
    """Parse one serialized Example into uint8 images: sketch (H, W, 1), cue and color (H, W, 3)."""
    import tensorflow as tf

    ex = tf.io.parse_single_example(serialized, feature_spec())
    return {
        "sketch": tf.io.decode_png(ex["sketch"], channels=1),
        "cue": tf.io.decode_jpeg(ex["cue"], channels=3),
        "color": tf.io.decode_jpeg(ex["color"], channels=3),
        "complexity": ex["complexity"],
        "id": ex["id"],
        "source": ex["source"],
        "height": ex["height"],
        "width": ex["width"],
    }


def shard_name(split: str, index: int, count: int) -> str:
    return f"{split}-{index:05d}-of-{count:05d}"


def shard_paths(records_dir: str, split: str) -> list[str]:
    """The finished shards of a split (temporary and partial files excluded), sorted."""
    paths = glob.glob(os.path.join(glob.escape(records_dir), f"{split}-*-of-*"))
    return sorted(p for p in paths if not p.endswith(".tmp"))


def read_records(records_dir: str, split: str = "train") -> Iterator[dict]:
    """Decoded triplets of a split as numpy values (for tests, notebooks, evaluation)."""
    import tensorflow as tf

    for path in shard_paths(records_dir, split):
        for serialized in tf.data.TFRecordDataset(path):
            yield {k: (os.fsdecode(v.numpy()) if v.dtype == tf.string else v.numpy())
                   for k, v in decode_example(serialized).items()}
