"""The tf.data input pipeline: builder shards -> batches of (generator input, target color).

Per element: parse, decode, pix2pix jitter (the same resize, crop and flip for all three images;
nearest neighbour for the sketch so it stays binary), scale to [-1, 1], and the experiment's
generator input (`colorize.experiments`: A an all-white cue, B the stored blurred cue, ...).
Random ops are stateless with per-element seeds drawn from `seed`, so a run is reproducible and an
epoch can be replayed on resume.
"""

from __future__ import annotations

import json
import logging
import os

import tensorflow as tf

from colorize import records, sketch_styles
from colorize.config import TrainConfig
from colorize.errors import ColorizeError

AUTOTUNE = tf.data.AUTOTUNE
log = logging.getLogger(__name__)


def check_records(records_dir: str, split: str, image_size: int) -> list[str]:
    """The split's shard paths, after checking every record's framing, checksums and image size.

    Reading a shard through TFRecordDataset verifies its CRCs, and only the two size fields are
    parsed, so this costs about one sequential read of the split; it turns a damaged or foreign
    shard into a one-line error naming it, instead of a DataLossError or a silent resize at some
    later training step.
    """
    if not os.path.isdir(records_dir):
        raise ColorizeError(f"{records_dir}: no such records folder",
                            reason="not_a_folder" if os.path.exists(records_dir) else "not_found")
    paths = records.shard_paths(records_dir, split)
    if not paths:
        raise ColorizeError(f"{records_dir}: no '{split}' records (expected {split}-NNNNN-of-NNNNN "
                            "shards from `colorize build`)", reason="no_records")
    for index, path in enumerate(paths):
        sizes = _record_sizes(path)
        if not len(sizes):
            continue
        if index == 0 and tuple(sizes[0]) != (image_size, image_size):
            raise ColorizeError(f"{records_dir}: records hold {sizes[0][0]}x{sizes[0][1]} images but "
                                f"the model expects {image_size}x{image_size} (rebuild with --size "
                                f"{image_size} or train with --image-size {sizes[0][0]})",
                                reason="wrong_size")
        wrong = (sizes != image_size).any(axis=1).nonzero()[0]
        if len(wrong):
            height, width = sizes[wrong[0]]
            raise ColorizeError(f"{path}: record {wrong[0]} holds a {height}x{width} image among "
                                f"{image_size}x{image_size} records (a shard of another build?)",
                                reason="wrong_size")
    return paths


def _record_sizes(path: str):
    """(N, 2) int64 (height, width) of every record of one shard; ColorizeError if damaged."""
    import numpy as np

    spec = {key: records.feature_spec()[key] for key in ("height", "width")}
    batches = tf.data.TFRecordDataset(path, buffer_size=4 << 20).batch(1024).map(
        lambda serialized: tf.io.parse_example(serialized, spec))
    sizes = []
    try:
        for batch in batches:
            sizes.append(np.stack([batch["height"].numpy(), batch["width"].numpy()], axis=1))
    except tf.errors.OpError as err:
        done = sum(len(s) for s in sizes)
        what = "corrupted" if isinstance(err, tf.errors.DataLossError) else "not readable"
        raise ColorizeError(f"{path}: {what} after about {done} good records "
                            f"({type(err).__name__}); rebuild the dataset",
                            reason="bad_records") from None
    return np.concatenate(sizes) if sizes else np.zeros((0, 2), np.int64)


def count_examples(records_dir: str, split: str) -> int:
    """Examples in a split, from the builder's manifest when it has the count, else by reading."""
    try:
        with open(os.path.join(records_dir, "manifest.json")) as f:
            return int(json.load(f)["counts"][split])
    except (OSError, KeyError, ValueError, TypeError):
        return sum(1 for _ in tf.data.TFRecordDataset(records.shard_paths(records_dir, split)))


def _to_model_space(image):
    return tf.cast(image, tf.float32) / 127.5 - 1.0


def _crop_and_flip_draws(seed, cfg: TrainConfig):
    """(top, left, flip): the draws `tf.image.stateless_random_crop` (seed[:2]) and
    `stateless_random_flip_left_right` (seed[2:]) make for a jitter-sized image."""
    limit = cfg.jitter_size - cfg.image_size + 1
    offset = tf.random.stateless_uniform([3], seed=seed[:2], maxval=tf.int32.max,
                                         dtype=tf.int32) % tf.constant([limit, limit, 1])
    flip = tf.random.stateless_uniform([], seed=seed[2:], minval=0, maxval=1.0) < 0.5
    return offset[0], offset[1], flip


def _jitter_sketch(sketch, seed, cfg: TrainConfig):
    """The sketch's jitter (nearest-neighbour resize, crop, flip) as two row gathers: only the kept
    pixels, with `resize(method="nearest")`'s own index rule, in less time than TensorFlow's
    nearest-neighbour kernel."""
    top, left, flip = _crop_and_flip_draws(seed, cfg)
    scale = tf.constant(cfg.image_size, tf.float32) / tf.constant(cfg.jitter_size, tf.float32)

    def source(first):  # the source index of each kept jitter-sized row (or column)
        index = tf.floor((tf.cast(tf.range(cfg.image_size) + first, tf.float32) + 0.5) * scale)
        return tf.minimum(tf.cast(index, tf.int32), cfg.image_size - 1)

    cols = source(left)
    cols = tf.where(flip, tf.reverse(cols, [0]), cols)  # a mirrored crop reads mirrored columns
    rows = tf.gather(sketch[..., 0], source(top), axis=0)  # (S, S)
    return tf.transpose(tf.gather(tf.transpose(rows), cols, axis=0))[..., None]  # (S, S, 1)


def _jitter(sketch, cue, color, seed, cfg: TrainConfig):
    """pix2pix random jitter: resize up to 286, random crop back to 256, random horizontal flip;
    one draw for all three (the same seeds give each image the same offsets and flip), nearest
    neighbour for the sketch so it stays binary.

    Each image on its own: concatenating the channels to crop them together copies a few bytes
    per pixel at a time in TensorFlow's concat, which cost more than the resizing.
    tests/test_data.py proves the numbers equal to the first form's (the channels concatenated,
    uint8 resizing, one crop and one flip).
    """
    big = [cfg.jitter_size, cfg.jitter_size]

    def jitter(image):  # bilinear resizing computes in float32 either way, and is several times
        image = tf.image.resize(tf.cast(image, tf.float32), big)  # faster on float32 input
        image = tf.image.stateless_random_crop(image, [cfg.image_size, cfg.image_size, 3],
                                               seed=seed[:2])
        return tf.image.stateless_random_flip_left_right(image, seed=seed[2:])

    return tf.cast(_jitter_sketch(sketch, seed, cfg), tf.float32), jitter(cue), jitter(color)


def triplet(serialized, seed, cfg: TrainConfig, jitter: bool) -> dict:
    """One record -> {"sketch" (S, S, 1), "cue", "color" (S, S, 3)} in [-1, 1], jittered if asked,
    and "seed", a stateless seed of its own for the conditioning's random ops."""
    ex = records.decode_example(serialized)
    sketch, cue, color = ex["sketch"], ex["cue"], ex["color"]
    if jitter:
        sketch, cue, color = _jitter(sketch, cue, color, seed, cfg)
    size = cfg.image_size
    shapes = {"sketch": [size, size, 1], "cue": [size, size, 3], "color": [size, size, 3]}
    out = {k: tf.ensure_shape(_to_model_space(v), shapes[k])
           for k, v in (("sketch", sketch), ("cue", cue), ("color", color))}
    out["seed"] = tf.random.experimental.stateless_fold_in(seed[:2], 1)
    return out


def with_sketch_style(ex: dict, styles: str) -> dict:
    """The example with its input sketch drawn from the weighted `styles`
    (`colorize.sketch_styles`), made from its (jittered) colors; the builder's stored sketch, the
    paper's threshold, stays as "paper_sketch" (experiment C finds its regions there). The paper's
    threshold alone leaves the example as it is."""
    if sketch_styles.only_threshold(styles):
        return ex
    seed = tf.random.experimental.stateless_fold_in(ex["seed"], 2)
    drawn = sketch_styles.draw(styles, ex["color"], ex["sketch"], seed)
    return {**ex, "sketch": drawn, "paper_sketch": ex["sketch"]}


def _example_fn(cfg: TrainConfig, jitter: bool, keep_cue: bool, epoch: int | None = None):
    """One example's (inputs, color[, cue]); `epoch`: a training epoch's conditioning
    (`Conditioning.for_epoch`), else the run's."""
    conditioning = cfg.conditioning
    if epoch is not None:
        conditioning = conditioning.for_epoch(epoch, cfg.epochs)

    def fn(serialized, seed):
        ex = with_sketch_style(triplet(serialized, seed, cfg, jitter), cfg.sketch_styles)
        inputs = conditioning.training_input(ex)  # (S, S, C)
        return (inputs, ex["color"], ex["cue"]) if keep_cue else (inputs, ex["color"])
    return fn


def make_dataset(cfg: TrainConfig, records_dir: str, split: str = "train", *, training: bool = True,
                 batch_size: int | None = None, epoch: int = 0, repeat: bool = False,
                 keep_cue: bool = False,
                 input_context: tf.distribute.InputContext | None = None,
                 shards: list[str] | None = None) -> tf.data.Dataset:
    """Batches of (generator input (B, S, S, C), color (B, S, S, 3)) in [-1, 1]; with `keep_cue`,
    the stored cue (B, S, S, 3) as a third element (for evaluation baselines).

    training: shuffle (files and examples, seeded by cfg.seed and `epoch`), jitter if cfg.jitter,
    drop the last partial batch. Otherwise: file order, no jitter, keep every example.
    `shards`: the split's paths as `check_records` returned them, for a caller that makes many
    datasets of one split (one per epoch) and checks it once; checked here when not given.
    """
    paths = check_records(records_dir, split, cfg.image_size) if shards is None else shards
    batch_size = batch_size or cfg.batch_size
    seed = cfg.seed * 100_003 + epoch  # a different, reproducible order every epoch
    # Each input pipeline (one per worker) reads a disjoint part of the split: whole files when
    # there are enough, else every n-th example of the same (seeded) file order.
    pipelines, index = ((input_context.num_input_pipelines, input_context.input_pipeline_id)
                        if input_context else (1, 0))
    by_file = len(paths) >= pipelines
    if not by_file:
        log.warning("%s: %d '%s' shard(s) for %d input pipelines: sharding by example, so every "
                    "worker reads every file; build more shards (--shard-size) to shard by file",
                    records_dir, len(paths), split, pipelines)
    files = tf.data.Dataset.from_tensor_slices(paths)
    if pipelines > 1 and by_file:
        files = files.shard(pipelines, index)
    if training:
        files = files.shuffle(len(paths), seed=seed)
    ds = files.interleave(tf.data.TFRecordDataset, cycle_length=min(len(paths), 8),
                          num_parallel_calls=AUTOTUNE, deterministic=True)
    if not by_file:
        ds = ds.shard(pipelines, index)
    if training:
        ds = ds.shuffle(cfg.shuffle_buffer, seed=seed, reshuffle_each_iteration=False)
    if repeat:
        ds = ds.repeat()
    seeds = tf.data.Dataset.random(seed=seed).batch(4)  # per element: a crop and a flip seed
    if pipelines > 1:  # each pipeline its own part of the stream, not the same jitter
        seeds = seeds.shard(pipelines, index)
    ds = tf.data.Dataset.zip((ds, seeds))
    # traced as plain Python (autograph off): the example's ops have no Python control flow on
    # tensors (tf.cond where they branch), and converting them took seconds per dataset
    example_fn = tf.autograph.experimental.do_not_convert(
        _example_fn(cfg, jitter=training and cfg.jitter, keep_cue=keep_cue,
                    epoch=epoch if training else None))
    ds = ds.map(example_fn,
                num_parallel_calls=AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=training, num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)
