"""The training loop's wiring, with tiny stand-in networks injected (as TF-GAN's tests do): steps,
checkpoints, resume and every output of the run folder in a second or two, without the paper's
networks (tests/test_train.py trains those)."""

import json
import os
import shutil
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from colorize import data, runtime, train
from colorize.config import preset
from colorize.pix2pix import Networks, Pix2Pix


def tiny_generator(cfg, dtype_policy="float32"):
    size, channels = cfg.image_size, cfg.conditioning.input_channels
    inputs = keras.Input((size, size, channels), name=cfg.conditioning.input_name)
    x = keras.layers.Conv2D(3, 3, padding="same", dtype=dtype_policy)(inputs)
    x = keras.layers.BatchNormalization(dtype=dtype_policy)(x)
    return keras.Model(inputs, keras.layers.Activation("tanh", dtype="float32")(x))


def tiny_discriminator(cfg, dtype_policy="float32"):
    size, channels = cfg.image_size, cfg.conditioning.input_channels
    condition, color = keras.Input((size, size, channels)), keras.Input((size, size, 3))
    x = keras.layers.Concatenate(dtype=dtype_policy)([condition, color])
    return keras.Model([condition, color], keras.layers.Conv2D(1, 4, strides=4)(x))


TINY = Networks(tiny_generator, tiny_discriminator)


def _cfg(records, out, **kw):
    return preset("B", data=records, out=str(out), **{
        **dict(image_size=32, batch_size=4, precision="float32", eval_images=4, num_samples=2,
               log_every=1, epochs=1, steps_per_epoch=3), **kw})


def _metrics(run_dir):
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


LOSSES = ("gen_total_loss", "gen_gan_loss", "gen_l1_loss", "disc_loss")


@pytest.fixture(scope="module")
def records(block_records_once):
    """conftest's block records, written once (the tests here only read them)."""
    return block_records_once


@pytest.fixture(scope="module")
def first_epoch(records, tmp_path_factory):
    """A 1-epoch run, trained once; the tests that go on with it work on a copy: (run, its log)."""
    lines = []
    run = train.train(_cfg(records, tmp_path_factory.mktemp("first") / "run"), log=lines.append,
                      networks=TINY)
    return run, lines


@pytest.fixture(scope="module")
def unbroken(records, tmp_path_factory):
    """A 2-epoch run trained in one go, trained once: (run, the record files it read the sizes
    of, in order)."""
    read, real = [], data._record_sizes
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "_record_sizes", lambda path: read.append(path) or real(path))
        run = train.train(_cfg(records, tmp_path_factory.mktemp("unbroken") / "run", epochs=2),
                          log=lambda *a: None, networks=TINY)
    return run, read


def _copy(run, tmp_path):
    shutil.copytree(run, tmp_path / "run")
    return str(tmp_path / "run")


def test_the_injected_networks_are_the_ones_trained(records, tmp_path):
    model = Pix2Pix(_cfg(records, tmp_path), networks=TINY)
    assert model.generator.count_params() + model.discriminator.count_params() < 1000
    before = [w.numpy() for w in model.generator.trainable_weights]
    batch = (np.zeros((4, 32, 32, 4), np.float32), np.zeros((4, 32, 32, 3), np.float32))
    losses = model.train_step(batch)
    assert set(losses) == set(LOSSES) and all(np.isfinite(float(v)) for v in losses.values())
    assert int(model.gen_optimizer.iterations) == int(model.disc_optimizer.iterations) == 1
    assert any((w.numpy() != b).any() for w, b in zip(model.generator.trainable_weights, before))


@pytest.mark.heavy
def test_training_tunes_the_process_for_its_input_pipeline(records, tmp_path,
                                                           monkeypatch):
    """The Trainer sets malloc and OpenCV as the pipeline benchmark measured them
    (`runtime.tune_input_pipeline`), before it builds any dataset."""
    calls = []
    monkeypatch.setattr(runtime, "tune_input_pipeline", lambda: calls.append("tuned"))
    monkeypatch.setattr(data, "make_dataset", lambda *a, **k: calls.append("dataset") or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        train.train(_cfg(records, tmp_path / "run"), log=lambda *a: None, networks=TINY)
    assert calls[:2] == ["tuned", "dataset"]


@pytest.mark.heavy
def test_a_resumed_run_writes_every_output_and_matches_an_unbroken_one(records, first_epoch,
                                                                       unbroken, tmp_path):
    first, lines = first_epoch
    assert any(line.startswith(f"Run folder: {first}  (") for line in lines)
    assert tf.train.latest_checkpoint(os.path.join(first, "checkpoints")).endswith("ckpt-3")
    run = _copy(first, tmp_path)
    lines = []
    train.train(_cfg(records, run, epochs=2), log=lines.append, networks=TINY)
    assert lines[0] == f"Resumed from {run}/checkpoints/ckpt-3: epoch 2, step 3."
    unbroken, _ = unbroken

    resumed = _metrics(run)
    assert [(r["epoch"], r["step"]) for r in resumed] == [(1, 3), (2, 6)]
    assert [[r[k] for k in LOSSES] for r in resumed] == [
        [r[k] for k in LOSSES] for r in _metrics(unbroken)]
    assert resumed[-1]["heldout"]["split"] == "test" and resumed[-1]["heldout"]["images"] == 4
    assert sorted(os.listdir(os.path.join(run, "samples"))) == ["epoch_001.png", "epoch_002.png"]
    assert {"ckpt-3.index", "ckpt-6.index"} <= set(os.listdir(os.path.join(run, "checkpoints")))
    tags = {value.tag for name in os.listdir(os.path.join(run, "logs"))
            for event in tf.compat.v1.train.summary_iterator(os.path.join(run, "logs", name))
            for value in event.summary.value}
    assert {*LOSSES, "learning_rate", "images_per_sec", "heldout_l1",
            "samples (pix2pix test mode)"} <= tags
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 4)).astype(np.float32)
    exported = keras.models.load_model(os.path.join(run, "generator.keras"))
    again = keras.models.load_model(os.path.join(unbroken, "generator.keras"))
    np.testing.assert_array_equal(exported(x, training=False), again(x, training=False))
    assert not [n for n in os.listdir(run) if ".tmp" in n]


@pytest.mark.heavy
def test_each_split_is_read_once_however_many_epochs(unbroken):
    _, read = unbroken  # a 2-epoch run: a per-epoch read would list the train shards twice
    assert sorted(os.path.basename(p) for p in read) == [
        "test-00000-of-00001", "train-00000-of-00002", "train-00001-of-00002"]


@pytest.mark.heavy
def test_a_worker_other_than_the_chief_writes_nothing(records, tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "is_chief", lambda strategy: False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    os.mkdir(tmp_path / "tmp")
    lines = []
    assert train.train(_cfg(records, tmp_path / "run"), log=lines.append,
                       networks=TINY) is None
    assert not (tmp_path / "run").exists()
    assert not os.listdir(tmp_path / "tmp")  # its checkpoints went to a scratch folder, now gone
    assert not [line for line in lines if line.startswith(("Run folder", "epoch 1:"))]


@pytest.mark.heavy
def test_a_failed_write_of_the_epochs_outputs_names_the_last_good_checkpoint(records, first_epoch,
                                                                            tmp_path):
    from colorize.errors import ColorizeError

    run = _copy(first_epoch[0], tmp_path)
    (tmp_path / "run" / "samples" / "epoch_002.png").mkdir()  # in the way of epoch 2's grid
    with pytest.raises(ColorizeError, match="could not write the epoch's samples or metrics "
                                            ".*the last good checkpoint is .*ckpt-3") as info:
        train.train(_cfg(records, run, epochs=2), log=lambda *a: None, networks=TINY)
    assert info.value.reason == "write_failed"


def test_c_with_a_fill_loss_weighs_the_l1_where_the_fill_reaches(records, tmp_path):
    cfg = preset("C", data=records, out=str(tmp_path), image_size=32, batch_size=2,
                 precision="float32", hint_fill_loss=3.0)
    model = Pix2Pix(cfg, networks=TINY)
    rng = np.random.default_rng(0)
    inputs = rng.uniform(-1, 1, (2, 32, 32, 9)).astype(np.float32)
    inputs[..., 8] = 0.0
    inputs[:, :16, :, 8] = 1.0  # the fill reaches the top half
    target = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    error = np.abs(target - model.generator(inputs, training=True).numpy())  # no dropout
    losses = model.train_step((inputs, target))
    assert float(losses["gen_l1_loss"]) == pytest.approx(
        (error * (1.0 + 3.0 * inputs[..., 8:9])).mean(), rel=1e-4)
    assert float(losses["gen_l1_loss"]) != pytest.approx(error.mean(), rel=1e-2)
    # the paper's experiments and C by default keep the uniform L1
    assert preset("B").conditioning.l1_weights(tf.constant(inputs[..., :4])) is None
    assert preset("C").conditioning.l1_weights(tf.constant(inputs)) is None
    with pytest.raises(ValueError, match="hint_fill_loss"):
        preset("C", hint_fill=False, hint_fill_loss=1.0)
