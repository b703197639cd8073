import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from colorize import train as train_lib
from colorize.config import TrainConfig, preset
from colorize.models import build_generator
from colorize.pix2pix import Pix2Pix
from colorize.predictor import Predictor, evaluate
from colorize.progress import LogProgress
from colorize.train import Trainer, TrainingDiverged, lr_factor

pytestmark = pytest.mark.heavy  # trains models and starts processes

TINY = dict(image_size=32, width=8, batch_size=4, precision="float32", eval_images=8, num_samples=2,
            log_every=1)


def _cfg(records, out, experiment="B", **kw):
    return preset(experiment, data=records, out=str(out), **{**TINY, **kw})


def _metrics(run_dir):
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def _heldout_l1(cfg, run_dir=None):
    """Held-out L1 (deterministic mode) of the run's generator, or of a fresh one."""
    tf.keras.utils.set_random_seed(cfg.seed)
    gen = (tf.keras.models.load_model(os.path.join(run_dir, "generator.keras")) if run_dir
           else build_generator(cfg))
    from colorize.data import make_dataset
    heldout = make_dataset(cfg, cfg.data, "test", training=False, batch_size=16)
    return evaluate(Predictor(gen, "deterministic"), heldout, 1000)["l1"]


STEPS = 6  # per epoch of the shared runs: enough that a line per step would overflow a log's few


@pytest.fixture(scope="module")
def records(block_records_once):
    """conftest's block records, written once (the tests here only read them)."""
    return block_records_once


@pytest.fixture(scope="module")
def two_epochs(records, tmp_path_factory):
    """One fresh 2-epoch run, trained once for the tests that only read it, with its console
    output (print) redirected to a file as `colorize train > train.log` does: (run, log text)."""
    import contextlib

    root = tmp_path_factory.mktemp("two_epochs")
    with open(root / "train.log", "w") as log, contextlib.redirect_stdout(log):
        run = train_lib.train(_cfg(records, root / "run", epochs=2, steps_per_epoch=STEPS))
    return run, (root / "train.log").read_text()


@pytest.fixture(scope="module")
def one_epoch(records, tmp_path_factory):
    """One fresh 1-epoch run (seed 0, no held-out scoring), trained once; the tests that resume or
    change it work on a copy (`_copy`)."""
    out = tmp_path_factory.mktemp("one_epoch") / "run"
    return train_lib.train(_cfg(records, out, epochs=1, steps_per_epoch=STEPS, eval_images=0),
                           log=lambda *a: None)


def _copy(run, tmp_path):
    """A copy of a trained run folder at tmp_path/run, and its config there (out = the copy)."""
    shutil.copytree(run, tmp_path / "run")
    return TrainConfig.load(run).replace(out=str(tmp_path / "run"))


def _snapshot(folder):
    """Every file under `folder`, relative path -> bytes: whether anything was written."""
    return {os.path.relpath(os.path.join(d, n), folder): open(os.path.join(d, n), "rb").read()
            for d, _, names in os.walk(folder) for n in names}


def test_run_folder_has_every_artifact(two_epochs, records):
    run, _ = two_epochs
    names = set(os.listdir(run))
    assert {"config.json", "checkpoints", "logs", "samples", "metrics.jsonl",
            "generator.keras"} <= names
    assert sorted(os.listdir(os.path.join(run, "samples"))) == ["epoch_001.png", "epoch_002.png"]
    assert TrainConfig.load(run) == _cfg(records, run, epochs=2, steps_per_epoch=STEPS)
    metrics = _metrics(run)
    assert [r["epoch"] for r in metrics] == [1, 2] and metrics[-1]["step"] == 2 * STEPS
    assert {"l1", "psnr", "ssim"} <= set(metrics[-1]["heldout"])
    assert metrics[-1]["heldout"]["test_mode"] == "pix2pix"
    assert not [n for n in os.listdir(run) if ".tmp" in n]


def test_tensorboard_logs_hold_the_scalars(two_epochs):
    run, _ = two_epochs
    tags, steps = set(), set()
    logs = os.path.join(run, "logs")
    for name in os.listdir(logs):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(logs, name)):
            for value in event.summary.value:
                tags.add(value.tag)
                steps.add(event.step)
    assert {"gen_total_loss", "gen_gan_loss", "gen_l1_loss", "disc_loss", "learning_rate",
            "images_per_sec", "heldout_l1"} <= tags
    assert {1, 2, 3} <= steps


def test_same_seed_gives_the_same_losses(one_epoch, two_epochs, records, tmp_path):
    """The module's two runs have seed 0 and differ only after the first epoch (a second epoch,
    held-out scoring), so their first epochs' losses must agree; seed 1 must give others."""
    first, again = _metrics(one_epoch), _metrics(two_epochs[0])
    other = _metrics(train_lib.train(_cfg(records, tmp_path / "c", epochs=1, steps_per_epoch=STEPS,
                                          eval_images=0, seed=1), log=lambda *a: None))
    keys = ("gen_total_loss", "disc_loss")
    assert [first[0][k] for k in keys] == [again[0][k] for k in keys]
    assert [first[0][k] for k in keys] != [other[0][k] for k in keys]


def test_resume_continues_step_epoch_and_optimizer_state(one_epoch, tmp_path):
    cfg = _copy(one_epoch, tmp_path)
    trainer = Trainer(cfg.replace(epochs=2), cfg.out, log=lambda *a: None)
    assert trainer.restore()
    assert (int(trainer.step), int(trainer.epoch)) == (STEPS, 1)
    assert int(trainer.model.gen_optimizer.iterations) == STEPS
    trainer.fit()
    assert (int(trainer.step), int(trainer.epoch)) == (2 * STEPS, 2)
    assert int(trainer.model.disc_optimizer.iterations) == 2 * STEPS
    trainer.close()


# The one fresh process the two tests below need (TensorFlow's import alone is ~10 s of each):
# it restores the checkpoint of `one_epoch` into a new model and saves its output on X, then, told
# "train" on stdin, trains through `colorize train ARGS` until it is killed.
SECOND_PROCESS = """\
import os, sys
import numpy as np, tensorflow as tf
from colorize.cli import main
from colorize.config import TrainConfig
from colorize.models import build_generator
run, x, y = sys.argv[1], np.load(sys.argv[2]), sys.argv[3]
gen = build_generator(TrainConfig.load(run))
tf.train.Checkpoint(generator=gen).restore(
    tf.train.latest_checkpoint(run + '/checkpoints')).expect_partial()
np.save(y + '.tmp.npy', gen(x, training=False).numpy())
os.replace(y + '.tmp.npy', y)
if sys.stdin.readline() == 'train\\n':
    sys.exit(main(['train', *sys.argv[4:]]))
"""


@pytest.fixture(scope="module")
def second_process(one_epoch, records, tmp_path_factory):
    """The fresh process of SECOND_PROCESS, started once: (Popen, its folder), killed at the end."""
    root = tmp_path_factory.mktemp("second_process")
    np.save(root / "x.npy", np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 4)).astype("f4"))
    train_args = ["--data", records, "--out", str(root / "run"), "--image-size", "32", "--width",
                  "8", "--precision", "float32", "--epochs", "1000", "--steps-per-epoch", "2",
                  "--eval-images", "0", "--num-samples", "1"]
    with open(root / "stderr.txt", "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", SECOND_PROCESS, one_epoch,
                                 str(root / "x.npy"), str(root / "y.npy"), *train_args],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)
    yield proc, root
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    proc.stdin.close()


def _wait_for(condition, proc, root):
    """Wait until condition() while the process runs; generous: a loaded 2-core machine starts
    TensorFlow slowly."""
    deadline = time.time() + 600
    while not condition():
        assert proc.poll() is None, ("the process ended early: "
                                     + (root / "stderr.txt").read_text()[-2000:])
        assert time.time() < deadline, "the process took over 10 minutes"
        time.sleep(0.2)


def test_restored_checkpoint_gives_the_same_output_in_a_new_process(one_epoch, second_process):
    """The trained generator (as the run exported it at the end, after its last checkpoint) and
    the checkpoint restored into a fresh process's model compute the same."""
    proc, root = second_process
    trained = tf.keras.models.load_model(os.path.join(one_epoch, "generator.keras"))
    expected = trained(np.load(root / "x.npy"), training=False).numpy()
    _wait_for((root / "y.npy").exists, proc, root)
    np.testing.assert_allclose(np.load(root / "y.npy"), expected, rtol=1e-5, atol=1e-6)


def test_ctrl_c_saves_a_checkpoint(records, tmp_path, monkeypatch):
    cfg = _cfg(records, tmp_path / "run", epochs=1, steps_per_epoch=10)
    real_step, calls = Pix2Pix.train_step, []

    def interrupted(self, batch):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_step(self, batch)

    monkeypatch.setattr(Pix2Pix, "train_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_lib.train(cfg, log=lambda *a: None)
    assert tf.train.latest_checkpoint(os.path.join(cfg.out, "checkpoints")).endswith("ckpt-3")


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(one_epoch, tmp_path):
    cfg = _copy(one_epoch, tmp_path)
    good = tf.train.latest_checkpoint(os.path.join(cfg.out, "checkpoints"))
    assert good.startswith(cfg.out)  # the copy's own checkpoint
    with pytest.raises(TrainingDiverged, match=f"non-finite loss at step {STEPS + 1}") as info:
        train_lib.train(cfg.replace(epochs=2, l1_weight=float("nan")), log=lambda *a: None)
    assert info.value.reason == "diverged"
    assert tf.train.latest_checkpoint(os.path.join(cfg.out, "checkpoints")) == good


def test_sigkill_loses_at_most_the_work_since_the_last_checkpoint(second_process):
    """`colorize train` killed mid-run (in the module's fresh process) leaves a restorable
    checkpoint of a whole epoch."""
    proc, root = second_process
    run = root / "run"
    try:
        if proc.poll() is None:
            proc.stdin.write(b"train\n")
            proc.stdin.flush()
        _wait_for(lambda: len(list((run / "checkpoints").glob("*.index"))) >= 2, proc, root)
        time.sleep(0.3)  # let it be in the middle of something
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    trainer = Trainer(TrainConfig.load(str(run)), str(run))
    assert trainer.restore()
    saved = int(trainer.step)
    assert saved >= 4 and saved % 2 == 0  # a whole epoch's checkpoint, restorable
    trainer.close()


def test_lr_decay_is_linear_over_the_last_epochs():
    cfg = TrainConfig(epochs=10, lr_decay_epochs=4)
    factors = [lr_factor(cfg, e) for e in range(10)]
    assert factors[:6] == [1.0] * 6
    np.testing.assert_allclose(factors[6:], [0.8, 0.6, 0.4, 0.2])
    assert lr_factor(TrainConfig(), 29) == 1.0


@pytest.mark.slow
def test_training_learns_and_the_cue_reaches_the_generator(demo_records, tmp_path):
    """100 steps: held-out L1 0.26 -> 0.15 with the cue (B), 0.17 without it (A); B/A was 0.87-0.89
    over seeds 0-2, where A alone varied by about 2 %."""
    common = dict(epochs=1, steps_per_epoch=100, batch_size=8, eval_images=0, jitter=False,
                  test_mode="deterministic")
    before = _heldout_l1(_cfg(demo_records, tmp_path / "b0", "B", **common))
    run_b = train_lib.train(_cfg(demo_records, tmp_path / "b", "B", **common))
    run_a = train_lib.train(_cfg(demo_records, tmp_path / "a", "A", **common))
    after_b = _heldout_l1(_cfg(demo_records, run_b, "B", **common), run_b)
    after_a = _heldout_l1(_cfg(demo_records, run_a, "A", **common), run_a)
    assert after_b < 0.8 * before, (before, after_b)
    assert after_b < 0.95 * after_a, (after_a, after_b)  # more than seed-to-seed noise


@pytest.mark.real_data
def test_short_run_on_64_real_faces_writes_every_artifact(real_data, tmp_path):
    from colorize import build

    faces = tmp_path / "faces"
    faces.mkdir()
    for path in sorted((real_data / "faces").glob("*.jpg"))[:64]:
        (faces / path.name).symlink_to(path)
    records = tmp_path / "records"
    params = build.BuildParams.for_size(64, min_size=64, test_fraction=0.1)
    manifest = build.build_dataset([str(faces)], str(records), params, workers=1, progress=False)
    counts = manifest["counts"]
    assert counts["train"] + counts["test"] + counts["rejected"] == 64 and counts["train"] >= 32
    run = train_lib.train(_cfg(str(records), tmp_path / "run", image_size=64, width=8, epochs=2,
                               steps_per_epoch=4))
    assert {"config.json", "checkpoints", "logs", "samples", "metrics.jsonl",
            "generator.keras"} <= set(os.listdir(run))
    assert len(os.listdir(os.path.join(run, "samples"))) == 2
    assert [r["epoch"] for r in _metrics(run)] == [1, 2]
    assert os.listdir(os.path.join(run, "logs"))


def test_missing_records_fail_before_anything_is_written(tmp_path):
    from colorize.errors import ColorizeError

    with pytest.raises(ColorizeError, match="no 'train' records") as info:
        train_lib.train(_cfg(str(tmp_path), tmp_path / "run"))
    assert info.value.reason == "no_records"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("override,field", [(["--width", "16"], "width"),
                                            (["--experiment", "A"], "experiment"),
                                            (["--image-size", "64"], "image-size")])
def test_resume_refuses_changes_to_the_model_before_writing_anything(one_epoch, tmp_path, capsys,
                                                                     override, field):
    """Refused with one line, and the run folder is left byte for byte as it was (so it resumes
    as before: the resume tests below resume copies of the same run, one through the CLI)."""
    import argparse

    from colorize import train_cli
    from colorize.cli import main
    from colorize.errors import ColorizeError

    cfg = _copy(one_epoch, tmp_path)
    before = _snapshot(cfg.out)
    assert main(["train", "--resume", cfg.out, *override]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorize train: error: ") and f"--{field}" in err and "\n" not in err
    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    with pytest.raises(ColorizeError) as info:  # what cli.main printed, raised by the command
        train_cli.run(parser.parse_args(["--resume", cfg.out, *override]))
    assert info.value.reason == "resume_mismatch"
    assert _snapshot(cfg.out) == before


def test_a_failed_restore_leaves_the_config_alone(one_epoch, tmp_path):
    from colorize.errors import ColorizeError

    cfg = _copy(one_epoch, tmp_path)
    config = (tmp_path / "run" / "config.json").read_text()
    with pytest.raises(ColorizeError, match="does not fit this run's config") as info:
        train_lib.train(cfg.replace(width=16, epochs=2))  # the library path has no resume rules
    assert info.value.reason == "bad_checkpoint"
    assert (tmp_path / "run" / "config.json").read_text() == config


def test_disk_full_at_a_checkpoint_is_one_error_and_keeps_the_last_good_one(one_epoch, tmp_path,
                                                                            monkeypatch):
    from colorize.errors import ColorizeError

    cfg = _copy(one_epoch, tmp_path)
    good = tf.train.latest_checkpoint(os.path.join(cfg.out, "checkpoints"))
    assert good.startswith(cfg.out)  # the copy's own checkpoint

    def full(self, *args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "No space left on device")

    monkeypatch.setattr(tf.train.CheckpointManager, "save", full)
    with pytest.raises(ColorizeError, match=f"could not write the checkpoint of step {2 * STEPS}.*"
                                            f"the last good checkpoint is .*ckpt-{STEPS}") as info:
        train_lib.train(cfg.replace(epochs=2), log=lambda *a: None)
    assert info.value.reason == "write_failed"
    assert tf.train.latest_checkpoint(os.path.join(cfg.out, "checkpoints")) == good


def test_a_resume_removes_the_leftovers_of_a_killed_save_and_nothing_else(one_epoch, tmp_path,
                                                                         capsys):
    """Resumed as a user does, `colorize train --resume RUN --epochs 2` (a resume may change the
    epochs)."""
    from colorize.cli import main

    cfg = _copy(one_epoch, tmp_path)
    run, ckpts = tmp_path / "run", tmp_path / "run" / "checkpoints"
    # what a SIGKILL in the middle of CheckpointManager.save and of this project's writes leaves,
    # under the writers' own temporary names (seen with strace on TensorFlow 2.21)
    staging = ckpts / "ckpt-3_temp"
    staging.mkdir()
    leftovers = [ckpts / "checkpoint.tmp5f0c2d6e0a8b4c1f9e3d7a6b5c4d3e2f", staging,
                 staging / "part-00000-of-00001.data-00000-of-00001",
                 staging / "part-00000-of-00001.index.tempstate13451845637914360254",
                 run / "generator.tmp.keras", run / "config.json.tmp",
                 run / "samples" / "epoch_002.tmp.png"]
    for path in leftovers[:1] + leftovers[2:]:
        path.write_bytes(b"half written")
    # not the writers' temporary names: a resume leaves them alone
    mine = ckpts / "ckpt-9_temp"
    mine.mkdir()
    kept = [ckpts / "notes.txt", ckpts / "checkpoint.tmp", mine, mine / "notes.txt",
            run / "samples" / "epoch_002.tmp.txt"]
    for path in kept[:2] + kept[3:]:
        path.write_text("mine")
    capsys.readouterr()
    assert main(["train", "--resume", cfg.out, "--epochs", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not [p for p in leftovers if p.exists()]
    assert all(p.exists() for p in kept)
    assert any(line.startswith("Removed 5 leftover(s) of an interrupted save: ") for line in lines)
    assert TrainConfig.load(cfg.out).epochs == 2
    assert _metrics(cfg.out)[-1]["step"] == 2 * STEPS  # resumed at the end of epoch 1
    assert tf.train.latest_checkpoint(str(ckpts)).endswith(f"ckpt-{2 * STEPS}")
    assert {f"ckpt-{STEPS}.index", f"ckpt-{2 * STEPS}.index"} <= set(os.listdir(ckpts))


def test_progress_in_a_redirected_log_is_a_few_plain_lines(two_epochs):
    _, text = two_epochs  # the run's print()s went to a file
    assert "\r" not in text and "\b" not in text and "\x1b" not in text  # no terminal frames
    lines = text.splitlines()
    assert len(lines) <= 12, text  # run folder, TensorBoard, and per epoch: start, steps, metrics
    assert sum(line.lstrip().startswith(f"{STEPS}/{STEPS} steps") for line in lines) == 2, text


def test_log_progress_writes_a_line_every_interval_and_at_the_end():
    lines = []
    progress = LogProgress(3, lines.append, every=0)
    for step in (1, 2, 3):
        progress.update(step, [("disc_loss", float(step)), ("img/s", 10.0)])
    assert [line.split(" (")[0] for line in lines] == ["  1/3 steps", "  2/3 steps", "  3/3 steps"]
    assert lines[-1].endswith(": disc_loss 2.0000, img/s 10.0000")  # means over the epoch
    lines.clear()
    progress = LogProgress(3, lines.append, every=3600)
    for step in (1, 2, 3):
        progress.update(step, [("disc_loss", 1.0)])
    assert len(lines) == 1 and lines[0].startswith("  3/3 steps")


def test_an_imported_notebook_kernel_is_not_a_notebook(monkeypatch):
    """nbclient imports ipykernel in the test process (the notebook tests): a redirected log still
    gets plain lines unless a kernel runs this code."""
    import io
    import sys
    import types

    from colorize import progress

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert not progress._interactive()
    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert progress._interactive()
