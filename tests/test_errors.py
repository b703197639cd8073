"""ColorizeError's reason codes (issue #31, item 6): the codes, every raise site's code, and one
test per family of the full message wording (the reason is for code, the message for people)."""

from __future__ import annotations

import argparse
import ast
import errno
import json
import pickle
import re
from pathlib import Path

import pytest

from colorize import errors
from colorize.cli import main
from colorize.errors import REASONS, ColorizeError

PACKAGE = Path(__file__).resolve().parent.parent / "colorize"

# --- the exception --------------------------------------------------------------------------------


def test_the_message_is_the_text_and_the_reason_stands_beside_it():
    err = ColorizeError("photo.png: no such file", reason="not_found")
    assert str(err) == "photo.png: no such file" and err.args == ("photo.png: no such file",)
    assert err.reason == "not_found" and err.exit_code == 2


def test_the_reason_is_a_keyword():
    with pytest.raises(TypeError):
        ColorizeError("photo.png: no such file", "not_found")


def test_a_reason_is_required_and_one_of_the_codes():
    with pytest.raises(TypeError):
        ColorizeError("something")
    with pytest.raises(ValueError, match="unknown reason code"):
        ColorizeError("something", reason="unspecified")


def test_errors_cross_processes_with_their_reason():
    from colorize.scrape.http import Challenged  # a subclass whose __init__ takes other arguments

    for err in (ColorizeError("out: folder is not empty", reason="not_empty"),
                Challenged("https://board.test/posts.json", 403)):
        again = pickle.loads(pickle.dumps(err))
        assert (type(again), str(again), again.reason) == (type(err), str(err), err.reason)
    assert Challenged("https://board.test/x", 403).reason == "challenged"


# --- the codes ------------------------------------------------------------------------------------


def test_codes_are_short_snake_case_and_each_in_one_family():
    seen: dict[str, str] = {}
    for family, codes in errors.FAMILIES.items():
        assert codes, family
        for code, meaning in codes.items():
            assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", code) and len(code) <= 24, code
            assert meaning and code not in seen, (code, family, seen.get(code))
            seen[code] = family
            assert errors.family(code) == family
    assert set(seen) == REASONS
    with pytest.raises(KeyError):
        errors.family("unspecified")


def test_image_codes_are_sketch_image_errors_reasons():
    """load_image's reasons and the images family's share their names and meaning."""
    tree = ast.parse((PACKAGE / "sketch.py").read_text())
    load_image = next(n for n in ast.walk(tree)
                      if isinstance(n, ast.FunctionDef) and n.name == "load_image")
    reasons = {call.args[0].value for call in ast.walk(load_image)
               if isinstance(call, ast.Call) and _name(call.func) == "ImageError"}
    assert reasons == {"undecodable", "too_large", "too_small"}
    assert reasons <= set(errors.IMAGES)


# --- every raise site -----------------------------------------------------------------------------


def _name(node: ast.AST) -> str | None:
    return node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)


def _modules() -> list[tuple[str, ast.Module]]:
    return [(path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(), str(path)))
            for path in sorted(PACKAGE.rglob("*.py"))]


def _sites() -> list[tuple[str, int, ast.expr | None]]:
    """(module, line, the reason= expression or None) of every ColorizeError made in colorize/:
    calls of ColorizeError and of its subclasses without their own __init__, and the
    super().__init__ calls of those with one."""
    modules = _modules()
    classes: dict[str, bool] = {"ColorizeError": False}  # name -> defines __init__
    grew = True
    while grew:
        grew = False
        for _, tree in modules:
            for node in ast.walk(tree):
                if (isinstance(node, ast.ClassDef) and node.name not in classes
                        and any(_name(base) in classes for base in node.bases)):
                    classes[node.name] = any(isinstance(item, ast.FunctionDef)
                                             and item.name == "__init__" for item in node.body)
                    grew = True
    plain = {name for name, has_init in classes.items() if not has_init}
    sites = []
    for module, tree in modules:
        calls = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in plain:
                calls.append(node)
            elif isinstance(node, ast.Raise) and _name(node.exc) in plain:  # `raise ColorizeError`
                sites.append((module, node.lineno, None))
            elif (isinstance(node, ast.ClassDef) and node.name in classes
                  and node.name != "ColorizeError" and classes[node.name]):
                calls += [call for call in ast.walk(node)
                          if isinstance(call, ast.Call) and _name(call.func) == "__init__"
                          and isinstance(call.func.value, ast.Call)
                          and _name(call.func.value.func) == "super"]
        for call in calls:
            reason = next((k.value for k in call.keywords if k.arg == "reason"), None)
            if reason is None and any(k.arg is None for k in call.keywords):  # **kwargs
                reason = ast.Constant(...)
            sites.append((module, call.lineno, reason))
    return sorted(sites, key=lambda site: (site[0], site[1]))


def _without_reason() -> list[str]:
    return [f"colorize/{module}:{line}" for module, line, reason in _sites() if reason is None]


def test_what_a_path_is_gives_its_reason(tmp_path):
    """`runfolder.not_readable` (predict's inputs, `require_file`, `RunFolder.open`): the reason
    beside the message saying what the path is instead."""
    import os

    from colorize.runfolder import RunFolder, not_readable, require_file

    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_bytes(b"x")
    os.mkfifo(tmp_path / "fifo")
    os.symlink(tmp_path / "missing", tmp_path / "broken")
    cases = {"missing": ("no such file", "not_found"),
             "broken": (f"is a broken link (to {tmp_path / 'missing'})", "broken_link"),
             "folder": ("is a folder", "is_folder"),
             "fifo": ("is not a regular file (a FIFO)", "not_regular_file"),
             "file": ("is a file", "not_a_folder"),
             "file/below": ("Not a directory", "not_found")}
    for name, (what, reason) in cases.items():
        path = str(tmp_path / name)
        err = not_readable(path)
        assert (type(err), str(err), err.reason) == (ColorizeError, f"{path}: {what}", reason)
        if name != "file":
            with pytest.raises(ColorizeError) as info:
                require_file(path)
            assert (str(info.value), info.value.reason) == (str(err), reason)
    for name, reason in [("missing", "not_found"), ("fifo", "not_a_folder"),
                         ("file", "not_a_folder"), ("folder", "not_a_run")]:
        with pytest.raises(ColorizeError) as info:
            RunFolder.open(tmp_path / name)
        assert info.value.reason == reason, name
    assert str(info.value) == f"{tmp_path / 'folder'}: not a run folder (no config.json)"


@pytest.mark.heavy
def test_the_scan_finds_the_sites():
    sites = {f"{module}:{line}" for module, line, _ in _sites()}
    assert len(sites) > 60
    assert any(site.startswith("scrape/http.py:") for site in sites)  # Challenged, Throttled
    assert any(site.startswith("scrape/runner.py:") for site in sites)


@pytest.mark.heavy
def test_every_code_given_is_a_known_one():
    unknown = [(module, line, value.value)
               for module, line, reason in _sites() if reason is not None
               for value in ast.walk(reason) if isinstance(value, ast.Constant)
               and isinstance(value.value, str) and value.value not in REASONS]
    assert not unknown, f"reason codes not in colorize.errors: {unknown}"


@pytest.mark.heavy
def test_every_raise_site_gives_a_reason():
    missing = _without_reason()
    assert not missing, f"{len(missing)} ColorizeError sites without reason=: {', '.join(missing)}"


# --- one wording test per family: the full message, as the CLI prints it --------------------------


def test_paths_wording(tmp_path, capsys):
    from colorize import demo

    target = tmp_path / "file.png"
    target.write_bytes(b"x")
    assert main(["demo-data", "--out", str(target), "--count", "1"]) == 2
    assert capsys.readouterr().err == (
        f"colorize demo-data: error: {target}: exists and is not a folder\n")
    with pytest.raises(ColorizeError) as info:
        demo._prepare(target, False, set())
    assert (str(info.value), info.value.reason) == (f"{target}: exists and is not a folder",
                                                    "not_a_folder")


def test_system_wording(tmp_path):
    from colorize.scrape.store import write_error

    err = write_error(OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "a.jpg")),
                      tmp_path)
    assert str(err) == (f"{tmp_path / 'a.jpg'}: cannot write (No space left on device); the "
                        "images saved so far are recorded in posts.jsonl: make room, then re-run "
                        "the same command to resume")
    assert err.reason == "write_failed"


def test_images_wording():
    import numpy as np

    from colorize.experiments.base import check_aspect

    with pytest.raises(ColorizeError) as info:
        check_aspect(np.zeros((20, 40, 3), np.uint8), (40, 40), "cue")
    assert str(info.value) == "the cue (40x20) does not have the sketch's aspect ratio (40x40)"
    assert info.value.reason == "wrong_aspect"


def test_data_wording(tmp_path, capsys):
    from colorize import merge

    part = tmp_path / "part0"
    part.mkdir()
    assert main(["merge-manifests", str(part), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"colorize merge-manifests: error: {part}: no manifest.json (not a finished build)\n")
    (part / "manifest.json").write_text("{")
    with pytest.raises(ColorizeError) as info:
        merge.merge_parts([str(part)], str(tmp_path / "out"))
    assert str(info.value).startswith(f"{part / 'manifest.json'}: not valid JSON (")
    assert info.value.reason == "bad_manifest"
    (part / "manifest.json").unlink()
    with pytest.raises(ColorizeError) as info:
        merge.merge_parts([str(part)], str(tmp_path / "out"))
    assert info.value.reason == "no_manifest"
    assert not (tmp_path / "out").exists()


def test_runs_wording():
    from colorize.config import TrainConfig, resumed

    with pytest.raises(ColorizeError) as info:
        resumed(TrainConfig(), "runs/A-1", batch_size=8, epochs=40)
    assert str(info.value) == (
        "runs/A-1: a resumed run keeps its model, data order and objective; cannot change "
        "--batch-size 8 (the run has 4). Start a new run with another --out instead")
    assert info.value.reason == "resume_mismatch"
    assert resumed(TrainConfig(), "runs/A-1", epochs=40).epochs == 40  # resumable: no error


def test_flags_wording(tmp_path, capsys):
    from colorize import demo

    assert main(["demo-data", "--out", str(tmp_path / "demo"), "--count", "0"]) == 2
    assert capsys.readouterr().err == (
        "colorize demo-data: error: --count must be at least 1, got 0\n")
    args = argparse.Namespace(count=0, seed=0, size=256, out=tmp_path / "demo", overwrite=False)
    with pytest.raises(ColorizeError) as info:
        demo.run(args)
    assert (str(info.value), info.value.reason) == ("--count must be at least 1, got 0",
                                                    "bad_value")
    assert not (tmp_path / "demo").exists()


def test_boards_wording():
    from colorize.scrape import danbooru

    body = json.dumps({"success": False, "error": "PostQuery::TagLimitError",
                       "message": "You cannot search for more than 2 tags at a time"}).encode()
    err = danbooru.tag_limit_error(body, ["a", "b", "rating:g", "c"])
    assert str(err) == (
        "danbooru allows at most 2 tags per search for this account, and --tags has 3 that count "
        "(a b c); metatags such as rating: and filetype: are free. Search with fewer tags, or set "
        "DANBOORU_LOGIN and DANBOORU_API_KEY for an account with a higher limit (Gold: 6). "
        "Danbooru said: 'You cannot search for more than 2 tags at a time'")
    assert err.reason == "too_many_tags"
