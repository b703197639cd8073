"""The notebooks run top to bottom (nbclient, kernel python3) on a tiny run and tiny data."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import nbclient
import nbformat
import numpy as np
import pytest
from jupyter_client import AsyncKernelManager
from jupyter_core.utils import run_sync
from PIL import Image

from colorize import gallery, sketch

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def runs(cue_run, c_run, tmp_path_factory) -> tuple[str, str, str]:
    """Copies of conftest's tiny experiment-B and C runs, named B and C as the notebook labels
    runs by their folders, and the B weights under an experiment-A config, named A."""
    root = tmp_path_factory.mktemp("runs")
    run_a, run_b, run_c = (shutil.copytree(run, root / name)
                           for run, name in ((cue_run, "A"), (cue_run, "B"), (c_run, "C")))
    config = json.loads((run_a / "config.json").read_text())
    (run_a / "config.json").write_text(json.dumps({**config, "experiment": "A", "use_cue": False}))
    return str(run_a), str(run_b), str(run_c)


def notebook_client(name: str, parameters: dict, cwd, km=None) -> nbclient.NotebookClient:
    """A client to run a notebook with `parameters` injected after its parameters cell
    (papermill's way), in a fresh kernel or in `km`'s."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    index = next(i for i, cell in enumerate(notebook.cells)
                 if "parameters" in cell.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in parameters.items()))
    notebook.cells.insert(index + 1, injected)
    return nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3", km=km,
                                   resources={"metadata": {"path": str(cwd)}})


def execute(name: str, parameters: dict, cwd, km=None) -> nbformat.NotebookNode:
    """Run a notebook top to bottom (see notebook_client)."""
    client = notebook_client(name, parameters, cwd, km)
    client.execute()
    return client.nb


# the gallery's imports (TensorFlow's ~10 s first), bound to no name in the kernel
WARM_UP = ("import importlib as _importlib\n"
           "for _name in ('colorize.infer', 'colorize.evaluate', 'colorize.gallery', "
           "'colorize.hint_sweep'):\n"
           "    _importlib.import_module(_name)\n"
           "del _importlib, _name")


@pytest.fixture(scope="module")
def gallery_kernel(tmp_path_factory):
    """A fresh kernel for the gallery notebook, importing the package (TensorFlow) in its own
    process while this one sets up `runs` (trains them unless an earlier file did); the notebook
    then runs top to bottom in it. Yields (the kernel manager, its working folder, a wait for the imports)."""
    cwd = tmp_path_factory.mktemp("gallery_kernel")
    km = AsyncKernelManager(kernel_name="python3")
    run_sync(km.start_kernel)(cwd=str(cwd))
    warming = km.client()
    warming.start_channels()
    run_sync(warming.wait_for_ready)(timeout=120)
    msg_id = warming.execute(WARM_UP)  # not waited for here

    def warmed() -> None:
        while True:
            reply = run_sync(warming.get_shell_msg)(timeout=300)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        warming.stop_channels()
        assert reply["content"]["status"] == "ok", reply["content"]

    yield km, cwd, warmed
    warming.stop_channels()
    run_sync(km.shutdown_kernel)(now=True)


@pytest.fixture(scope="module")
def dataset_notebooks(demo_records, tmp_path_factory) -> dict:
    """The dataset notebook on demo images and on a records folder's sources, each in its own
    kernel, the two run at once (their kernels' start and imports are most of their time)."""
    clients = {
        "demo": notebook_client("dataset.ipynb", {"COUNT": 12, "SIZE": 64},
                                tmp_path_factory.mktemp("dataset_demo")),
        "records": notebook_client("dataset.ipynb", {"RECORDS": demo_records, "COUNT": 8},
                                   tmp_path_factory.mktemp("dataset_records"))}

    async def both():
        return await asyncio.gather(*(client.async_execute() for client in clients.values()))

    run_sync(both)()
    return {key: client.nb for key, client in clients.items()}


def outputs(notebook: nbformat.NotebookNode, kind: str) -> list:
    """Every output of a kind: "image/png" data, or "stream" text."""
    found = []
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            if kind == "stream" and out.get("output_type") == "stream":
                found.append(out["text"])
            elif kind in out.get("data", {}):
                found.append(out["data"][kind])
    return found


@pytest.mark.heavy
def test_dataset_notebook_draws_the_three_data_figures(dataset_notebooks):
    notebook = dataset_notebooks["demo"]  # COUNT 12, SIZE 64
    assert len(outputs(notebook, "image/png")) == 3  # blockSize sweep, histogram, cue examples
    assert any("12 images at 64 px" in text for text in outputs(notebook, "stream"))


@pytest.mark.heavy
def test_dataset_notebook_reads_a_records_folders_sources(dataset_notebooks):
    notebook = dataset_notebooks["records"]  # RECORDS demo_records, COUNT 8
    assert any("8 images at 32 px" in text for text in outputs(notebook, "stream"))


def test_gallery_notebook_shows_two_runs_metrics_and_control(gallery_kernel, runs, demo_records,
                                                             tmp_path):
    run_a, run_b, run_c = runs
    km, cwd, warmed = gallery_kernel
    warmed()
    saved = tmp_path / "gallery.png"
    lineart = tmp_path / "lineart"  # a stand-in for a folder of real line art
    lineart.mkdir()
    drawing = np.full((90, 70), 255, np.uint8)
    drawing[10:80, 35] = drawing[45, 5:65] = 0
    Image.fromarray(drawing).save(lineart / "07.jpg")
    notebook = execute("gallery.ipynb", {"RUN": run_a, "RUN_B": run_b, "RUN_C": run_c,
                                         "RECORDS": demo_records, "COUNT": 2, "SAVE": str(saved),
                                         "LINEART": str(lineart),
                                         "STROKES": str(NOTEBOOKS / "lineart_strokes.json")},
                       cwd, km)
    # the gallery, the control figure, the hint sweep's plot, the C model's stroke row and the
    # real line art row
    assert len(outputs(notebook, "image/png")) == 5
    text = "".join(outputs(notebook, "stream"))
    assert "baseline: flat white" in text and run_a in text and run_b in text
    assert "psnr by strokes" in text and "C: strokes" in text and "B: full blurred cue" in text
    height, width = sketch.load_image(str(saved)).shape[:2]  # 6 columns, 2 rows
    assert width > height


def test_notebooks_parameters_come_first():
    for name in ("dataset.ipynb", "gallery.ipynb"):
        cells = nbformat.read(NOTEBOOKS / name, as_version=4).cells
        first_code = next(c for c in cells if c.cell_type == "code")
        assert "parameters" in first_code.metadata.get("tags", [])
        assert all(not c.get("outputs") for c in cells if c.cell_type == "code")  # stored clean


def test_the_gallery_defaults_to_the_newest_run(tmp_path, monkeypatch):
    for i, name in enumerate(["old", "new"]):
        marker = tmp_path / "runs" / name / "checkpoints" / "checkpoint"
        marker.parent.mkdir(parents=True)
        marker.touch()
        os.utime(marker.parent.parent, (1000 + i, 1000 + i))
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # where Jupyter starts a notebook's kernel
    assert gallery.newest_run() == os.path.join("..", "runs", "new")


def test_hand_placed_strokes_are_opaque_in_their_own_colors_later_over_earlier():
    """`gallery.stroke_layer` (the notebook's and the app screenshot's hand-placed strokes): every
    painted pixel holds its stroke's own color, even on the antialiased edge (blending into the
    transparent layer gave strokes a dark rim), where the strokes cross the later one's."""
    from colorize.gallery import stroke_layer

    layer = stroke_layer((60, 80), [
        {"color": [200, 40, 40], "width": 0.1, "points": [[0.1, 0.5], [0.9, 0.5]]},
        {"color": [30, 60, 220], "width": 0.1, "points": [[0.5, 0.1], [0.5, 0.9]]}])
    painted = layer[..., 3] == 255
    assert set(np.unique(layer[..., 3])) == {0, 255}
    colors = {tuple(c) for c in layer[painted][:, :3]}
    assert colors == {(200, 40, 40), (30, 60, 220)}
    assert tuple(layer[30, 40, :3]) == (30, 60, 220)  # the crossing: the later stroke
    assert tuple(layer[30, 10, :3]) == (200, 40, 40) and not layer[5, 10, 3]
    assert (layer[~painted] == 0).all()
