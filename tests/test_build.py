"""The dataset builder: records round trip, determinism, splits, shards, bad inputs, CLI."""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import shutil

import cv2
import numpy as np
import pytest

from colorize import build, cli, fileio, merge, records, sketch
from colorize.build import identity, local, process
from colorize.build.output import manifest_inputs
from colorize.errors import ColorizeError

from conftest import REAL_DATA, command_error

TINY = build.BuildParams(size=32, min_size=16, test_fraction=0.3)


def _command_error(argv: list[str]):
    return command_error(argv)


def _picture(seed: int, height: int = 48, width: int = 40) -> np.ndarray:
    """(H, W, 3) uint8 BGR: outlined color rectangles on a tinted background."""
    rng = np.random.default_rng(seed)
    img = np.empty((height, width, 3), np.uint8)
    img[:] = rng.integers(150, 256, 3)
    for _ in range(4):
        x0, y0 = int(rng.integers(0, width - 8)), int(rng.integers(0, height - 8))
        x1, y1 = x0 + int(rng.integers(6, width // 2)), y0 + int(rng.integers(6, height // 2))
        cv2.rectangle(img, (x0, y0), (x1, y1), rng.integers(0, 256, 3).tolist(), -1)
        cv2.rectangle(img, (x0, y0), (x1, y1), (20, 20, 20), 1)
    return img


def _write_pictures(folder, count: int, start: int = 0) -> list[str]:
    """`count` pictures as .png / .JPG / .jpeg files, some in a subfolder; their relative paths."""
    names = []
    for i in range(start, start + count):
        name = [f"p{i:03d}.png", f"sub/p{i:03d}.JPG", f"p{i:03d}.jpeg"][i % 3]
        os.makedirs(os.path.dirname(os.path.join(folder, name)), exist_ok=True)
        cv2.imwrite(os.path.join(folder, name), _picture(i, 48 + i % 5, 40 + 3 * (i % 4)))
        names.append(name)
    return names


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    _write_pictures(folder, 12)
    return str(folder)


@pytest.fixture(scope="module")
def built(pictures, tmp_path_factory):
    """The tiny dataset built with one worker: (output folder, manifest)."""
    out = str(tmp_path_factory.mktemp("built") / "records")
    return out, build.build_dataset([pictures], out, TINY, workers=1, progress=False)


def _examples(out: str) -> dict[str, dict]:
    """Every record of both splits by id, with its split."""
    return {ex["id"]: {**ex, "split": split}
            for split in records.SPLITS for ex in records.read_records(out, split)}


def _reasons(out: str) -> dict[str, str]:
    """Rejection reason by file name, from rejected.jsonl."""
    with open(os.path.join(out, build.REJECTED)) as f:
        return {os.path.basename(r["path"]): r["reason"] for r in map(json.loads, f)}


# --- what is written --------------------------------------------------------------------------


def test_records_round_trip(pictures, built):
    out, manifest = built
    examples = _examples(out)
    assert len(examples) == manifest["counts"]["train"] + manifest["counts"]["test"] == 12
    for ex in examples.values():
        path = os.path.join(pictures, ex["source"])
        with open(path, "rb") as f:
            assert ex["id"] == hashlib.sha1(f.read()).hexdigest()
        color, lines, cue, busy = process.make_triplet(sketch.load_image(path), TINY)
        np.testing.assert_array_equal(ex["sketch"][..., 0], lines)  # lossless
        assert np.abs(ex["color"].astype(int) - color).mean() < 3  # JPEG q95
        assert np.abs(ex["cue"].astype(int) - cue).mean() < 1
        assert ex["complexity"] == pytest.approx(busy, rel=1e-6)
        assert ex["height"] == ex["width"] == 32


def test_splits_follow_content_hash(built):
    out, manifest = built
    examples = _examples(out)
    assert {ex["split"] for ex in examples.values()} == {"train", "test"}
    for image_id, ex in examples.items():
        assert ex["split"] == identity.split_of(image_id, TINY.test_fraction)


def test_manifest_describes_the_build(built):
    out, manifest = built
    on_disk = json.load(open(os.path.join(out, build.MANIFEST)))
    assert on_disk == manifest
    assert manifest["params"] == dict(vars(TINY))
    assert manifest["image_size"] == [32, 32] and manifest["encodings"] == records.ENCODINGS
    assert manifest["counts"] == {"files": 12, "train": manifest["counts"]["train"],
                                  "test": 12 - manifest["counts"]["train"], "rejected": 0}
    hist = manifest["complexity_histogram"]["counts"]
    expected = np.histogram([ex["complexity"] for ex in _examples(out).values()], range(0, 101, 5))
    assert hist == expected[0].tolist()


def test_output_folder_holds_only_finished_files(built):
    out, manifest = built
    shards = manifest["shards"]["train"] + manifest["shards"]["test"]
    assert sorted(os.listdir(out)) == sorted(shards + [build.MANIFEST, build.REJECTED])
    assert manifest["shards"]["train"] == ["train-00000-of-00001"]


def test_same_output_for_one_and_two_workers(pictures, messy, tmp_path):
    outs = [str(tmp_path / "one"), str(tmp_path / "two")]
    manifests = [build.build_dataset([pictures, messy[0]], out, TINY, workers=workers,
                                     progress=False) for out, workers in zip(outs, (1, 2))]
    assert manifests[0] == manifests[1]
    assert sorted(os.listdir(outs[0])) == sorted(os.listdir(outs[1]))
    for name in os.listdir(outs[0]):  # shards, manifest and rejection list
        with open(os.path.join(outs[0], name), "rb") as one, \
                open(os.path.join(outs[1], name), "rb") as two:
            assert one.read() == two.read(), name


def test_shards_hold_at_most_shard_size_examples(pictures, tmp_path):
    import tensorflow as tf  # here only: worker processes import this module (see _die)

    params = build.BuildParams(size=32, min_size=16, test_fraction=0.0, shard_size=5)
    manifest = build.build_dataset([pictures], str(tmp_path), params, workers=1, progress=False)
    assert manifest["shards"] == {"train": [f"train-0000{i}-of-00003" for i in range(3)],
                                  "test": []}
    sizes = [sum(1 for _ in tf.data.TFRecordDataset(p))
             for p in records.shard_paths(str(tmp_path), "train")]
    assert sizes == [5, 5, 2]


def test_test_fraction_one_puts_everything_in_test(pictures, tmp_path):
    params = build.BuildParams(size=32, min_size=16, test_fraction=1.0)
    manifest = build.build_dataset([pictures], str(tmp_path), params, workers=1, progress=False)
    assert manifest["counts"]["train"] == 0 and manifest["counts"]["test"] == 12
    assert manifest["shards"]["train"] == [] and records.shard_paths(str(tmp_path), "train") == []


# --- bad inputs -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """Good pictures mixed with every kind of bad input: (folder, names of the good ones)."""
    folder = tmp_path_factory.mktemp("messy")
    good = _write_pictures(folder, 4)
    ok, jpeg = cv2.imencode(".jpg", _picture(50))
    (folder / "truncated.jpg").write_bytes(jpeg.tobytes()[: len(jpeg) // 2])
    (folder / "text.png").write_text("not an image\n")
    (folder / "zero.jpg").write_bytes(b"")
    cv2.imwrite(str(folder / "one_pixel.png"), np.full((1, 1, 3), 90, np.uint8))
    page = cv2.cvtColor(_picture(51), cv2.COLOR_BGR2GRAY)
    cv2.imwrite(str(folder / "gray_page.jpg"), page)
    cv2.imwrite(str(folder / "deep16.png"), page.astype(np.uint16) * 257)  # 16-bit gray
    rgba = cv2.cvtColor(_picture(52), cv2.COLOR_BGR2BGRA)
    rgba[:10, :, 3] = 0  # transparent top rows
    cv2.imwrite(str(folder / "rgba.png"), rgba)
    shutil.copy(folder / good[0], folder / "z_copy.png")  # sorts after the original
    (folder / "notes.txt").write_text("ignored: not an image extension\n")
    (folder / "empty_sub").mkdir()
    return str(folder), good + ["rgba.png"]


EXPECTED_REASONS = {"truncated.jpg": "undecodable", "text.png": "undecodable", "zero.jpg":
                    "undecodable", "one_pixel.png": "too_small", "gray_page.jpg": "gray",
                    "deep16.png": "gray", "z_copy.png": "duplicate"}


def test_bad_inputs_are_rejected_with_reasons_and_good_images_kept(messy, tmp_path):
    folder, good = messy
    manifest = build.build_dataset([folder], str(tmp_path), TINY, workers=2, progress=False)
    assert _reasons(str(tmp_path)) == EXPECTED_REASONS
    assert sorted(ex["source"] for ex in _examples(str(tmp_path)).values()) == sorted(good)
    assert manifest["counts"]["files"] == len(good) + len(EXPECTED_REASONS)
    assert manifest["rejected"] == {"duplicate": 1, "gray": 2, "too_small": 1, "undecodable": 3}


def test_keep_gray_keeps_gray_and_16_bit_pages(messy, tmp_path):
    folder, good = messy
    params = build.BuildParams(size=32, min_size=16, keep_gray=True)
    build.build_dataset([folder], str(tmp_path), params, workers=1, progress=False)
    sources = {ex["source"]: ex for ex in _examples(str(tmp_path)).values()}
    assert {"gray_page.jpg", "deep16.png"} <= set(sources)
    deep, page = (sources[name]["color"].astype(int) for name in ("deep16.png", "gray_page.jpg"))
    assert np.abs(deep[..., 0] - deep[..., 2]).max() <= 2  # gray stays gray
    assert np.abs(deep - page).mean() < 3  # same page: 16 bits scaled to 8, not clipped


def test_busy_sketches_are_rejected_as_too_complex(pictures, tmp_path):
    params = build.BuildParams(size=32, min_size=16, max_complexity=0.0)
    manifest = build.build_dataset([pictures], str(tmp_path), params, workers=1, progress=False)
    assert manifest["rejected"] == {"too_complex": 12}
    assert manifest["shards"] == {"train": [], "test": []}


def test_cli_fails_when_every_image_is_rejected(pictures, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["build", pictures, "--out", str(out), "--size", "32", "--min-size", "16",
            "--max-complexity", "0", "--workers", "1"]
    assert cli.main(argv) == 2
    assert "no usable images" in capsys.readouterr().err
    assert (out / "rejected.jsonl").exists()  # the reasons stay, for the user to read
    assert _command_error([*argv, "--overwrite"]).reason == "all_rejected"


def test_missing_folder_is_an_error_and_writes_nothing(pictures, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ColorizeError, match="nowhere: no such folder") as info:
        build.build_dataset([pictures, str(tmp_path / "nowhere")], str(out), TINY, progress=False)
    assert info.value.reason == "not_found"
    assert not out.exists()
    (tmp_path / "a_file.png").write_bytes(b"")
    with pytest.raises(ColorizeError, match="a_file.png: not a folder") as info:
        build.build_dataset([str(tmp_path / "a_file.png")], str(out), TINY, progress=False)
    assert info.value.reason == "not_a_folder"


def test_folder_without_images_is_an_error_and_writes_nothing(messy, tmp_path):
    out = tmp_path / "out"
    empty = os.path.join(messy[0], "empty_sub")
    with pytest.raises(ColorizeError, match="no images .* found under .*empty_sub") as info:
        build.build_dataset([empty], str(out), TINY, progress=False)
    assert info.value.reason == "no_images"
    assert not out.exists()


# --- output folder safety ---------------------------------------------------------------------


def test_non_empty_output_is_refused_without_overwrite(pictures, tmp_path):
    (tmp_path / "keep.txt").write_text("user file")
    with pytest.raises(ColorizeError, match="not empty") as info:
        build.build_dataset([pictures], str(tmp_path), TINY, progress=False)
    assert info.value.reason == "not_empty"
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_overwrite_replaces_the_previous_dataset_only(pictures, tmp_path):
    (tmp_path / "keep.txt").write_text("user file")
    small = build.BuildParams(size=32, min_size=16, test_fraction=0.0, shard_size=2)
    build.build_dataset([pictures], str(tmp_path), small, overwrite=True, workers=1, progress=False)
    assert len(records.shard_paths(str(tmp_path), "train")) == 6
    manifest = build.build_dataset([pictures], str(tmp_path), TINY, overwrite=True, workers=1,
                                   progress=False)
    shards = manifest["shards"]["train"] + manifest["shards"]["test"]
    assert sorted(os.listdir(tmp_path)) == sorted(shards + ["keep.txt", build.MANIFEST,
                                                            build.REJECTED])


def test_interrupted_build_leaves_nothing_that_looks_complete(pictures, tmp_path, monkeypatch):
    calls = []
    real = records.make_example

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) > 5:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(records, "make_example", failing)
    params = build.BuildParams(size=32, min_size=16, shard_size=2)
    with pytest.raises(RuntimeError, match="disk full"):
        build.build_dataset([pictures], str(tmp_path), params, workers=1, progress=False)
    assert os.listdir(tmp_path) == []


def _die(task):
    os._exit(3)  # what a worker killed for memory or crashed in a decoder looks like


def test_dead_worker_fails_the_build_instead_of_hanging(pictures):
    files = build.find_images([pictures])
    with pytest.raises(ColorizeError, match="worker process died") as info:
        with local._processed(files, _die, workers=2) as outcomes:
            list(outcomes)
    assert info.value.reason == "worker_died"


# --- command line -----------------------------------------------------------------------------


def test_cli_builds_and_reports(pictures, tmp_path, capsys):
    out = str(tmp_path / "out")
    argv = ["build", pictures, "--out", out, "--size", "32", "--min-size", "16", "--workers", "1",
            "--test-fraction", "0.3", "--shard-size", "4"]
    assert cli.main(argv) == 0
    assert f"{out}: " in capsys.readouterr().out
    manifest = json.load(open(os.path.join(out, build.MANIFEST)))
    assert manifest["params"] == {**vars(TINY), "shard_size": 4}
    assert cli.main(argv) == 2  # now non-empty
    assert "not empty (use --overwrite" in capsys.readouterr().err
    assert _command_error(argv).reason == "not_empty"


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    assert cli.main(["build", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == f"colorize build: error: {tmp_path / 'missing'}: no such folder\n"
    assert _command_error(["build", str(tmp_path / "missing"), "--out",
                           str(tmp_path / "o")]).reason == "not_found"
    assert cli.main(["build", str(tmp_path), "--out", str(tmp_path / "o"), "--block-size",
                     "4"]) == 2
    assert "block size must be odd" in capsys.readouterr().err
    assert _command_error(["build", str(tmp_path), "--out", str(tmp_path / "o"), "--block-size",
                           "4"]).reason == "bad_value"


# --- real data --------------------------------------------------------------------------------


@pytest.mark.real_data
@pytest.mark.skipif(not REAL_DATA, reason="COLORIZE_REAL_DATA not set")
def test_real_faces_build_into_plausible_triplets(tmp_path):
    faces = tmp_path / "faces"
    faces.mkdir()
    for path in sorted(glob.glob(os.path.join(REAL_DATA, "faces", "*.jpg")))[::12]:  # 100 faces
        os.symlink(path, faces / os.path.basename(path))
    manifest = build.build_dataset([str(faces)], str(tmp_path / "out"), workers=2,
                                   progress=False)
    assert "too_complex" not in manifest["rejected"]
    assert manifest["counts"]["train"] + manifest["counts"]["test"] >= 95
    for ex in _examples(str(tmp_path / "out")).values():
        assert ex["complexity"] < 40 and (ex["sketch"] == 255).mean() > 0.6  # mostly paper
        color_mean = ex["color"].reshape(-1, 3).mean(0)
        assert np.abs(ex["cue"].reshape(-1, 3).mean(0) - color_mean).max() < 2


# --- building in parts ------------------------------------------------------------------------


def _split_of_ids(out: str) -> dict[str, str]:
    return {image_id: ex["split"] for image_id, ex in _examples(out).items()}


def _rejected_lines(out: str) -> list[str]:
    with open(os.path.join(out, build.REJECTED)) as f:
        return sorted(f)


def test_three_parts_merge_into_the_same_dataset_as_one_build(pictures, messy, tmp_path):
    folders = [pictures, messy[0]]
    whole = build.build_dataset(folders, str(tmp_path / "whole"), TINY, workers=1, progress=False)
    parts = [str(tmp_path / f"part{i}") for i in range(3)]
    for i, part_dir in enumerate(parts):
        build.build_dataset(folders, part_dir, TINY, workers=1, part=build.Part(i, 3),
                            progress=False)
        assert all(f"-p0{i}of03-" in name for name in os.listdir(part_dir) if "-of-" in name)
    part_ids = [set(_split_of_ids(d)) for d in parts]
    assert not (part_ids[0] & part_ids[1] or part_ids[0] & part_ids[2] or part_ids[1] & part_ids[2])
    assert all(part_ids)  # the tiny input is spread over every part

    out = str(tmp_path / "merged")
    merged = merge.merge_parts([parts[2], parts[0], parts[1]], out)
    assert _split_of_ids(out) == _split_of_ids(str(tmp_path / "whole"))
    assert _rejected_lines(out) == _rejected_lines(str(tmp_path / "whole"))
    shards = merged.pop("shards")
    assert sorted(shards["train"] + shards["test"]) == sorted(
        name for name in os.listdir(out) if "-of-" in name)
    assert merged.pop("merged_parts") == 3
    whole.pop("shards")
    assert merged == whole


def test_merge_refuses_an_incomplete_or_mixed_set_of_parts(pictures, tmp_path, capsys):
    parts = [str(tmp_path / f"part{i}") for i in range(2)]
    build.build_dataset([pictures], parts[0], TINY, workers=1, part=build.Part(0, 2),
                        progress=False)
    assert cli.main(["merge-manifests", parts[0], "--out", str(tmp_path / "merged")]) == 2
    assert "need parts 0..1 of 2 once each, got parts 0\n" in capsys.readouterr().err
    with pytest.raises(ColorizeError, match="need parts") as info:
        merge.merge_parts(parts[:1], str(tmp_path / "merged"))
    assert info.value.reason == "missing_parts"
    other = build.BuildParams(size=32, min_size=16, test_fraction=0.5)
    build.build_dataset([pictures], parts[1], other, workers=1, part=build.Part(1, 2),
                        progress=False)
    with pytest.raises(ColorizeError, match="part1: its params differ") as info:
        merge.merge_parts(parts, str(tmp_path / "merged"))
    assert info.value.reason == "mismatched_parts"
    assert not (tmp_path / "merged").exists()
    assert records.shard_paths(parts[0], "train")  # nothing moved


def test_cli_part_argument_is_validated(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["build", str(tmp_path), "--out", str(tmp_path / "o"), "--part", "3/3"])
    assert "expected I/N with 0 <= I < N" in capsys.readouterr().err
    with pytest.raises(ColorizeError, match="need 0 <= I < N") as info:
        build.Part(3, 3)
    assert info.value.reason == "bad_value"


# --- hostile and careless inputs (issue #12) --------------------------------------------------


def _fsname(raw: bytes) -> str:
    """The str name Python gives a file whose name is the bytes `raw` (surrogate escapes)."""
    return os.fsdecode(raw)


def test_names_that_are_not_utf8_are_kept_losslessly(tmp_path):
    folder = tmp_path / _fsname(b"in\xff")  # the input folder's name is not UTF-8 either
    folder.mkdir()
    good, bad = _fsname(b"caf\xe9.png"), _fsname(b"bad\xfe.png")
    cv2.imwrite(str(tmp_path / "tmp.png"), _picture(0))
    os.replace(tmp_path / "tmp.png", folder / good)
    (folder / bad).write_text("not an image\n")
    shutil.copy(folder / good, folder / _fsname(b"z\xe9copy.png"))
    out = str(tmp_path / "out")
    params = build.BuildParams(size=32, min_size=16, test_fraction=0.0)
    manifest = build.build_dataset([str(folder)], out, params, workers=1, progress=False)
    (example,) = _examples(out).values()
    assert example["source"] == good and os.fsencode(example["source"]) == b"caf\xe9.png"

    def decoded(text: bytes):  # strict UTF-8 and plain JSON: any JSON reader can take the files
        assert b"\\ud" not in text
        return text.decode("utf-8")

    with open(os.path.join(out, build.REJECTED), "rb") as f:
        rejected = [json.loads(decoded(line)) for line in f]
    assert [identity.stored_name(r, "path") for r in rejected] == [
        str(folder / bad), str(folder / _fsname(b"z\xe9copy.png"))]
    assert [r["reason"] for r in rejected] == ["undecodable", "duplicate"]
    assert rejected[0]["path"] == str(tmp_path / "in\ufffd" / "bad\ufffd.png")  # for display
    with open(os.path.join(out, build.MANIFEST), "rb") as f:
        on_disk = json.loads(decoded(f.read()))
    assert on_disk == manifest and manifest_inputs(manifest) == [str(folder)]


def _fifo_writer(path: str, data: bytes, stop) -> None:
    """Feed `data` to a reader of the FIFO `path` if one shows up before `stop` is set."""
    while not stop.wait(0.05):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO while nobody reads
        except OSError:
            continue
        os.set_blocking(fd, True)
        os.write(fd, data)
        os.close(fd)
        return


def test_files_that_are_not_plain_still_images_are_rejected(tmp_path):
    import threading

    from PIL import Image

    folder = tmp_path / "in"
    _write_pictures(folder, 2)
    frames = [Image.fromarray(_picture(60 + i)) for i in range(2)]
    frames[0].save(folder / "animated.png", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "animated.webp", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "tiff.png", format="TIFF")
    with open(folder / "huge.png", "wb") as f:
        f.truncate(2**30 + 1)  # sparse: a 1 GiB file on disk in no time
    os.mkfifo(folder / "fifo.png")
    os.symlink(folder / "p000.png", folder / "z_link.png")  # a link to a file is fine
    ok, png = cv2.imencode(".png", _picture(70))
    stop = threading.Event()  # today's builder would block forever reading the FIFO: feed it
    feeder = threading.Thread(target=_fifo_writer, args=(str(folder / "fifo.png"), png.tobytes(),
                                                          stop), daemon=True)
    feeder.start()
    out = str(tmp_path / "out")
    try:
        manifest = build.build_dataset([str(folder)], out, TINY, workers=1, progress=False)
    finally:
        stop.set()
    assert _reasons(out) == {"animated.png": "animated", "animated.webp": "animated",
                             "tiff.png": "unsupported_format", "huge.png": "file_too_big",
                             "fifo.png": "not_a_file", "z_link.png": "duplicate"}
    with open(os.path.join(out, build.REJECTED)) as f:
        details = {os.path.basename(r["path"]): r["detail"] for r in map(json.loads, f)}
    assert details["tiff.png"] == "a TIFF file" and "FIFO" in details["fifo.png"]
    assert manifest["counts"]["train"] + manifest["counts"]["test"] == 2


def test_files_that_are_not_images_are_reported_by_part_zero_only(tmp_path):
    folder = tmp_path / "in"
    _write_pictures(folder, 2)
    os.mkfifo(folder / "fifo.png")
    reasons = [process.process_file((str(folder / "fifo.png"), "fifo.png"), TINY,
                                    build.Part(i, 2)).reason for i in range(2)]
    assert reasons == ["not_a_file", "other_part"]


def test_a_killed_build_does_not_block_the_rerun(pictures, tmp_path):
    out = tmp_path / "out"
    (out / ".build-k1ll3d").mkdir(parents=True)  # what `kill -9` during a build leaves
    (out / ".build-k1ll3d" / "train-00000").write_bytes(b"half a shard")
    (out / "manifest.json.tmp").write_text("{")
    manifest = build.build_dataset([pictures], str(out), TINY, workers=1, progress=False)
    shards = manifest["shards"]["train"] + manifest["shards"]["test"]
    assert sorted(os.listdir(out)) == sorted(shards + [build.MANIFEST, build.REJECTED])
    (out / ".build-again").mkdir()
    build.build_dataset([pictures], str(out), TINY, workers=1, progress=False, overwrite=True)
    assert sorted(os.listdir(out)) == sorted(shards + [build.MANIFEST, build.REJECTED])


def _snapshot(folder: str) -> dict[str, bytes]:
    return {name: open(os.path.join(folder, name), "rb").read() for name in os.listdir(folder)}


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["shards", "rejected", "manifest"])
def test_disk_full_is_a_one_line_error_and_keeps_the_previous_dataset(pictures, tmp_path,
                                                                      monkeypatch, capsys, where):
    out = str(tmp_path / "out")
    build.build_dataset([pictures], out, TINY, workers=1, progress=False)
    before = _snapshot(out)
    if where == "shards":
        if not os.path.exists("/dev/full"):
            pytest.skip("no /dev/full")
        monkeypatch.setattr(local.ShardWriter, "_tmp_path", lambda self, split, i: "/dev/full")
    else:
        real = fileio.write_text
        name = build.REJECTED if where == "rejected" else build.MANIFEST
        monkeypatch.setattr(fileio, "write_text", lambda path, text: (
            _no_space() if os.path.basename(path) == name else real(path, text)))
    argv = ["build", pictures, "--out", out, "--size", "32", "--min-size", "16", "--workers",
            "1", "--shard-size", "5", "--overwrite"]
    assert cli.main(argv) == 2
    *progress, err = capsys.readouterr().err.splitlines()  # progress lines, then the error
    assert err.startswith(f"colorize build: error: {out}: ") and "error" not in "".join(progress)
    assert "No space left on device" in err
    assert _snapshot(out) == before  # the previous dataset, whole; no temporary folder
    assert _command_error(argv).reason == "write_failed"
    assert _snapshot(out) == before


def test_disk_full_in_a_new_folder_leaves_nothing(pictures, tmp_path, monkeypatch):
    monkeypatch.setattr(fileio, "write_text", _no_space)
    with pytest.raises(ColorizeError, match="No space left on device") as info:
        build.build_dataset([pictures], str(tmp_path / "out"), TINY, workers=1, progress=False)
    assert info.value.reason == "write_failed"
    assert not (tmp_path / "out").exists()


def test_merge_refuses_an_output_that_is_one_of_its_parts(pictures, tmp_path, monkeypatch,
                                                           capsys):
    monkeypatch.chdir(tmp_path)
    for i in range(2):
        build.build_dataset([pictures], f"p{i}", TINY, workers=1, part=build.Part(i, 2),
                            progress=False)
    before = _snapshot("p0")
    os.symlink("p1", "also_p1")
    for out in ("p0", "p0/", "./p0", str(tmp_path / "p0"), "also_p1"):
        argv = ["merge-manifests", "p0", "p1", "--out", out, "--overwrite"]
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is one of the parts" in err, err
        assert _command_error(argv).reason == "overlaps_input"
    assert _snapshot("p0") == before
    assert cli.main(["merge-manifests", "p0", "p1", "--out", "joined", "--link"]) == 0


@pytest.mark.heavy
def test_a_record_is_the_same_bytes_in_every_process():
    """Protobuf orders a map as its process's hashing does unless asked not to: rebuilds in other
    processes must still give byte-identical shards. This process and two others, started at once
    (serialized without `deterministic`, every two processes here differ)."""
    import contextlib
    import io
    import subprocess
    import sys

    code = ("import hashlib, numpy as np; from colorize import records\n"
            "c = np.zeros((8, 8, 3), np.uint8); s = np.full((8, 8), 255, np.uint8)\n"
            "e = records.make_example(records.encode_triplet(c, s, c), complexity=1.0, id='x',"
            " source='y', height=8, width=8)\n"
            "print(hashlib.sha256(e).hexdigest())")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    here = io.StringIO()
    with contextlib.redirect_stdout(here):
        exec(code, {})  # the same program in this process, while the others run
    digests = {here.getvalue()}
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        digests.add(out)
    assert len(digests) == 1 and len(next(iter(digests)).strip()) == 64, digests
