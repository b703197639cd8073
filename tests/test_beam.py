"""The Beam builder makes the local builder's dataset: ids, splits, bytes, manifest, rejections.

One Beam build on the DirectRunner with 2 worker processes (multi_processing), over demo images
plus corrupt, empty and duplicate files, is compared with one local build of the same inputs.
"""

from __future__ import annotations

import json
import os
import shutil

import cv2
import numpy as np
import pytest

pytest.importorskip("apache_beam")

from colorize import beam_build, build, cli, demo, records  # noqa: E402
from colorize.config import preset  # noqa: E402
from colorize.data import make_dataset  # noqa: E402
from colorize.errors import ColorizeError  # noqa: E402

TINY = build.BuildParams(size=32, min_size=16, test_fraction=0.3, shard_size=4)
TWO_WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Two input folders: demo images, a corrupt, an empty, a tiny and two duplicate files."""
    root = tmp_path_factory.mktemp("images")
    first, second = root / "a", root / "b"
    paths = demo.generate(first, 14, size=64)
    (first / "corrupt.png").write_bytes(paths[0].read_bytes()[:200])
    (first / "empty.jpg").write_bytes(b"")
    (first / "zz-copy.png").write_bytes(paths[3].read_bytes())  # same folder, later name
    demo.generate(second / "sub", 2, size=64)  # seed 0 again: copies of images 0 and 1
    cv2.imwrite(str(second / "tiny.png"), np.full((8, 8, 3), 200, np.uint8))
    return [str(first), str(second)]


@pytest.fixture(scope="module")
def both(images, tmp_path_factory):
    """(local folder, local manifest, beam folder, beam manifest) of the same inputs."""
    root = tmp_path_factory.mktemp("built")
    local, beam = str(root / "local"), str(root / "beam")
    local_manifest = build.build_dataset(images, local, TINY, workers=1, progress=False)
    beam_manifest = beam_build.build_dataset(images, beam, TINY, beam_args=TWO_WORKERS)
    return local, local_manifest, beam, beam_manifest


def _features(out: str) -> dict[str, tuple[str, dict[str, bytes]]]:
    """(split, serialized feature by name) of every record, by id.

    Features one by one: a serialized Example's map order may differ from process to process.
    """
    import tensorflow as tf

    found = {}
    for split in records.SPLITS:
        for path in records.shard_paths(out, split):
            for serialized in tf.data.TFRecordDataset(path):
                example = tf.train.Example.FromString(serialized.numpy())
                image_id = example.features.feature["id"].bytes_list.value[0].decode()
                assert image_id not in found, f"{image_id} twice"
                found[image_id] = (split, {name: feature.SerializeToString() for name, feature
                                           in example.features.feature.items()})
    return found


def _rejected(out: str) -> list[dict]:
    with open(os.path.join(out, build.REJECTED)) as f:
        return [json.loads(line) for line in f]


def test_same_examples_splits_and_bytes(both):
    local, _, beam, _ = both
    ours, theirs = _features(beam), _features(local)
    assert len(ours) >= 10
    assert ours.keys() == theirs.keys()
    for image_id, (split, features) in ours.items():
        assert split == theirs[image_id][0] == build.split_of(image_id, TINY.test_fraction)
        assert len(features) == len(records.feature_spec())
        assert features == theirs[image_id][1], image_id  # every feature, byte for byte


def test_same_rejections(both):
    local, _, beam, _ = both
    rejected = _rejected(beam)
    assert rejected == _rejected(local)
    reasons = {os.path.basename(r["path"]): r["reason"] for r in rejected}
    assert reasons["corrupt.png"] == reasons["empty.jpg"] == "undecodable"
    assert reasons["tiny.png"] == "too_small"
    assert reasons["zz-copy.png"] == "duplicate"
    assert [r["reason"] for r in rejected if "/b/sub/" in r["path"]] == ["duplicate"] * 2
    copy = next(r for r in rejected if r["path"].endswith("zz-copy.png"))
    assert copy["detail"].endswith(os.path.join("a", demo.file_name(0, 3)))  # the first is kept


def test_same_manifest_but_shards(both):
    local, local_manifest, beam, beam_manifest = both
    with open(os.path.join(beam, build.MANIFEST)) as f:
        assert json.load(f) == beam_manifest
    strip = lambda m: {k: v for k, v in m.items() if k != "shards"}  # noqa: E731
    assert strip(beam_manifest) == strip(local_manifest)
    for split in records.SPLITS:
        names = beam_manifest["shards"][split]
        assert [os.path.basename(p) for p in records.shard_paths(beam, split)] == names
        assert names == [records.shard_name(split, i, len(names)) for i in range(len(names))]
    assert len(beam_manifest["shards"]["train"]) >= 2  # shard_size 4: several groups
    assert sorted(os.listdir(beam)) == sorted(
        beam_manifest["shards"]["train"] + beam_manifest["shards"]["test"]
        + [build.MANIFEST, build.REJECTED])  # no staging folder or summary left


def test_training_reads_a_beam_folder(both, tmp_path):
    _, _, beam, manifest = both
    cfg = preset("B", image_size=32, batch_size=2)
    inputs, color = next(iter(make_dataset(cfg, beam, "test", training=False)))
    assert inputs.shape[1:3] == color.shape[1:3] == (32, 32)
    run = tmp_path / "run"
    argv = ["train", "--experiment", "A", "--data", beam, "--out", str(run), "--image-size", "32",
            "--width", "4", "--batch-size", "2", "--epochs", "1", "--steps-per-epoch", "1",
            "--eval-images", "0", "--num-samples", "1"]
    assert cli.main(argv) == 0
    assert (run / "generator.keras").is_file()


def test_rerun_refuses_then_replaces(images, both, tmp_path):
    _, _, beam, manifest = both
    out = str(tmp_path / "again")
    shutil.copytree(beam, out)
    with pytest.raises(ColorizeError, match="not empty"):
        beam_build.build_dataset(images, out, TINY, beam_args=["--direct_num_workers=1"])
    assert sorted(os.listdir(out)) == sorted(os.listdir(beam))  # untouched
    params = build.BuildParams(size=32, min_size=16, test_fraction=0.3, shard_size=100)
    again = beam_build.build_dataset(images[:1], out, params, overwrite=True,
                                     beam_args=["--direct_running_mode=in_memory"])
    assert again["shards"]["train"] == ["train-00000-of-00001"]
    assert sorted(os.listdir(out)) == sorted(again["shards"]["train"] + again["shards"]["test"]
                                             + [build.MANIFEST, build.REJECTED])


def test_cli_runner_beam(images, tmp_path, capsys):
    out = str(tmp_path / "cli")
    argv = ["build", images[0], "--out", out, "--size", "32", "--min-size", "16",
            "--runner", "beam", "--beam-option=--direct_running_mode=in_memory"]
    assert cli.main(argv) == 0
    assert "train +" in capsys.readouterr().out
    assert cli.main(argv + ["--part", "0/2", "--overwrite"]) == 2
    assert "--part" in capsys.readouterr().err


def test_a_failed_pipeline_is_one_line_and_leaves_nothing(images, tmp_path):
    out = tmp_path / "failed"
    with pytest.raises(ColorizeError, match="the Beam pipeline failed"):
        beam_build.build_dataset(images, str(out), TINY, beam_args=["--runner=NoSuchRunner"])
    assert not out.exists()
