"""`colorize app`'s server driven over HTTP on 127.0.0.1, as the page's browser-side code calls it:
oversized uploads refused from their file headers, and concurrent clients with some bad uploads
(`tools/benchmark.py app-load` is the full run, with its latency and memory figures)."""

from __future__ import annotations

import os
import socket
import sys

import numpy as np
import pytest
from PIL import Image, ImageFile

pytest.importorskip("gradio", reason='the app extra is not installed (pip install -e ".[app]")')

from colorize import app  # noqa: E402
from colorize.app import uploads  # noqa: E402
from colorize.app.choices import Choice  # noqa: E402
from colorize.app.cli import serve  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import benchmark  # noqa: E402

OVER = 4097  # a square this side is just over the page's cap (4096 x 4096)


@pytest.fixture(scope="module")
def server():
    """The page with an untrained tiny B generator (uploads are handled alike whatever the
    weights), in this process, so that a test sees what it decodes."""
    from colorize.config import preset
    from colorize.infer import Colorizer
    from colorize.models import build_generator

    cfg = preset("B", image_size=32, width=8)
    colorizer = Colorizer(build_generator(cfg), conditioning=cfg.conditioning,
                          precision="float32", experiment="B")
    choices = {"B · tiny": Choice("B · tiny", "B", {"deterministic": colorizer,
                                                     "pix2pix": colorizer})}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # serve() lowers it
        page = serve(choices, "127.0.0.1", port, block=False)
        yield f"http://127.0.0.1:{port}/"
        page.close()


@pytest.fixture(scope="module")
def huge() -> tuple[str, bytes]:
    """A gray PNG of OVER x OVER pixels (line art's mode, which gr.Image used to convert)."""
    return "huge.png", benchmark._png(np.zeros((OVER, OVER), np.uint8))


@pytest.fixture
def decoded(monkeypatch) -> list[tuple[int, int]]:
    """The size of every image Pillow decodes in this process (Gradio's decoding included)."""
    sizes = []
    load = ImageFile.ImageFile.load

    def spy(self):
        sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return sizes


def colorize_with(client: benchmark.AppClient, **files) -> tuple[bool, object]:
    """The colorize step called with a small sketch's editor files, some replaced by `files`."""
    uploaded = {role: client.upload(*file)
                for role, file in {**benchmark._editor_files(64), **files}.items()}
    value = {"background": uploaded["background"], "layers": [uploaded["layer"]],
             "composite": uploaded["composite"], "id": None}
    label = client.element("model")["props"]["value"]
    return client.call(client.colorize_endpoint(),
                       [label, "deterministic", value, uploaded.get("reference"), None, False])


@pytest.mark.heavy
def test_oversized_uploads_are_refused_from_their_headers(server, huge, decoded):
    """An editor background or layer, a reference or a dropped sketch over the page's cap gets
    its one-line message before anything decodes it (Gradio decoded them in full before)."""
    client = benchmark.AppClient(server)
    over = f"huge.png: {OVER}x{OVER} is over the 16.8 megapixel limit for a "
    assert colorize_with(client, background=huge) == (False, over + "sketch")
    assert colorize_with(client, layer=huge) == (False, over + "hint layer")
    assert colorize_with(client, reference=huge) == (False, over + "reference")
    label = client.element("model")["props"]["value"]
    dropped = client.call(client.endpoint("drop-sketch"), [label, client.upload(*huge), False])
    assert dropped == (False, over + "sketch")
    assert not [size for size in decoded if size[0] * size[1] > uploads.MAX_PIXELS]
    assert decoded  # (the spy does see decoding: the small files above were decoded)
    ok, _ = colorize_with(client)
    assert ok


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # as serve() does
def test_the_server_lowers_pillows_limit_to_the_pages_cap(server, tmp_path):
    """Whatever decodes in the server's process refuses more than the page's cap, not Pillow's
    default 178 megapixels."""
    Image.new("L", (OVER, OVER)).save(tmp_path / "over.png")
    with pytest.raises(Image.DecompressionBombError):
        Image.open(tmp_path / "over.png")
    Image.new("L", (4096, 4096)).save(tmp_path / "cap.png")
    with Image.open(tmp_path / "cap.png") as im:
        assert im.size == (4096, 4096)


def test_a_refused_request_gives_its_memory_back(server, huge, monkeypatch):
    """Each refusal (from a header, or from the handler) hands the heap's free pages back."""
    uploads.release_memory()  # works here (glibc) or does nothing
    calls = []
    monkeypatch.setattr(uploads, "release_memory", lambda: calls.append(1))
    client = benchmark.AppClient(server)
    assert not colorize_with(client, background=huge)[0]  # refused from its header
    png = benchmark._editor_files(64)["background"][1]
    truncated = ("truncated.png", png[:len(png) * 2 // 3])  # its header passes; the handler's
    assert colorize_with(client, reference=truncated) == (    # decoding fails
        False, "truncated.png: not a readable image (OSError)")
    assert len(calls) == 2
    assert colorize_with(client)[0] and len(calls) == 2


@pytest.mark.heavy
def test_concurrent_clients_get_their_pictures_and_bad_uploads_their_messages(server):
    """4 clients at once, sketches of three sizes, every 4th request a bad upload (corrupt,
    oversized background or reference, truncated): every picture at its sketch's size, every
    bad upload its one-line message naming the file."""
    jobs = benchmark.load_jobs(24, [64, 128, 256], bad_every=4, oversize=OVER)
    results = benchmark.drive_app(server, jobs, clients=4)
    assert len(results) == len(jobs)
    assert [(r.job.expect, r.message) for r in results if not r.as_expected] == []
    bad = [r.message for r in results if r.job.expect]
    assert len(bad) == 6 and all("\n" not in m for m in bad)


def test_the_page_writes_nothing_into_the_package(server):
    """Gradio writes a .pyi file beside any module that subclasses one of its components: the
    page wraps its components instead, so an installed package stays as installed."""
    folder = os.path.dirname(app.__file__)
    assert not [name for name in os.listdir(folder) if name.endswith(".pyi")]


@pytest.mark.parametrize("data,reason", [(None, "too_large"), (b"not an image", "undecodable")])
def test_refused_uploads_carry_their_reason(huge, data, reason):
    from colorize.app import uploads
    from colorize.errors import ColorizeError

    with pytest.raises(ColorizeError) as refused:
        uploads.check_upload(huge[1] if data is None else data, "x.png", "sketch")
    assert refused.value.reason == reason and str(refused.value).startswith("x.png: ")


@pytest.mark.heavy
def test_the_servers_temporary_folder_goes_with_its_process(tmp_path):
    """Its pictures and saved hint layers are the process's own: none are left in the temp dir."""
    import subprocess

    code = ("from colorize.app import cli; from colorize.app.choices import Choice\n"
            "from colorize.config import preset; from colorize.infer import Colorizer\n"
            "from colorize.models import build_generator\n"
            "cfg = preset('B', image_size=32, width=8)\n"
            "c = Colorizer(build_generator(cfg), conditioning=cfg.conditioning, "
            "precision='float32', experiment='B')\n"
            "cli.serve({'B': Choice('B', 'B', {'deterministic': c, 'pix2pix': c})}, '127.0.0.1', "
            f"{_free_port()}, block=False).close()\n"
            "import glob; print(len(glob.glob(cli.tempfile.gettempdir() + '/colorize-app-*')))")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "1"  # while it ran
    assert not list(tmp_path.glob("colorize-app-*"))  # and after


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
