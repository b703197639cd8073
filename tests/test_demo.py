"""Tests for the procedural demo data: determinism, the builder's acceptance criteria, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from colorize import demo
from colorize.cli import main

from conftest import command_error


def _command_error(*argv: str):
    return command_error(["demo-data", *argv])


def _complexity(rgb: np.ndarray) -> float:
    """Percent of black pixels of the builder's sketch (adaptive threshold, block 7, C 2)."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sketch = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 7, 2)
    return float(np.mean(sketch == 0) * 100)


def _read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("size", [64, 96])
def test_render_shape_and_dtype(size):
    image = demo.render(0, 0, size)
    assert image.shape == (size, size, 3)
    assert image.dtype == np.uint8


def test_render_is_deterministic():
    assert demo.render(3, 7, 64).tobytes() == demo.render(3, 7, 64).tobytes()


def test_seeds_and_indices_give_different_images():
    base = demo.render(0, 0, 64)
    assert not np.array_equal(base, demo.render(1, 0, 64))
    assert not np.array_equal(base, demo.render(0, 1, 64))


def test_negative_seed_is_rejected():
    with pytest.raises(ValueError):
        demo.render(-1, 0)


def test_images_are_sketchable():
    """Complexity well under the builder's 40 % cut, yet with real line work (anime faces: 12-29 %)."""
    complexities = [_complexity(demo.render(0, i)) for i in range(20)]
    assert all(3.0 < c < 40.0 for c in complexities), complexities


def test_images_are_colorful():
    """Mean HSV saturation (0-255) far above a gray manga page, so the gray filter keeps them."""
    saturations = [cv2.cvtColor(demo.render(0, i), cv2.COLOR_RGB2HSV)[..., 1].mean() for i in range(20)]
    assert min(saturations) > 40, saturations


def test_images_use_several_colors():
    """Flat regions of a palette, not a two-tone drawing: many distinct colors cover most pixels."""
    pixels = demo.render(0, 0).reshape(-1, 3)
    colors, counts = np.unique(pixels, axis=0, return_counts=True)
    top = np.sort(counts)[::-1][:12]
    assert len(colors) >= 12
    assert top.sum() > 0.5 * len(pixels)


def test_tones_shadow_darker_and_highlight_lighter():
    for hsv in [(0.0, 0.6, 0.8), (0.55, 0.3, 0.95), (0.9, 0.8, 0.4)]:
        tones = demo.Tones.of(hsv)
        assert sum(tones.deep) < sum(tones.shadow) < sum(tones.base) < sum(tones.light)


def test_cel_shading_puts_the_shadow_on_the_far_side():
    # A square over pixels 16..48 of a 64x64 canvas, lit from +x. Shadow depth 0.125 * 32 = 4 px on the
    # left: the deep tone over its outer 0.4 * 4 = 1.6 px, then the shadow; a 0.35 * 4 = 1.4 px rim of
    # highlight on the right; the base in between. No vertical shading.
    white = (255, 255, 255)
    painter = demo.Painter(64, (white, white), light_angle=0.0, ink=(0, 0, 0), line_width=1)
    tones = demo.Tones(base=(200, 0, 0), shadow=(100, 0, 0), deep=(50, 0, 0), light=(250, 200, 200))
    square = np.array([[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]])
    painter.region(square, tones, line=0.0, shade=0.125, deep=True, highlight=True)
    expected = np.full(64, 255)
    expected[16:18], expected[18:20], expected[20:48], expected[48] = 50, 100, 200, 250
    np.testing.assert_array_equal(painter.image[32, :, 0], expected)
    np.testing.assert_array_equal(painter.image[16:48, 32], np.tile(tones.base, (32, 1)))


def test_generate_writes_lossless_pngs(tmp_path):
    paths = demo.generate(tmp_path, 2, seed=4, size=64)
    assert [p.name for p in paths] == ["demo-0004-00000.png", "demo-0004-00001.png"]
    for index, path in enumerate(paths):
        np.testing.assert_array_equal(_read_rgb(path), demo.render(4, index, 64))


def test_larger_count_extends_smaller(tmp_path):
    small = demo.generate(tmp_path / "a", 3, seed=2, size=64)
    large = demo.generate(tmp_path / "b", 5, seed=2, size=64)
    assert [p.name for p in small] == [p.name for p in large[:3]]
    for a, b in zip(small, large):
        assert a.read_bytes() == b.read_bytes()


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(demo.os, "replace", fail)
    with pytest.raises(OSError):
        demo.generate(tmp_path, 1, size=64)
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_the_images(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo-data", "--out", str(out), "--count", "3", "--seed", "1", "--size", "64"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [demo.file_name(1, i) for i in range(3)]  # no temp files


def test_cli_refuses_non_empty_out(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("keep me")
    assert main(["demo-data", "--out", str(tmp_path), "--count", "2", "--size", "64"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    error = _command_error("--out", str(tmp_path), "--count", "2", "--size", "64")
    assert error.reason == "not_empty"


def test_cli_overwrite_replaces_stale_demo_images_only(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    demo.generate(tmp_path, 4, seed=0, size=64)
    assert main(["demo-data", "--out", str(tmp_path), "--count", "2", "--size", "64", "--overwrite"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [demo.file_name(0, 0), demo.file_name(0, 1), "notes.txt"]


@pytest.mark.parametrize("flag, value", [("--count", "0"), ("--seed", "-1"), ("--size", "16")])
def test_cli_rejects_bad_numbers(tmp_path, capsys, flag, value):
    out = tmp_path / "demo"
    assert main(["demo-data", "--out", str(out), flag, value]) == 2
    assert flag in capsys.readouterr().err
    assert not out.exists()
    assert _command_error("--out", str(out), flag, value).reason == "bad_value"


def test_cli_rejects_a_file_as_out(tmp_path, capsys):
    target = tmp_path / "file.png"
    target.write_bytes(b"x")
    assert main(["demo-data", "--out", str(target), "--count", "1"]) == 2
    assert str(target) in capsys.readouterr().err
    assert _command_error("--out", str(target), "--count", "1").reason == "not_a_folder"


@pytest.mark.heavy
def test_demo_does_not_import_tensorflow():
    code = "import sys, colorize.demo; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
