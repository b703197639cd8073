"""Shared test helpers: tiny hand-made records, and the real-data folder when available."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from colorize import records

# the shared real anime images, absolute (tests link to them from tmp folders); None when unset
REAL_DATA = (os.path.abspath(os.environ["COLORIZE_REAL_DATA"])
             if os.environ.get("COLORIZE_REAL_DATA") else None)


def write_records(records_dir, triplets, split: str = "train", shards: int = 1) -> list[str]:
    """Write (sketch (S,S), cue (S,S,3), color (S,S,3)) uint8 triplets as `split` shards."""
    import tensorflow as tf

    os.makedirs(records_dir, exist_ok=True)
    paths = [os.path.join(records_dir, records.shard_name(split, i, shards)) for i in range(shards)]
    writers = [tf.io.TFRecordWriter(p) for p in paths]
    for i, (sketch, cue, color) in enumerate(triplets):
        size = sketch.shape[0]
        example = records.make_example(
            records.encode_triplet(color, sketch, cue), complexity=float((sketch == 0).mean() * 100),
            id=f"{split}-{i:04d}", source=f"img{i}.png", height=size, width=size)
        writers[i % shards].write(example)
    for w in writers:
        w.close()
    return paths


def block_triplet(size: int, rng: np.random.Generator):
    """A triplet whose three images share one random block pattern (easy to track under jitter)."""
    cells = rng.integers(0, 2, (4, 4), dtype=np.uint8)
    pattern = np.kron(cells, np.ones((size // 4, size // 4), np.uint8)) * 255  # (S, S) in {0, 255}
    rgb = np.repeat(pattern[..., None], 3, axis=-1)
    return pattern, rgb.copy(), rgb.copy()


def _write_block_records(root) -> str:
    rng = np.random.default_rng(0)
    write_records(root, [block_triplet(32, rng) for _ in range(12)], "train", shards=2)
    write_records(root, [block_triplet(32, rng) for _ in range(4)], "test")
    return str(root)


@pytest.fixture
def block_records(tmp_path):
    """A records folder of 12 train and 4 test 32x32 block triplets."""
    return _write_block_records(tmp_path)


@pytest.fixture(scope="session")
def block_records_once(tmp_path_factory):
    """`block_records` written once for the session, for tests that only read them."""
    return _write_block_records(tmp_path_factory.mktemp("blocks"))


def _made_once(tmp_path_factory, name: str, make) -> str:
    """`make(folder)`'s result (a path) for the whole test run. Under pytest-xdist (`-n 2`) every
    worker is a session of its own and would make its own copy: the first to ask makes it in
    the folder the workers share, under a lock, and the others wait for it and read its path."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return make(tmp_path_factory.mktemp(name))
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the run's folder, above each worker's
    made = shared / f"{name}.made"  # written last: the made thing's path
    with FileLock(str(shared / f"{name}.lock")):
        if not made.exists():
            folder = shared / name
            shutil.rmtree(folder, ignore_errors=True)  # a worker that failed left it half-made
            folder.mkdir()
            made.write_text(make(folder))
        return made.read_text()


@pytest.fixture(scope="session")
def demo_records(tmp_path_factory) -> str:
    """Tiny demo dataset (procedural illustrations through the real builder), 32x32 records."""
    from colorize import build, demo

    def make(root) -> str:
        demo.generate(root / "images", 160, seed=0, size=64)
        params = build.BuildParams.for_size(32, min_size=32, test_fraction=0.15)
        build.build_dataset([str(root / "images")], str(root / "records"), params, workers=1,
                            progress=False)
        return str(root / "records")
    return _made_once(tmp_path_factory, "demo", make)


@pytest.fixture(scope="session")
def run_b(demo_records, tmp_path_factory) -> str:
    """A tiny experiment-B run on the demo records, in the paper's (pix2pix) test mode."""
    from colorize import train
    from colorize.config import preset

    def make(out) -> str:
        cfg = preset("B", data=demo_records, out=str(out), image_size=32, width=8, epochs=1,
                     steps_per_epoch=20, eval_images=0, num_samples=1, precision="float32")
        return train.train(cfg, log=lambda *a: None)
    return _made_once(tmp_path_factory, "run_b", make)


def _trained(experiment: str, demo_records, tmp_path_factory) -> str:
    from colorize import train
    from colorize.config import preset

    def make(out) -> str:
        cfg = preset(experiment, data=demo_records, image_size=32, width=8, epochs=1,
                     out=str(out), steps_per_epoch=250, learning_rate=5e-4, eval_images=0,
                     num_samples=1, precision="float32", test_mode="deterministic")
        return train.train(cfg, log=lambda *a: None)
    return _made_once(tmp_path_factory, f"run_{experiment}_250", make)


@pytest.fixture(scope="session")
def cue_run(demo_records, tmp_path_factory) -> str:
    """A deterministic experiment-B model trained briefly on demo data, where the cue and strokes
    matter (a high learning rate makes 250 steps enough for the cue's colors to reach the
    output); shared by the files that only read it (inference, the app, the notebooks)."""
    return _trained("B", demo_records, tmp_path_factory)


@pytest.fixture(scope="session")
def c_run(demo_records, tmp_path_factory) -> str:
    """A tiny experiment-C model trained as `cue_run`, shared likewise."""
    return _trained("C", demo_records, tmp_path_factory)


@pytest.fixture
def real_data() -> Path:
    """The shared real anime images (COLORIZE_REAL_DATA); skips when unset."""
    if not REAL_DATA or not os.path.isdir(REAL_DATA):
        pytest.skip("COLORIZE_REAL_DATA is not set")
    return Path(REAL_DATA)



def command_error(argv: list[str]):
    """The ColorizeError that `colorize ARGV` turns into its one-line message, raised by the
    command itself (cli.main prints only the message), for asserting its reason."""
    import argparse
    import importlib

    from colorize.cli import COMMANDS
    from colorize.errors import ColorizeError

    module = importlib.import_module(COMMANDS[argv[0]][0])
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    with pytest.raises(ColorizeError) as info:
        module.run(parser.parse_args(list(argv[1:])))
    return info.value


# -- tiers: the fast tier (no model trained, no process started, no Beam pipeline, no test of a
# second or more) runs first;
# `pytest -m "not heavy"` runs it alone, `pytest -m heavy` the rest

# fixtures that train a model; a test that uses one (directly or through another fixture) is heavy
TRAINING_FIXTURES = {"run_b", "hint_run", "a_choices", "c_run", "gray_run", "cue_run", "runs",
                     "first_run"}
_tier = {"fast": False}  # whether the test being set up, run or torn down is in the fast tier


def pytest_collection_modifyitems(items):
    for item in items:
        if TRAINING_FIXTURES & set(item.fixturenames) or item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.heavy)
    items.sort(key=lambda item: item.get_closest_marker("heavy") is not None)  # stable


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):  # before the item's fixtures are set up
    _tier["fast"] = item.get_closest_marker("heavy") is None


@pytest.fixture(scope="session", autouse=True)
def _no_training_in_the_fast_tier():
    """A fast-tier test that trains fails and says to mark it: the tier stays fast."""
    from colorize import train

    real = train.train

    def guarded(*args, **kwargs):
        if _tier["fast"]:
            raise AssertionError("this test trains a model: mark it @pytest.mark.heavy (or add "
                                 "its training fixture to conftest.TRAINING_FIXTURES)")
        return real(*args, **kwargs)

    train.train = guarded
    yield
    train.train = real
