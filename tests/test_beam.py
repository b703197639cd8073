"""The Beam builder makes the local builder's dataset: ids, splits, bytes, manifest, rejections.

One Beam build on the DirectRunner with 2 worker processes (multi_processing), over demo images
plus corrupt, empty and duplicate files, is compared with one local build of the same inputs;
so is one from and to `memfs://` URLs, a test-only Beam filesystem standing for an object store.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import pathlib
import shutil

import cv2
import numpy as np
import pytest

pytest.importorskip("apache_beam")

from apache_beam.io.filesystem import FileMetadata, FileSystem  # noqa: E402

from colorize import build, cli, demo, records  # noqa: E402
from colorize.build import beam as beam_build  # noqa: E402
from colorize.build import cli as build_cli  # noqa: E402
from colorize.build import identity, output  # noqa: E402
from colorize.build.process import MAX_FILE_BYTES, process_file  # noqa: E402
from colorize.config import preset  # noqa: E402
from colorize.data import make_dataset  # noqa: E402
from colorize.errors import ColorizeError  # noqa: E402

pytestmark = pytest.mark.heavy  # runs Beam pipelines

TINY = build.BuildParams(size=32, min_size=16, test_fraction=0.3, shard_size=4)
TWO_WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
# memfs:// exists in this process only (a worker process would not have the class that this
# module defines), so the builds that use it run on the in-process DirectRunner
IN_PROCESS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


class MemFileSystem(FileSystem):
    """`memfs://` URLs: an object store in this process's memory, registered with Beam by its
    scheme. Like Cloud Storage it has no folders (only name prefixes) and no folder rename."""

    files: dict[str, bytes] = {}  # one store: Beam makes a new instance for every call

    @classmethod
    def scheme(cls):
        return "memfs"

    def join(self, basepath, *paths):
        return "/".join([basepath.rstrip("/"), *paths])

    def split(self, path):
        head, _, tail = path.rpartition("/")
        return head, tail

    def mkdirs(self, path):
        pass

    def has_dirs(self):
        return False

    def _list(self, prefix):
        return [self.metadata(path) for path in list(self.files) if path.startswith(prefix)]

    def create(self, path, *args, **kwargs):
        return _Upload(path)

    def open(self, path, *args, **kwargs):
        return io.BytesIO(self._get(path))

    def copy(self, sources, targets):
        for source, target in zip(sources, targets):
            self.files[target] = self._get(source)

    def rename(self, sources, targets):
        self.copy(sources, targets)
        self.delete(sources)

    def exists(self, path):
        return path in self.files

    def size(self, path):
        return len(self._get(path))

    def last_updated(self, path):
        return 0.0

    def metadata(self, path):
        return FileMetadata(path, self.size(path))

    def delete(self, paths):
        for path in paths:
            self._get(path)
            del self.files[path]

    def _get(self, path):
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path]


class _Upload(io.BytesIO):
    """A memfs file being written: it appears, whole, when closed (as an upload does)."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def close(self):
        if not self.closed:
            MemFileSystem.files[self.path] = self.getvalue()
        super().close()


def _under(url: str) -> dict[str, bytes]:
    """The memfs files under `url`/, by name relative to it."""
    prefix = url + "/"
    return {p[len(prefix):]: data for p, data in MemFileSystem.files.items()
            if p.startswith(prefix)}


def _staged() -> list[str]:
    return [path for path in MemFileSystem.files if output.STAGING_PREFIX in path]


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


@pytest.fixture(scope="module")
def remote(images, tmp_path_factory):
    """(input URLs, manifest, local copy of the output) of a build from memfs:// to memfs://."""
    urls = [f"memfs://in/{os.path.basename(root)}" for root in images]
    for root, url in zip(images, urls):
        for path in pathlib.Path(root).rglob("*"):
            if path.is_file():
                MemFileSystem.files[f"{url}/{path.relative_to(root).as_posix()}"] = \
                    path.read_bytes()
    manifest = beam_build.build_dataset(urls, "memfs://out", TINY, beam_args=IN_PROCESS)
    copy = tmp_path_factory.mktemp("remote")  # for TensorFlow, which cannot read memfs://
    for name, data in _under("memfs://out").items():
        (copy / name).write_bytes(data)
    return urls, manifest, str(copy)


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
        assert split == theirs[image_id][0] == identity.split_of(image_id, TINY.test_fraction)
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


def test_names_that_are_not_utf8_build_the_same_on_both_runners(tmp_path):
    """Issue #30: Beam's coders encode a str as strict UTF-8, so one Linux file name that is not
    UTF-8 failed the whole pipeline ("surrogates not allowed"); now both runners accept its image,
    keep its bytes in `source` and write the same rejections and manifest. The in-process
    DirectRunner encodes every element with Beam's coders as worker processes do (without the
    change it fails the same way) and starts no process that imports TensorFlow."""
    import tensorflow as tf

    folder = tmp_path / os.fsdecode(b"in\xff")  # the input folder's name is not UTF-8 either
    first, second = demo.generate(folder, 2, size=64)
    os.replace(first, folder / os.fsdecode(b"caf\xe9.png"))
    shutil.copy(second, folder / os.fsdecode(b"z\xe9copy.png"))
    (folder / os.fsdecode(b"bad\xfe.png")).write_bytes(b"not an image")
    local, beam = str(tmp_path / "local"), str(tmp_path / "beam")
    local_manifest = build.build_dataset([str(folder)], local, TINY, workers=1, progress=False)
    beam_manifest = beam_build.build_dataset([str(folder)], beam, TINY, beam_args=IN_PROCESS)
    ours = _features(beam)
    assert ours == _features(local)
    sources = {tf.train.Feature.FromString(features["source"]).bytes_list.value[0]
               for _, features in ours.values()}
    assert sources == {b"caf\xe9.png", os.fsencode(second.name)}
    with open(os.path.join(beam, build.REJECTED), "rb") as f, \
            open(os.path.join(local, build.REJECTED), "rb") as g:
        assert f.read() == g.read()
    rejected = _rejected(beam)
    assert [identity.stored_name(r, "path") for r in rejected] == [
        str(folder / os.fsdecode(b"bad\xfe.png")), str(folder / os.fsdecode(b"z\xe9copy.png"))]
    assert [r["reason"] for r in rejected] == ["undecodable", "duplicate"]
    strip = lambda m: {k: v for k, v in m.items() if k != "shards"}  # noqa: E731
    assert strip(beam_manifest) == strip(local_manifest)
    assert output.manifest_inputs(beam_manifest) == [str(folder)]


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
    with pytest.raises(ColorizeError, match="not empty") as info:
        beam_build.build_dataset(images, out, TINY, beam_args=["--direct_num_workers=1"])
    assert info.value.reason == "not_empty"
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
    parser = argparse.ArgumentParser()
    build_cli.add_arguments(parser)
    with pytest.raises(ColorizeError, match="--part is for the local runner") as info:
        build_cli.run(parser.parse_args(argv[1:] + ["--part", "0/2", "--overwrite"]))
    assert info.value.reason == "conflicting"


def test_a_failed_pipeline_is_one_line_and_leaves_nothing(images, tmp_path):
    out = tmp_path / "failed"
    with pytest.raises(ColorizeError, match="the Beam pipeline failed") as info:
        beam_build.build_dataset(images, str(out), TINY, beam_args=["--runner=NoSuchRunner"])
    assert info.value.reason == "pipeline_failed"
    assert not out.exists()


def test_a_build_on_a_beam_filesystem_is_the_same(images, both, remote):
    local, local_manifest, beam, beam_manifest = both
    urls, manifest, copy = remote
    assert _features(copy) == _features(local)  # ids, splits and every feature's bytes

    def as_url(text: str) -> str:
        for root, url in zip(images, urls):
            text = text.replace(root + os.sep, url + "/")
        return text

    assert _rejected(copy) == [{k: as_url(v) for k, v in r.items()} for r in _rejected(local)]
    assert {"undecodable", "duplicate", "too_small"} <= set(manifest["rejected"])
    strip = lambda m: {k: v for k, v in m.items() if k not in ("shards", "inputs")}  # noqa: E731
    assert strip(manifest) == strip(local_manifest)
    assert manifest["inputs"] == urls
    assert manifest["shards"] == beam_manifest["shards"]  # the groups of a local-path Beam build
    assert json.loads(MemFileSystem.files["memfs://out/manifest.json"]) == manifest
    assert sorted(_under("memfs://out")) == sorted(
        manifest["shards"]["train"] + manifest["shards"]["test"] + [build.MANIFEST, build.REJECTED])
    assert not _staged()


def test_rerun_on_a_beam_filesystem_refuses_then_replaces(remote):
    urls = remote[0]
    old = {**_under("memfs://out"), "notes.txt": b"not part of the dataset"}
    MemFileSystem.files.update({f"memfs://again/{name}": data for name, data in old.items()})
    MemFileSystem.files["memfs://again.build-killed/train-b00000"] = b"an interrupted build's"
    with pytest.raises(ColorizeError, match="^memfs://again: folder is not empty") as err:
        beam_build.build_dataset(urls, "memfs://again", TINY, beam_args=IN_PROCESS)
    assert "\n" not in str(err.value)
    assert err.value.reason == "not_empty"
    assert _under("memfs://again") == old  # untouched
    assert not _staged()  # the leftover went, as the local builder's do
    params = build.BuildParams(size=32, min_size=16, test_fraction=0.3, shard_size=100)
    again = beam_build.build_dataset(urls[:1], "memfs://again/", params, overwrite=True,
                                     beam_args=IN_PROCESS)
    assert again["shards"]["train"] == ["train-00000-of-00001"]
    assert sorted(_under("memfs://again")) == sorted(
        again["shards"]["train"] + again["shards"]["test"]
        + [build.MANIFEST, build.REJECTED, "notes.txt"])  # the old shards gone, the notes kept
    assert json.loads(MemFileSystem.files["memfs://again/manifest.json"]) == again
    assert not _staged()


def test_a_failed_pipeline_on_a_beam_filesystem_leaves_nothing(remote, monkeypatch):
    def fail(rows, staging):  # the last step, once every shard is staged
        assert any(name.startswith("train-b") for name in _under(staging))
        raise RuntimeError("no summary today")

    monkeypatch.setattr(beam_build, "_write_summary", fail)
    with pytest.raises(ColorizeError, match="memfs://failed: the Beam pipeline failed: .*"
                                            "no summary today") as info:
        beam_build.build_dataset(remote[0], "memfs://failed", TINY, beam_args=IN_PROCESS)
    assert info.value.reason == "pipeline_failed"
    assert not [path for path in MemFileSystem.files if path.startswith("memfs://failed")]


@pytest.mark.parametrize("inputs, out, message, reason", [
    (["nosuch://in"], "memfs://x", "nosuch://in: no Beam filesystem for nosuch://",
     "unsupported_scheme"),
    (None, "nosuch://out", "nosuch://out: no Beam filesystem for nosuch://", "unsupported_scheme"),
    (["memfs://missing"], "memfs://x", "memfs://missing: no such folder", "not_found"),
    (["memfs://notes"], "memfs://x", r"no images \(jpg, .*\) found under memfs://notes",
     "no_images"),
])
def test_beam_filesystem_errors_are_one_line(images, inputs, out, message, reason):
    MemFileSystem.files["memfs://notes/readme.txt"] = b"no image here"
    with pytest.raises(ColorizeError, match=message) as err:
        beam_build.build_dataset(inputs or images, out, TINY, beam_args=IN_PROCESS)
    assert "\n" not in str(err.value)
    assert err.value.reason == reason
    assert not _under("memfs://x") and not _staged()


def test_reading_a_url_keeps_the_rejection_reasons():
    MemFileSystem.files["memfs://big/huge.png"] = b"\x89PNG tiny, but listed as huge"
    process = functools.partial(process_file, params=TINY)
    too_big = process(("memfs://big/huge.png", "huge.png"),
                      read=functools.partial(beam_build.read_url, size=MAX_FILE_BYTES + 1))
    assert (too_big.reason, too_big.id) == ("file_too_big", "")
    assert too_big.detail == f"{MAX_FILE_BYTES + 1} bytes, more than {MAX_FILE_BYTES}"
    gone = process(("memfs://big/gone.png", "gone.png"),
                   read=functools.partial(beam_build.read_url, size=10))
    assert gone.reason == "unreadable"


def test_the_command_prints_one_line_for_a_scheme_beam_lacks(tmp_path):
    """In a fresh process, where importing Beam without its [gcp] extra logs a warning."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "colorize.cli", "build", "nosuch://bucket/images",
                           "--out", str(tmp_path / "out"), "--runner", "beam"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "colorize build: error: nosuch://bucket/images: no Beam filesystem for nosuch:// (gs:// "
        "needs apache-beam[gcp], s3:// apache-beam[aws])"]
    assert not (tmp_path / "out").exists()
