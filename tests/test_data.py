import os

import numpy as np
import pytest
import tensorflow as tf

from colorize.config import preset
from colorize.data import _jitter, count_examples, make_dataset
from colorize.errors import ColorizeError

from conftest import block_triplet, write_records
from test_conditioning import tfrun

CFG = preset("B", image_size=32, batch_size=4)


def _first_batch(cfg, records_dir, **kwargs):
    return next(iter(make_dataset(cfg, records_dir, **kwargs)))


@pytest.mark.heavy
def test_batches_have_the_model_shapes_dtypes_and_range(block_records):
    inputs, color = _first_batch(CFG, block_records)
    assert inputs.shape == (4, 32, 32, 4) and color.shape == (4, 32, 32, 3)
    assert inputs.dtype == tf.float32 and color.dtype == tf.float32
    for t in (inputs, color):
        assert float(tf.reduce_min(t)) >= -1.0 and float(tf.reduce_max(t)) <= 1.0


@pytest.mark.heavy
def test_sketch_stays_binary_under_jitter(block_records):
    for inputs, _ in make_dataset(CFG, block_records):
        values = np.unique(inputs[..., 0].numpy())
        assert set(values.tolist()) <= {-1.0, 1.0}


@pytest.mark.heavy
def test_jitter_is_identical_across_the_triplet(block_records):
    # The three images hold the same block pattern; after resize, crop and flip they must still agree
    # everywhere except along block edges, where bilinear and nearest resizing differ.
    inputs, color = _first_batch(CFG, block_records)
    sketch, cue = inputs[..., :1].numpy(), inputs[..., 1:].numpy()
    assert np.mean(np.abs(color.numpy() - sketch) < 0.5) > 0.9
    assert np.mean(np.abs(cue - sketch) < 0.5) > 0.9


def _stock_jitter(sketch, cue, color, seed, cfg):
    """pix2pix jitter as first written: bilinear resizing of the uint8 images."""
    big = [cfg.jitter_size, cfg.jitter_size]
    rgb = tf.image.resize(tf.concat([cue, color], axis=-1), big, method="bilinear")
    stacked = tf.concat([tf.cast(tf.image.resize(sketch, big, method="nearest"), tf.float32),
                         rgb], axis=-1)
    stacked = tf.image.stateless_random_crop(stacked, [cfg.image_size, cfg.image_size, 7],
                                             seed=seed[:2])
    stacked = tf.image.stateless_random_flip_left_right(stacked, seed=seed[2:])
    return stacked[..., :1], stacked[..., 1:4], stacked[..., 4:]


def _eagerly_and_in_tf_data(fn, images, seeds) -> tuple[list, list]:
    """fn(*images, seed) for each seed, eagerly and inside one tf.data map over the seeds (one
    trace for them all), as numpy."""
    eager = [tf.nest.map_structure(np.asarray, fn(*(tf.constant(a) for a in images),
                                                  tf.constant(seed))) for seed in seeds]
    ds = tf.data.Dataset.zip((tf.data.Dataset.from_tensors(tuple(images)).repeat(),
                              tf.data.Dataset.from_tensor_slices(seeds)))
    in_data = [tf.nest.map_structure(np.asarray, out)
               for out in ds.map(lambda ims, seed: fn(*ims, seed))]
    return eager, in_data


@pytest.mark.heavy
@pytest.mark.parametrize("size", [32, 64, 256])
def test_jitter_equals_the_stock_resize_crop_and_flip_eagerly_and_in_tf_data(size):
    """Each image jittered on its own gives the numbers of the first form: the channels
    concatenated, uint8 resizing, one crop and one flip."""
    cfg = CFG.replace(image_size=size)
    rng = np.random.default_rng(size)
    images = [rng.integers(0, 256, (size, size, c), dtype=np.uint8) for c in (1, 3, 3)]
    images[0] = np.where(images[0] > 127, 255, 0).astype(np.uint8)  # a binary sketch
    columns = np.broadcast_to(np.arange(size, dtype=np.uint8)[None, :, None], (size, size, 1))
    seeds = np.array([[i, 7, i + 1, 3 * i] for i in range(12)], np.int64)
    fast = _eagerly_and_in_tf_data(lambda *a: _jitter(*a, cfg), images, seeds)
    stock = _eagerly_and_in_tf_data(lambda *a: _stock_jitter(*a, cfg), images, seeds)
    for form in (0, 1):  # eagerly, then inside tf.data
        for a, b in zip(tf.nest.flatten(fast[form]), tf.nest.flatten(stock[form])):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(tf.nest.flatten(fast[0]), tf.nest.flatten(fast[1])):
        np.testing.assert_array_equal(a, b)  # and the two forms agree with each other
    probes = _eagerly_and_in_tf_data(lambda *a: _jitter(*a, cfg)[0][..., 0],
                                     [columns, *images[1:]], seeds)[0]
    draws = {(int(probe[0, 0]), bool(probe[0, 0] > probe[0, -1])) for probe in probes}
    assert {flipped for _, flipped in draws} == {False, True}  # both branches compared
    assert len(draws) >= 6  # and many crops (at 32 px: 5 offsets a side)


@pytest.mark.heavy
def test_jitter_changes_the_images(block_records):
    plain = _first_batch(CFG.replace(jitter=False, shuffle_buffer=1), block_records)[1]
    jittered = _first_batch(CFG.replace(shuffle_buffer=1), block_records)[1]
    assert not np.allclose(plain, jittered)


@pytest.mark.heavy
def test_only_an_experiment_that_reads_the_cue_decodes_it(tmp_path, monkeypatch):
    """A and C never read the stored cue, and their map function never decodes it (the runtime
    prunes it: every op on its way is stateless): records whose cue is not a JPEG feed A and C,
    and stop B. A stateful op on the cue's path (an Assert, a print) would cost every A and C
    example a JPEG decode and two resizes, and fail this."""
    from colorize import records

    encode = records.encode_triplet
    monkeypatch.setattr(records, "encode_triplet",
                        lambda *images: {**encode(*images), "cue": b"not a jpeg"})
    rng = np.random.default_rng(0)
    write_records(tmp_path, [block_triplet(32, rng) for _ in range(8)], "train")
    for name in "AC":
        inputs, _ = _first_batch(preset(name, image_size=32, batch_size=4), str(tmp_path))
        assert inputs.shape[0] == 4
    with pytest.raises(tf.errors.InvalidArgumentError):
        _first_batch(preset("B", image_size=32, batch_size=4), str(tmp_path))


def test_evaluation_mode_is_plain_and_ordered(block_records):
    rng = np.random.default_rng(0)
    _ = [block_triplet(32, rng) for _ in range(12)]  # the train triplets of the fixture
    expected = [block_triplet(32, rng)[2] for _ in range(4)]
    _, color = _first_batch(CFG, block_records, split="test", training=False)
    np.testing.assert_allclose((color.numpy() + 1) * 127.5, np.stack(expected), atol=2)


@pytest.mark.heavy
def test_experiment_a_feeds_an_all_white_cue(block_records):
    inputs, _ = _first_batch(preset("A", image_size=32), block_records)
    np.testing.assert_array_equal(inputs[..., 1:], np.ones((4, 32, 32, 3), np.float32))


def test_experiment_b_feeds_the_stored_cue(block_records):
    inputs, _ = _first_batch(CFG, block_records)
    assert float(tf.reduce_min(inputs[..., 1:])) < 0  # the blocks' black reaches the cue


@pytest.mark.heavy
def test_same_seed_same_batches_and_epochs_differ(block_records):
    first = _first_batch(CFG, block_records, epoch=0)[1]
    again = _first_batch(CFG, block_records, epoch=0)[1]
    other = _first_batch(CFG, block_records, epoch=1)[1]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_training_drops_the_partial_batch_and_evaluation_keeps_it(block_records):
    train = list(make_dataset(CFG.replace(batch_size=5), block_records))
    test = list(make_dataset(CFG.replace(batch_size=3), block_records, split="test", training=False))
    assert [int(x.shape[0]) for x, _ in train] == [5, 5]
    assert [int(x.shape[0]) for x, _ in test] == [3, 1]


def test_count_examples_reads_records_without_a_manifest(block_records):
    assert count_examples(block_records, "train") == 12
    assert count_examples(block_records, "test") == 4


def test_empty_folder_fails_clearly(tmp_path):
    with pytest.raises(ColorizeError, match="no 'train' records") as info:
        make_dataset(CFG, str(tmp_path))
    assert info.value.reason == "no_records"


def test_missing_folder_fails_clearly(tmp_path):
    with pytest.raises(ColorizeError, match="no such records folder") as info:
        make_dataset(CFG, str(tmp_path / "nope"))
    assert info.value.reason == "not_found"
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ColorizeError, match="no such records folder") as info:
        make_dataset(CFG, str(tmp_path / "file"))
    assert info.value.reason == "not_a_folder"


def test_records_of_another_size_fail_clearly(tmp_path):
    rng = np.random.default_rng(0)
    write_records(tmp_path, [block_triplet(64, rng)])
    with pytest.raises(ColorizeError, match="64x64 images but the model expects 32x32") as info:
        make_dataset(CFG, str(tmp_path))
    assert info.value.reason == "wrong_size"


def test_garbage_shard_fails_clearly(tmp_path):
    (tmp_path / "train-00000-of-00001").write_bytes(b"not a tfrecord at all")
    with pytest.raises(ColorizeError, match="train-00000-of-00001: .*rebuild the dataset") as info:
        make_dataset(CFG, str(tmp_path))
    assert info.value.reason == "bad_records"


def _shards(tmp_path, size_of_shard):
    """Two train shards of 8 block triplets each, of the given image sizes."""
    rng = np.random.default_rng(0)
    for i, size in enumerate(size_of_shard):
        paths = write_records(tmp_path / "parts", [block_triplet(size, rng) for _ in range(8)])
        os.replace(paths[0], tmp_path / f"train-{i:05d}-of-{len(size_of_shard):05d}")
    return tmp_path


@pytest.mark.heavy
def test_a_flipped_byte_in_any_shard_fails_before_training_naming_the_shard(tmp_path):
    folder = _shards(tmp_path, [32, 32])
    good = make_dataset(CFG, str(folder))  # the intact folder is accepted
    assert next(iter(good))[0].shape == (4, 32, 32, 4)
    shard = folder / "train-00001-of-00002"
    data = bytearray(shard.read_bytes())
    data[len(data) * 3 // 4] ^= 0x10  # inside a late record's payload, past the first record
    shard.write_bytes(bytes(data))
    with pytest.raises(ColorizeError,
                       match=r"train-00001-of-00002: corrupted after about \d+ good") as info:
        make_dataset(CFG, str(folder))
    assert info.value.reason == "bad_records"


def test_a_shard_of_another_size_among_good_ones_fails_naming_it(tmp_path):
    folder = _shards(tmp_path, [32, 64])
    with pytest.raises(ColorizeError,
                       match="train-00001-of-00002: record 0 holds a 64x64 image") as info:
        make_dataset(CFG, str(folder))
    assert info.value.reason == "wrong_size"


@pytest.mark.heavy
def test_the_training_command_reports_a_damaged_shard_in_one_line(tmp_path, capsys):
    import argparse

    from colorize import cli, train_cli

    folder = _shards(tmp_path, [32, 32])
    shard = folder / "train-00000-of-00002"
    shard.write_bytes(shard.read_bytes()[:-7])  # cut inside the last record
    argv = ["train", "--experiment", "A", "--data", str(folder), "--out", str(tmp_path / "run"),
            "--image-size", "32", "--width", "4", "--epochs", "1", "--steps-per-epoch", "1"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("colorize train: error: ") and "train-00000-of-00002" in err[-1]
    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    with pytest.raises(ColorizeError) as info:  # what cli.main printed, raised by the command
        train_cli.run(parser.parse_args(argv[1:]))
    assert info.value.reason == "bad_records"
    assert not (tmp_path / "run").exists()


@pytest.mark.heavy
def test_the_pipeline_traced_without_autograph_gives_autographs_batches(demo_records,
                                                                        monkeypatch):
    """`make_dataset` traces the example function as plain Python (no autograph conversion,
    seconds per dataset); the batches must be autograph's to the bit, for C's mix of every sketch
    style with region strokes, the fill and its confidence, and for B's stored cue."""
    mix = preset("C", data=demo_records, image_size=32, width=8,
                 sketch_styles="threshold:1,xdog:1,lines:1,pencil:1", hint_fill_confidence=True)
    for cfg in (mix, preset("B", data=demo_records, image_size=32, width=8)):
        plain = [b.numpy() for pair in make_dataset(cfg, demo_records).take(4) for b in pair]
        with monkeypatch.context() as patch:  # what make_dataset did before: autograph's trace
            patch.setattr(tf.autograph.experimental, "do_not_convert", lambda fn: fn)
            converted = [b.numpy() for pair in make_dataset(cfg, demo_records).take(4)
                         for b in pair]
        assert len(plain) == len(converted) == 8
        assert all(np.array_equal(a, b) for a, b in zip(plain, converted)), cfg.experiment
