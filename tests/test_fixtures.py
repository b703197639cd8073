"""conftest's `_made_once`: under `pytest -n 2` a trained fixture is made by one worker and read by
the other; a worker whose make failed leaves nothing half-made for the next."""

from __future__ import annotations

import threading
import time
import types

import pytest

from conftest import _made_once


def _worker_factory(shared, worker: str):
    """A stand-in for one xdist worker's `tmp_path_factory`: its own folder under the shared one."""
    own = shared / f"popen-{worker}"
    own.mkdir(exist_ok=True)
    return types.SimpleNamespace(getbasetemp=lambda: own)


def test_two_workers_make_it_once_and_read_the_same_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    made = []

    def make(folder):
        made.append(folder)
        time.sleep(0.5)  # long enough for the other worker to ask meanwhile
        (folder / "weights").write_text("trained")
        return str(folder / "weights")

    results = {}
    threads = [threading.Thread(target=lambda w=w: results.__setitem__(
        w, _made_once(_worker_factory(tmp_path, w), "run", make))) for w in ("gw0", "gw1")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and made[0] == tmp_path / "run"
    assert results["gw0"] == results["gw1"] == str(tmp_path / "run" / "weights")


def test_a_failed_make_is_made_again_from_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")

    def broken(folder):
        (folder / "half").write_text("partial")
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        _made_once(_worker_factory(tmp_path, "gw0"), "run", broken)
    seen = []
    path = _made_once(_worker_factory(tmp_path, "gw1"), "run",
                      lambda folder: seen.extend(folder.iterdir()) or str(folder))
    assert seen == [] and path == str(tmp_path / "run")


def test_without_xdist_each_session_makes_its_own(tmp_path_factory, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    first = _made_once(tmp_path_factory, "own", str)
    second = _made_once(tmp_path_factory, "own", str)
    assert first != second  # numbered folders of this session, no lock, no sharing
