"""Chapters (issue #34): .cbz archives and folders of pages, read safely, written atomically,
resumed after an interruption; and `colorize predict` on them."""

from __future__ import annotations

import io
import os
import struct
import zipfile

import cv2
import numpy as np
import pytest
from PIL import Image

from colorize import chapters, demo, sketch
from colorize.cli import main
from colorize.errors import ColorizeError

from conftest import command_error


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def line_page(seed: int, height: int = 96, width: int = 64) -> np.ndarray:
    """A gray line-art page (the recipe's sketch of a demo picture)."""
    return cv2.resize(sketch.sketchify(demo.render(seed, 0, 128)), (width, height),
                      interpolation=cv2.INTER_NEAREST)


def color_page(seed: int, height: int = 96, width: int = 64) -> np.ndarray:
    return cv2.resize(demo.render(seed, 0, 128), (width, height), interpolation=cv2.INTER_AREA)


def make_cbz(path, entries: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> str:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data, method)
    return str(path)


def chapter_entries() -> dict[str, bytes]:
    """page10 after page2 (natural order), a colored page, a corrupt page, metadata, junk."""
    return {"page10.png": png(line_page(10)), "page2.png": png(line_page(2)),
            "page1.png": png(line_page(1)), "page3.png": png(color_page(3)),
            "page4.png": b"\x89PNG\r\n\x1a\nnot really", "ComicInfo.xml": b"<ComicInfo/>",
            "notes.txt": b"hello", "__MACOSX/._page1.png": b"junk"}


def snapshot(folder) -> dict:
    return {os.path.join(d, n): os.stat(os.path.join(d, n)).st_mtime_ns
            for d, _, names in os.walk(folder) for n in names}


# -- reading -------------------------------------------------------------------------------------


def test_an_archive_lists_its_pages_in_reading_order_and_copies_its_metadata(tmp_path):
    path = make_cbz(tmp_path / "ch.cbz", chapter_entries())
    with chapters.Chapter.open(path) as chapter:
        assert chapter.pages == ["page1.png", "page2.png", "page3.png", "page4.png", "page10.png"]
        assert chapter.extras == ["ComicInfo.xml"]
        assert sorted(chapter.skipped) == ["__MACOSX/._page1.png", "notes.txt"]
        assert chapter.read("page2.png") == chapter_entries()["page2.png"]
    assert chapters.natural_key("ch2/p9.png") < chapters.natural_key("ch2/p10.png") < \
        chapters.natural_key("ch10/p1.png")


def test_a_folder_is_a_chapter_of_the_images_in_it(tmp_path):
    for name, data in chapter_entries().items():
        if "/" not in name:
            (tmp_path / name).write_bytes(data)
    with chapters.Chapter.open(str(tmp_path)) as chapter:
        assert chapter.pages == ["page1.png", "page2.png", "page3.png", "page4.png", "page10.png"]
        assert chapter.extras == ["ComicInfo.xml"]


def overlapping_zip(path) -> str:
    """Two entries whose data is one and the same (the overlap of a non-recursive zip bomb)."""
    make_cbz(path, {"a.png": png(line_page(0)), "b.png": png(line_page(1))})
    data = bytearray(open(path, "rb").read())
    second = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)
    data[second + 42:second + 46] = struct.pack("<I", 0)  # b.png's local header: a.png's
    open(path, "wb").write(bytes(data))
    return str(path)


def symlink_zip(path) -> str:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("p1.png", png(line_page(0)))
        info = zipfile.ZipInfo("p2.png")
        info.external_attr = (0o120777 << 16)
        z.writestr(info, "/etc/passwd")
    return str(path)


def encrypted_zip(path) -> str:
    make_cbz(path, {"p1.png": png(line_page(0))})
    data = bytearray(open(path, "rb").read())
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + flags
        data[at] |= 0x1
    open(path, "wb").write(bytes(data))
    return str(path)


BAD_ARCHIVES = {
    "not a zip": (lambda p: (p.write_bytes(b"PK\x03\x04 not really a zip"), str(p))[1],
                  "not a zip archive", "bad_archive"),
    "no images": (lambda p: make_cbz(p, {"a.txt": b"x", "ComicInfo.xml": b"<x/>"}),
                  "not a chapter: no page images", "no_images"),
    "nested archive": (lambda p: make_cbz(p, {"p1.png": png(line_page(0)), "more.cbz": b"PK"}),
                       "'more.cbz' is an archive inside the archive", "unsafe_archive"),
    "escaping path": (lambda p: make_cbz(p, {"p1.png": png(line_page(0)),
                                             "../x.png": png(line_page(1))}),
                      "'../x.png' is a path that escapes the archive", "unsafe_archive"),
    "absolute path": (lambda p: make_cbz(p, {"/tmp/x.png": png(line_page(1))}),
                      "'/tmp/x.png' is an absolute path", "unsafe_archive"),
    "symbolic link": (symlink_zip, "'p2.png' is a symbolic link", "unsafe_archive"),
    "encrypted": (encrypted_zip, "'p1.png' is encrypted", "unsafe_archive"),
    "zip bomb (ratio)": (lambda p: make_cbz(p, {"p1.png": bytes(20 << 20)}),
                         "'p1.png' inflates 20971520 bytes from", "too_large"),
    "zip bomb (overlap)": (overlapping_zip, "overlap (a zip bomb?)", "too_large"),
}


@pytest.mark.parametrize("case", list(BAD_ARCHIVES))
def test_an_archive_that_is_not_a_chapter_is_refused_in_one_line(tmp_path, capsys, case):
    make, message, reason = BAD_ARCHIVES[case]
    inputs = tmp_path / "in"
    inputs.mkdir()
    path = make(inputs / "bad.cbz")
    argv = ["predict", "--model", str(tmp_path / "never-loaded.keras"), "--sketch", path,
            "--out", str(tmp_path / "out" / "colored.cbz")]
    before = snapshot(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"colorize predict: error: {path}: ") and message in err, err
    assert err.count("\n") == 1
    assert command_error(argv).reason == reason
    assert snapshot(tmp_path) == before  # nothing written, inside --out or out of it


def test_the_limits_count_what_entries_inflate_to(tmp_path, monkeypatch):
    path = make_cbz(tmp_path / "ch.cbz", {f"p{i}.png": png(line_page(i)) for i in range(3)})
    monkeypatch.setattr(chapters, "MAX_TOTAL_BYTES", 2 * len(png(line_page(0))))
    with pytest.raises(ColorizeError, match="entries inflate to more than") as info:
        chapters.Chapter.open(path)
    assert info.value.reason == "too_large"
    monkeypatch.setattr(chapters, "MAX_ENTRIES", 2)
    with pytest.raises(ColorizeError, match="3 entries, over the limit of 2"):
        chapters.Chapter.open(path)


# -- already in color ----------------------------------------------------------------------------


def test_a_page_in_color_is_told_from_line_art_colored_or_not():
    picture = demo.render(0, 0, 1100)
    lines = sketch.sketchify(picture)
    assert chapters.in_color(picture)
    assert not chapters.in_color(np.repeat(lines[..., None], 3, -1))
    for width in (1, 5):  # colored lines on white paper, up to 5 px wide, are line art
        ink = cv2.erode(lines, np.ones((width, width), np.uint8)) < 128
        colored_lines = np.where(ink[..., None], picture, np.uint8(255))
        assert sketch.color_percent(colored_lines) > 1.0  # the builder would keep it as colored
        assert not chapters.in_color(colored_lines)
    tinted = np.full((1100, 800, 3), (240, 236, 224), np.uint8)  # cream paper, chroma 16
    tinted[lines[:, :800] < 128] = 40
    assert not chapters.in_color(tinted)


def test_real_line_art_is_not_in_color_and_real_illustrations_are(real_data):
    line_art = sorted((real_data / "lineart").glob("*.jpg"))
    colored = {"13.jpg", "14.jpg"}  # two of the "sketches" there are finished color pictures
    for path in line_art:
        assert chapters.in_color(sketch.load_image(str(path))) == (path.name in colored), path
    pictures = sorted((real_data / "fullbody").glob("*.jpg"))
    found = sum(chapters.in_color(sketch.load_image(str(p))) for p in pictures)
    assert found >= len(pictures) - 1  # all but one black-and-gray dress (3.6 % colored)


# -- writing and resuming --------------------------------------------------------------------------


def fake_colorize(calls: list, fail: str | None = None, stop_after: int | None = None):
    """A page function: the page inverted (as PNG), None for pages in color, and a failure."""
    def page_fn(name, data, extension):
        if stop_after is not None and len(calls) == stop_after:
            raise KeyboardInterrupt
        calls.append(name)
        if name == fail:
            raise ColorizeError("not a readable image (a test)", reason="undecodable")
        try:
            rgb = sketch.load_image(data)
        except sketch.ImageError as err:
            raise ColorizeError(f"not a readable image ({err})", reason=err.reason) from None
        if chapters.in_color(rgb):
            return None
        ok, encoded = cv2.imencode(extension, 255 - rgb)
        return encoded.tobytes()
    return page_fn


def test_an_interrupted_chapter_resumes_where_it_stopped(tmp_path):
    entries = {f"p{i}.png": png(line_page(i)) for i in range(1, 6)}
    path = make_cbz(tmp_path / "ch.cbz", entries)
    out = tmp_path / "out" / "colored.cbz"
    out.parent.mkdir()
    fingerprint = {"chapter": "ch.cbz", "settings": 1}
    calls = []
    with chapters.Chapter.open(path) as chapter:
        output = chapters.Output(str(out), fingerprint)
        assert output.start() == 0
        with pytest.raises(KeyboardInterrupt):
            chapters.colorize(chapter, output, fake_colorize(calls, stop_after=2))
    assert calls == ["p1.png", "p2.png"] and not out.exists()  # the output only when complete
    work = tmp_path / "out" / ".colored.cbz.partial"
    assert sorted(os.listdir(work / "pages")) == ["p1.png", "p2.png"]
    assert (work / "state.json").is_file()

    calls.clear()
    progress = []
    with chapters.Chapter.open(path) as chapter:
        output = chapters.Output(str(out), fingerprint)
        assert output.start() == 2 and output.resumed
        outcomes = chapters.colorize(chapter, output, fake_colorize(calls), progress.append)
    assert calls == ["p3.png", "p4.png", "p5.png"] and progress == [1, 2, 3]
    assert [o.status for o in outcomes] == [chapters.COLORIZED] * 5
    assert os.listdir(tmp_path / "out") == ["colored.cbz"]  # the work area is gone
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == list(entries)  # names and order kept
        for name, data in entries.items():
            page = sketch.load_image(z.read(name))
            np.testing.assert_array_equal(page, 255 - sketch.load_image(data))

    # another input or other settings: the unfinished work is not taken up
    calls.clear()
    with chapters.Chapter.open(path) as chapter:
        output = chapters.Output(str(out), fingerprint)
        output.start()
        with pytest.raises(KeyboardInterrupt):
            chapters.colorize(chapter, output, fake_colorize(calls, stop_after=1))
    with chapters.Chapter.open(path) as chapter:
        output = chapters.Output(str(out), {**fingerprint, "settings": 2})
        assert output.start() == 0


def test_a_failed_page_is_recorded_and_copied_and_the_rest_is_done(tmp_path):
    entries = chapter_entries()
    path = make_cbz(tmp_path / "ch.cbz", entries)
    out = tmp_path / "colored.cbz"
    with chapters.Chapter.open(path) as chapter:
        output = chapters.Output(str(out), {})
        output.start()
        outcomes = chapters.colorize(chapter, output, fake_colorize([], fail="page2.png"))
    by_page = dict(zip(["page1.png", "page2.png", "page3.png", "page4.png", "page10.png"],
                       outcomes))
    assert {k: o.status for k, o in by_page.items()} == {
        "page1.png": "colorized", "page2.png": "failed", "page3.png": "passed",
        "page4.png": "failed", "page10.png": "colorized"}
    assert by_page["page2.png"].reason == "undecodable"
    assert by_page["page4.png"].message.startswith("not a readable image")
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == ["ComicInfo.xml", "page1.png", "page2.png", "page3.png",
                                "page4.png", "page10.png"]
        for name in ("page2.png", "page3.png", "page4.png", "ComicInfo.xml"):
            assert z.read(name) == entries[name]  # copied unchanged


def test_a_damaged_entry_fails_its_page_alone(tmp_path):
    first, second = png(line_page(1)), png(line_page(2))
    path = make_cbz(tmp_path / "ch.cbz", {"p1.png": first, "p2.png": second}, zipfile.ZIP_STORED)
    data = bytearray(open(path, "rb").read())
    at = data.index(second) + len(second) // 2
    data[at] ^= 0xFF  # one byte of p2.png's data: its CRC no longer matches
    open(path, "wb").write(bytes(data))
    with chapters.Chapter.open(path) as chapter:
        with pytest.raises(ColorizeError, match="a damaged entry") as info:
            chapter.read("p2.png")
        assert info.value.reason == "bad_archive" and "bad_archive" in chapters.PAGE_REASONS
        output = chapters.Output(str(tmp_path / "colored.cbz"), {})
        output.start()
        outcomes = chapters.colorize(chapter, output, fake_colorize([]))
    assert [(o.status, o.out) for o in outcomes] == [("colorized", "p1.png"), ("failed", None)]
    with zipfile.ZipFile(tmp_path / "colored.cbz") as z:
        assert z.namelist() == ["p1.png"]  # a page that could not be read: left out


def test_an_entry_that_inflates_past_its_declared_size_is_cut_there_and_fails(tmp_path):
    """A zip bomb that declares a small size: reading stops at the declared size (the limits
    were checked against it), the CRC then fails, and only that page fails."""
    path = make_cbz(tmp_path / "ch.cbz", {"p1.png": png(line_page(1)),
                                          "p2.png": bytes(64 << 20)})
    data = bytearray(open(path, "rb").read())
    for signature, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # its uncompressed size
        header = data.index(signature, data.index(signature) + 4)  # p2.png's header
        data[header + at:header + at + 4] = struct.pack("<I", 1000)
    open(path, "wb").write(bytes(data))
    with chapters.Chapter.open(path) as chapter:
        with pytest.raises(ColorizeError, match="Bad CRC-32") as info:
            chapter.read("p2.png")
        assert info.value.reason == "bad_archive"


def test_an_error_that_is_not_a_pages_stops_the_chapter_and_leaves_nothing(tmp_path):
    path = make_cbz(tmp_path / "ch.cbz", {"p1.png": png(line_page(1))})
    for out in (tmp_path / "colored.cbz", tmp_path / "folder"):
        with chapters.Chapter.open(path) as chapter:
            output = chapters.Output(str(out), {})
            output.start()

            def refuse(name, data, extension):
                raise ColorizeError("this model takes no cue", reason="unsupported_condition")

            with pytest.raises(ColorizeError, match="takes no cue"):
                chapters.colorize(chapter, output, refuse)
            output.discard()
        assert os.listdir(tmp_path) == ["ch.cbz"]


def test_a_folder_output_gets_each_page_atomically_and_no_state_at_the_end(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for i in (1, 2):
        (pages / f"p{i}.jpg").write_bytes(cv2.imencode(".jpg", line_page(i))[1].tobytes())
    out = tmp_path / "out"
    with chapters.Chapter.open(str(pages)) as chapter:
        output = chapters.Output(str(out), {}, ".png")
        output.start()
        assert (out / chapters.FOLDER_STATE).is_file()
        chapters.colorize(chapter, output, fake_colorize([]))
    assert sorted(os.listdir(out)) == ["p1.png", "p2.png"]  # KEY.png, as predict always wrote


def test_cue_folders_match_pages_by_name(tmp_path):
    (tmp_path / "ch1").mkdir()
    for name in ("p1.png", "p2.jpg", "ch1/p1.png", ".hidden.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert chapters.cue_files(str(tmp_path)) == {
        "p1": str(tmp_path / "p1.png"), "p2": str(tmp_path / "p2.jpg"),
        "ch1/p1": str(tmp_path / "ch1" / "p1.png")}
    assert chapters.page_key("ch1/p1.png") == "ch1/p1"


@pytest.mark.parametrize("layout", ["output is the input", "into the input folder"])
def test_a_chapter_is_never_written_over_its_input(tmp_path, capsys, layout):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "p1.png").write_bytes(png(line_page(1)))
    cbz = make_cbz(tmp_path / "ch.cbz", {"p1.png": png(line_page(1))})
    sketch_arg, out = {"output is the input": (cbz, cbz),
                       "into the input folder": (str(folder), str(folder / "c.cbz"))}[layout]
    argv = ["predict", "--model", str(tmp_path / "never-loaded.keras"), "--sketch", sketch_arg,
            "--out", out]
    before = snapshot(tmp_path)
    assert main(argv) == 2
    assert "choose another --out" in capsys.readouterr().err
    assert command_error(argv).reason == "overlaps_input"
    assert snapshot(tmp_path) == before


def test_options_that_do_not_go_with_a_chapter_are_refused(tmp_path):
    cbz = make_cbz(tmp_path / "ch.cbz", {"p1.png": png(line_page(1))})
    base = ["predict", "--model", str(tmp_path / "m.keras"), "--sketch", cbz]
    assert command_error(base + ["--out", str(tmp_path / "o.cbz"), "--format", "psd"]
                         ).reason == "conflicting"
    assert command_error(base + ["--out", str(tmp_path / "o"), "--format", "psd", "--lines",
                                 "model"]).reason == "conflicting"
    (tmp_path / "file").write_bytes(b"x")
    assert command_error(base + ["--out", str(tmp_path / "file")]).reason == "not_a_folder"
    assert not (tmp_path / "o").exists() and not (tmp_path / "o.cbz").exists()


# -- the command, with a small untrained model ---------------------------------------------------

from test_layers import tiny_model  # noqa: E402,F401 (a fixture: an untrained .keras file)


@pytest.fixture(scope="module")
def loaded_models() -> dict:
    return {}


@pytest.fixture
def one_load(loaded_models, monkeypatch):
    """`colorize predict` (single pages and chapters) loads each model file once in this module:
    loading and tracing it is most of a tiny call's time, and a Colorizer of the same file and
    options gives the same pictures. Another option gets a Colorizer of its own."""
    from colorize import predict_chapter, predict_cli

    real = predict_cli.load_colorizer

    def load(args):
        key = (args.run, args.model, args.test_mode, args.precision, args.lines)
        if key not in loaded_models:
            loaded_models[key] = real(args)
        return loaded_models[key]

    monkeypatch.setattr(predict_cli, "load_colorizer", load)
    monkeypatch.setattr(predict_chapter, "load_colorizer", load)


def predict_one(model: str, page: bytes, folder, hints: str | None = None) -> np.ndarray:
    """`colorize predict` of one page on its own (the picture a chapter's page must equal)."""
    src, out = folder / "one.png", folder / "one-out.png"
    src.write_bytes(page)
    extra = ["--hints", hints] if hints else []
    assert main(["predict", "--model", model, "--sketch", str(src), "--out", str(out), *extra]) == 0
    return sketch.load_image(str(out))


@pytest.mark.heavy
def test_predict_colorizes_a_cbz_page_by_page(tiny_model, one_load, tmp_path, capsys):
    entries = chapter_entries()
    path = make_cbz(tmp_path / "ch.cbz", entries)
    hints = tmp_path / "hints"
    hints.mkdir()
    red = np.zeros((96, 64, 4), np.uint8)
    red[20:70, 10:50] = (230, 30, 30, 255)
    Image.fromarray(red, "RGBA").save(hints / "page2.png")  # page2's own; the others get none
    out = tmp_path / "out" / "colored.cbz"
    argv = ["predict", "--model", tiny_model, "--sketch", path, "--hints", str(hints),
            "--out", str(out)]
    assert main(argv) == 1  # done, but a page failed
    captured = capsys.readouterr()
    assert captured.err.startswith(f"colorize predict: {path}: page4.png: not a readable image "
                                   "(undecodable: ")
    assert captured.err.endswith(") (copied unchanged)\n") and captured.err.count("\n") == 1
    assert f"{path}: 5 pages\n" in captured.out
    assert "skipped 2 entries that are not pages" in captured.out
    assert "  5/5 pages (" in captured.out  # the progress line (a log: no live bar)
    assert ("3 pages colorized, 1 already in color copied unchanged (--colorize-colored "
            "colorizes them), 1 failed") in captured.out
    assert os.listdir(tmp_path / "out") == ["colored.cbz"]
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == ["ComicInfo.xml", "page1.png", "page2.png", "page3.png",
                                "page4.png", "page10.png"]
        for name in ("ComicInfo.xml", "page3.png", "page4.png"):
            assert z.read(name) == entries[name]
        pages = {name: sketch.load_image(z.read(name)) for name in ("page1.png", "page2.png",
                                                                    "page10.png")}
    singles = tmp_path / "single"
    singles.mkdir()
    np.testing.assert_array_equal(pages["page2.png"], predict_one(
        tiny_model, entries["page2.png"], singles, str(hints / "page2.png")))
    for name in ("page1.png", "page10.png"):
        np.testing.assert_array_equal(pages[name], predict_one(tiny_model, entries[name],
                                                               singles))
    assert not np.array_equal(pages["page2.png"], predict_one(tiny_model, entries["page2.png"],
                                                              singles))  # the hints mattered

    capsys.readouterr()
    assert main(argv + ["--colorize-colored"]) == 1
    assert "4 pages colorized, 1 failed" in capsys.readouterr().out
    with zipfile.ZipFile(out) as z:
        assert z.read("page3.png") != entries["page3.png"]
        assert sketch.load_image(z.read("page3.png")).shape == (96, 64, 3)


@pytest.mark.heavy
def test_an_interrupted_predict_resumes(tiny_model, one_load, tmp_path, capsys, monkeypatch):
    from colorize import predict_chapter

    entries = {f"p{i}.png": png(line_page(i)) for i in range(1, 6)}
    path = make_cbz(tmp_path / "ch.cbz", entries)
    out = tmp_path / "colored.cbz"
    argv = ["predict", "--model", tiny_model, "--sketch", path, "--out", str(out)]
    real, calls = predict_chapter.page_function, []

    def interrupted(*args):
        page_fn = real(*args)

        def wrapped(name, data, extension):
            if len(calls) == 2:
                raise KeyboardInterrupt  # Ctrl-C on the third page
            calls.append(name)
            return page_fn(name, data, extension)
        return wrapped

    monkeypatch.setattr(predict_chapter, "page_function", interrupted)
    assert main(argv) == 130
    assert "2 of 5 pages are done and kept; the same command resumes" in capsys.readouterr().err
    assert not out.exists()
    monkeypatch.setattr(predict_chapter, "page_function", real)
    assert main(argv) == 0
    assert f"{path}: 5 pages, 2 done by an interrupted run, 3 to go" in capsys.readouterr().out
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == list(entries)
    assert sorted(os.listdir(tmp_path)) == ["ch.cbz", "colored.cbz"]


@pytest.mark.heavy
def test_predict_writes_a_folder_chapter_as_psd_files(tiny_model, one_load, tmp_path, capsys):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "p1.png").write_bytes(png(line_page(1)))
    (pages / "p2.jpg").write_bytes(cv2.imencode(".jpg", color_page(2)[..., ::-1])[1].tobytes())
    out = tmp_path / "out"
    assert main(["predict", "--model", tiny_model, "--sketch", str(pages), "--out", str(out),
                 "--format", "psd"]) == 0
    assert sorted(os.listdir(out)) == ["p1.psd", "p2.jpg"]  # the page in color: copied
    assert (out / "p2.jpg").read_bytes() == (pages / "p2.jpg").read_bytes()
    from psd_tools import PSDImage

    document = PSDImage.open(out / "p1.psd")
    assert [layer.name for layer in document] == ["flat colors", "line art", "hints"]
    assert document.size == (64, 96)
