"""tf.distribute: strategy choice, per-worker input sharding, mirrored and multi-worker training.

The strategies run in subprocesses: logical CPU devices must be set up before TensorFlow starts,
and each worker of a cluster is its own process (127.0.0.1 only).
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from colorize import runtime
from colorize.config import preset
from colorize.data import make_dataset

from conftest import _write_block_records, block_triplet, write_records

pytestmark = pytest.mark.heavy  # starts worker processes

TESTS = Path(__file__).parent
ROOT = TESTS.parent
_spec = importlib.util.spec_from_file_location("launch_multiworker",
                                               ROOT / "tools" / "launch_multiworker.py")
launcher = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(launcher)

TWO_WORKERS = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},
               "task": {"type": "worker", "index": 0}}


# -- choosing the strategy -------------------------------------------------------------------


def test_auto_is_one_device_on_this_machine(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert not tf.config.list_physical_devices("GPU")
    assert runtime.resolve_strategy("auto") == "one"


def test_auto_is_mirrored_on_several_gpus(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert runtime.resolve_strategy("auto", num_gpus=2) == "mirrored"
    assert runtime.resolve_strategy("auto", num_gpus=1) == "one"


def test_auto_is_multiworker_when_tf_config_lists_two_workers(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(TWO_WORKERS))
    assert runtime.resolve_strategy("auto", num_gpus=0) == "multiworker"
    assert runtime.resolve_strategy("auto", num_gpus=2) == "multiworker"
    assert runtime.resolve_strategy("one") == "one"


def _strategy_of(cluster: dict, task_type: str, task_id: int):
    """A stand-in strategy with a cluster resolver; no server is started."""
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec(cluster), task_type=task_type, task_id=task_id)
    return types.SimpleNamespace(cluster_resolver=resolver)


@pytest.mark.parametrize("cluster, task, chief", [
    ({"worker": ["a:1", "b:1"]}, ("worker", 0), True),
    ({"worker": ["a:1", "b:1"]}, ("worker", 1), False),
    ({"chief": ["c:1"], "worker": ["a:1"]}, ("chief", 0), True),
    ({"chief": ["c:1"], "worker": ["a:1"]}, ("worker", 0), False),
])
def test_the_chief_is_task_chief_else_worker_0(cluster, task, chief):
    strategy = _strategy_of(cluster, *task)
    assert runtime.is_chief(strategy) is chief
    assert runtime.worker_id(strategy) == f"{task[0]}-{task[1]}"


def test_one_device_is_the_chief():
    assert runtime.is_chief(tf.distribute.get_strategy())
    assert runtime.worker_id(tf.distribute.get_strategy()) == "chief"


def test_launcher_gives_each_worker_its_index_in_one_cluster():
    hosts = ["h0:2222", "h1:2222", "h2:2222"]
    configs = [json.loads(launcher.tf_config(hosts, i)) for i in range(3)]
    assert all(c["cluster"] == {"worker": hosts} for c in configs)
    assert [c["task"] for c in configs] == [{"type": "worker", "index": i} for i in range(3)]


# -- input sharding --------------------------------------------------------------------------


def _context(pipeline: int) -> tf.distribute.InputContext:
    return tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline,
                                      num_replicas_in_sync=2)


def _examples(records_dir, context=None, jitter=False) -> list[bytes]:
    """One training pass (shuffled, unbatched), each example as its color image's bytes."""
    cfg = preset("B", image_size=32, jitter=jitter)
    ds = make_dataset(cfg, records_dir, "train", training=True, batch_size=1,
                      input_context=context)
    return [color.numpy().tobytes() for _, color in ds]


@pytest.fixture
def one_shard_records(tmp_path):
    rng = np.random.default_rng(1)
    write_records(tmp_path, [block_triplet(32, rng) for _ in range(7)], "train", shards=1)
    return str(tmp_path)


@pytest.mark.parametrize("records", ["block_records", "one_shard_records"])
def test_pipelines_together_read_every_example_once(records, request, caplog):
    records_dir = request.getfixturevalue(records)
    parts = [_examples(records_dir, _context(i)) for i in range(2)]
    assert all(parts)
    assert sorted(parts[0] + parts[1]) == sorted(_examples(records_dir))
    by_data = "sharding by example" in caplog.text
    assert by_data is (records == "one_shard_records")  # warned only when falling back


def test_pipelines_do_not_draw_the_same_jitter(tmp_path):
    same = block_triplet(32, np.random.default_rng(2))
    write_records(tmp_path, [same] * 8, "train", shards=1)
    first, second = (_examples(tmp_path, _context(i), jitter=True) for i in range(2))
    assert len(first) == len(second) == 4
    assert first != second


# -- mirrored: two replicas in one process ---------------------------------------------------


def test_mirrored_step_equals_the_single_device_step(tmp_path):
    """Global batch 4 over two replicas of 2 (synchronized batch norm) updates every variable as one
    device does with batch 4; averaging over the per-replica batch instead would not. The replicas
    step in their own process (logical devices), one device in this one meanwhile."""
    import _mirrored_step as helper

    rng = np.random.default_rng(0)
    batch = (rng.uniform(-1, 1, (helper.GLOBAL, 32, 32, 4)).astype(np.float32),  # sketch + cue
             rng.uniform(-1, 1, (helper.GLOBAL, 32, 32, 3)).astype(np.float32))  # color
    tf.keras.utils.set_random_seed(0)  # as training seeds, for the same initial weights each run
    initial = helper.weights(helper.Pix2Pix(helper.CFG.replace(batch_size=helper.GLOBAL)))
    given, out = tmp_path / "given.npz", tmp_path / "mirrored.npz"
    np.savez(given, inputs=batch[0], color=batch[1],
             **{f"initial_{i}": w for i, w in enumerate(initial)})
    proc = subprocess.Popen([sys.executable, str(TESTS / "_mirrored_step.py"), str(given),
                             str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        single = helper.single_step(batch, initial)
        # Each replica's loss averaged over its own 2 examples: summed over the replicas, twice
        # the loss one device averages over 4, i.e. the step one device takes averaging over 2
        # (the replicas' own such step, computed once, was within 1e-7 of it).
        wrong_scaling = helper.single_step(batch, initial, global_batch=helper.PER_REPLICA)
        _, err = proc.communicate(timeout=240)
    finally:
        proc.kill()  # nothing once it has exited
    assert proc.returncode == 0, err[-3000:]
    w = np.load(out)
    mirrored = [w[f"arr_{i}"] for i in range(len(w.files))]
    assert len(initial) == len(mirrored) > 40  # both networks, batch-norm statistics included
    moved = max(np.abs(s - i).max() for s, i in zip(single, initial))
    assert moved > 1e-2
    for n, (m, s) in enumerate(zip(mirrored, single)):
        np.testing.assert_allclose(m, s, rtol=1e-5, atol=1e-6, err_msg=f"variable {n}")
    wrong = max(np.abs(x - s).max() for x, s in zip(wrong_scaling, single))
    assert wrong > 1e-4  # the comparison would catch a loss averaged per replica


# -- multi-worker: two processes on 127.0.0.1 ------------------------------------------------

WORKER_TIMEOUT = 300  # seconds for one run of both workers (~30 s on 2 idle cores)


def _train_workers(tmp_path: Path, name: str, outs: list[Path], records: str, epochs: int):
    """`colorize train --strategy multiworker` as two workers writing to outs[i]; each worker's
    final weights land in NAME-I.npz, its temporary files in NAME-tmp-I/."""
    hosts = [f"127.0.0.1:{port}" for port in launcher.free_ports(2)]
    args = ["--data", records, "--image-size", "32", "--width", "4", "--precision", "float32",
            "--batch-size", "2", "--epochs", str(epochs), "--steps-per-epoch", "2",
            "--eval-images", "4", "--num-samples", "1", "--log-every", "1", "--sync-batch-norm"]
    commands, envs = [], []
    for i, out in enumerate(outs):
        scratch = tmp_path / f"{name}-tmp-{i}"
        scratch.mkdir()
        commands.append([sys.executable, str(TESTS / "_multiworker_train.py"),
                         "--strategy", "multiworker", *args, "--out", str(out)])
        envs.append({"TMPDIR": str(scratch), "TF_CPP_MIN_LOG_LEVEL": "2",
                     "COLORIZE_TEST_DUMP": str(tmp_path / f"{name}-{i}.npz")})
    logs = [str(tmp_path / f"{name}-{i}.log") for i in range(2)]
    procs = launcher.start_workers(commands, hosts, envs=envs, logs=logs)
    codes = launcher.wait_all(procs, timeout=WORKER_TIMEOUT)
    tails = "\n".join(f"--- worker {i}:\n" + Path(log).read_text()[-3000:]
                      for i, log in enumerate(logs))
    return types.SimpleNamespace(codes=codes, pids=[p.pid for p in procs], tails=tails,
                                 dumps=[tmp_path / f"{name}-{i}.npz" for i in range(2)],
                                 scratch=[tmp_path / f"{name}-tmp-{i}" for i in range(2)])


def _assert_same_weights(dumps) -> int:
    first, second = (np.load(d) for d in dumps)
    assert sorted(first.files) == sorted(second.files) and len(first.files) > 40
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    return int(first["step"])


def _event_file_pids(run_dir: Path) -> set[int]:
    """The writing process of each TensorBoard event file (events.out.tfevents.TIME.HOST.PID...)."""
    return {int(f.name.split(".")[-3]) for f in (run_dir / "logs").iterdir()}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """Epoch 1 of a 2-worker run: the chief in run/, the worker given its own worker_out/, as
    if on another machine; block records with 2 train shards, one per worker."""
    tmp = tmp_path_factory.mktemp("multiworker")
    records = _write_block_records(tmp / "records")
    run, worker_out = tmp / "run", tmp / "worker_out"
    result = _train_workers(tmp, "first", [run, worker_out], records, epochs=1)
    return types.SimpleNamespace(result=result, run=run, worker_out=worker_out, records=records)


def test_two_workers_finish_with_identical_weights(first_run):
    result = first_run.result
    assert result.codes == [0, 0], result.tails
    assert _assert_same_weights(result.dumps) == 2


def test_only_the_chief_writes_the_run_folder(first_run):
    result, run = first_run.result, first_run.run
    assert result.codes == [0, 0], result.tails
    assert not first_run.worker_out.exists()
    assert not list(result.scratch[1].iterdir())  # the worker removed its temporary checkpoints
    assert {"config.json", "checkpoints", "logs", "samples", "metrics.jsonl",
            "generator.keras"} <= set(os.listdir(run))
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-2")
    assert _event_file_pids(run) == {result.pids[0]}
    assert os.listdir(run / "samples") == ["epoch_001.png"]


def test_a_worker_without_the_checkpoints_stops_the_resume(first_run, tmp_path):
    """Resuming needs every worker to read the chief's checkpoints; one that reads an empty folder
    would train other weights in lockstep, so both workers stop with the reason instead."""
    assert first_run.result.codes == [0, 0], first_run.result.tails
    run = tmp_path / "run"
    shutil.copytree(first_run.run, run)
    result = _train_workers(tmp_path, "split", [run, tmp_path / "worker_out"], first_run.records,
                            epochs=2)
    assert result.codes == [2, 2], result.tails
    assert result.tails.count("workers start at different steps [2, 0]") == 2
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-2")


def test_two_workers_resume_the_run(first_run, tmp_path):
    assert first_run.result.codes == [0, 0], first_run.result.tails
    run = tmp_path / "run"
    shutil.copytree(first_run.run, run)
    result = _train_workers(tmp_path, "resume", [run, run], first_run.records, epochs=2)
    assert result.codes == [0, 0], result.tails
    assert _assert_same_weights(result.dumps) == 4
    with open(run / "metrics.jsonl") as f:
        assert [json.loads(line)["step"] for line in f] == [2, 4]
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-4")
    assert _event_file_pids(run) == {first_run.result.pids[0], result.pids[0]}
    assert not list(result.scratch[1].iterdir())
