"""Image ops of colorize.sketch, checked on tiny hand-computed cases and invariants."""

from __future__ import annotations

import glob
import io
import math
import os

import cv2
import numpy as np
import pytest
from PIL import Image

from colorize import sketch

from conftest import REAL_DATA


def _encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _blobs(seed: int, height: int = 256, width: int = 256) -> np.ndarray:
    """(H, W, 3) uint8: filled color ellipses with dark outlines on white, like flat-colored art."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 255, np.uint8)
    for _ in range(12):
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(3, width // 2 + 4)), int(rng.integers(3, height // 2 + 4)))
        angle = float(rng.uniform(0, 180))
        cv2.ellipse(img, center, axes, angle, 0, 360, rng.integers(0, 256, 3).tolist(), -1)
        cv2.ellipse(img, center, axes, angle, 0, 360, (0, 0, 0), int(rng.integers(1, 4)))
    return img


# --- load_image -------------------------------------------------------------------------------


def test_load_image_reads_path_and_bytes_as_rgb(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200  # red
    path = tmp_path / "red.png"
    Image.fromarray(rgb).save(path)
    for source in (str(path), path.read_bytes()):
        out = sketch.load_image(source)
        assert out.dtype == np.uint8 and out.shape == (8, 8, 3)
        np.testing.assert_array_equal(out, rgb)


def test_load_image_gray_gives_three_equal_channels():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    out = sketch.load_image(_encode(Image.fromarray(gray), "PNG"))
    assert out.shape == (3, 4, 3)
    for channel in range(3):
        np.testing.assert_array_equal(out[..., channel], gray)


def test_load_image_applies_exif_orientation():
    stored = np.zeros((8, 16, 3), np.uint8)  # landscape: red left half, blue right half
    stored[:, :8, 0] = 255
    stored[:, 8:, 2] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    out = sketch.load_image(_encode(Image.fromarray(stored), "PNG", exif=exif))
    assert out.shape == (16, 8, 3)  # displayed as portrait
    assert (out[:8, :, 0] == 255).all() and (out[:8, :, 2] == 0).all()  # the left half is on top
    assert (out[8:, :, 2] == 255).all()


def test_load_image_flattens_alpha_onto_white():
    rgba = np.array([[[255, 0, 0, 255], [0, 0, 255, 0], [0, 0, 0, 128]]], np.uint8)  # (1, 3, 4)
    out = sketch.load_image(_encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    np.testing.assert_array_equal(out[0, 0], [255, 0, 0])  # opaque: unchanged
    np.testing.assert_array_equal(out[0, 1], [255, 255, 255])  # transparent: white
    np.testing.assert_allclose(out[0, 2], 255 * (1 - 128 / 255), atol=1)  # half: black over white


def test_load_image_flattens_gray_alpha_and_palette_transparency():
    la = Image.fromarray(np.array([[[0, 255], [0, 0]]], np.uint8), "LA")  # opaque, clear black
    np.testing.assert_array_equal(sketch.load_image(_encode(la, "PNG"))[0], [[0, 0, 0], [255] * 3])
    palette = Image.new("P", (2, 1))
    palette.putpalette([0, 255, 0, 0, 0, 0])  # index 0 green, index 1 black
    palette.putpixel((1, 0), 1)
    out = sketch.load_image(_encode(palette, "PNG", transparency=1))
    np.testing.assert_array_equal(out[0], [[0, 255, 0], [255, 255, 255]])


def test_load_image_scales_16_bit_gray_to_8_bit():
    gray16 = np.array([[0, 257 * 128, 65535]], np.uint16)
    out = sketch.load_image(_encode(Image.fromarray(gray16), "PNG"))
    np.testing.assert_array_equal(out[0, :, 0], [0, 128, 255])


def test_load_image_converts_cmyk():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # full magenta + yellow ink: red
    out = sketch.load_image(_encode(cmyk, "JPEG", quality=95))
    np.testing.assert_allclose(out.reshape(-1, 3).mean(0), [255, 0, 0], atol=4)


def test_load_image_draft_decodes_big_jpegs_smaller_but_not_below_target():
    big = _encode(Image.fromarray(_blobs(0, 512, 640)), "JPEG")
    out = sketch.load_image(big, draft_size=128)
    assert 128 <= min(out.shape[:2]) < 512
    assert out.shape[1] * 512 == out.shape[0] * 640  # aspect kept


@pytest.mark.parametrize("data", [b"", b"this is not an image\n", None],
                         ids=["empty", "text", "truncated"])
def test_load_image_rejects_undecodable(data):
    if data is None:
        data = _encode(Image.fromarray(_blobs(1, 64, 64)), "JPEG")[:300]
    with pytest.raises(sketch.ImageError) as err:
        sketch.load_image(data)
    assert err.value.reason == "undecodable"


def test_load_image_rejects_too_small_and_too_large(monkeypatch):
    png = _encode(Image.new("RGB", (4, 3)), "PNG")
    with pytest.raises(sketch.ImageError, match="too_small") as err:
        sketch.load_image(png, min_size=4)
    assert err.value.reason == "too_small"
    with pytest.raises(sketch.ImageError, match="too_large") as err:
        sketch.load_image(png, max_pixels=11)
    assert err.value.reason == "too_large"
    assert sketch.load_image(png, min_size=3, max_pixels=12).shape == (3, 4, 3)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 11)  # Pillow's own bomb check, at open
    with pytest.raises(sketch.ImageError, match="too_large") as err:
        sketch.load_image(png)
    assert err.value.reason == "too_large"


# --- resize_and_crop --------------------------------------------------------------------------


def _ramp(height: int, width: int, axis: int) -> np.ndarray:
    """(H, W, 3) uint8 whose value is the row (axis 0) or column (axis 1) index."""
    index = np.indices((height, width))[axis].astype(np.uint8)
    return np.repeat(index[..., None], 3, axis=2)


@pytest.mark.parametrize("crop, first_row", [("auto", 0), ("center", 2)])
def test_crop_of_portrait_is_top_aligned_for_auto_and_centered_for_center(crop, first_row):
    out = sketch.resize_and_crop(_ramp(8, 4, axis=0), size=4, crop=crop)  # no resize needed
    np.testing.assert_array_equal(out[:, 0, 0], np.arange(first_row, first_row + 4))


@pytest.mark.parametrize("crop", ["auto", "center"])
def test_crop_of_landscape_is_centered(crop):
    out = sketch.resize_and_crop(_ramp(4, 8, axis=1), size=4, crop=crop)
    np.testing.assert_array_equal(out[0, :, 0], [2, 3, 4, 5])


def test_shrinking_averages_areas():
    blocks = np.arange(16, dtype=np.uint8).reshape(4, 4) * 10  # one value per 2x2 block
    image = np.repeat(np.repeat(blocks, 2, axis=0), 2, axis=1)
    out = sketch.resize_and_crop(np.dstack([image] * 3), size=4)
    np.testing.assert_array_equal(out[..., 1], blocks)


def test_resize_scales_short_side_then_crops_to_square():
    assert sketch.resize_and_crop(_blobs(2, 24, 16), size=32).shape == (32, 32, 3)  # enlarge
    assert sketch.resize_and_crop(_blobs(2, 300, 700), size=64).shape == (64, 64, 3)  # shrink
    with pytest.raises(ValueError):
        sketch.resize_and_crop(_blobs(2, 8, 8), size=4, crop="left")


# --- sketchify and complexity -----------------------------------------------------------------


def test_sketch_of_flat_image_is_all_paper():
    for value in (0, 128, 255):
        out = sketch.sketchify(np.full((9, 9, 3), value, np.uint8))
        assert out.dtype == np.uint8 and out.shape == (9, 9)
        assert (out == 255).all()


def test_sketch_marks_dark_line_as_zero_and_paper_as_255():
    img = np.full((15, 15, 3), 255, np.uint8)
    img[:, 7] = 0  # a one-pixel black vertical line
    expected = np.full((15, 15), 255, np.uint8)
    expected[:, 7] = 0
    np.testing.assert_array_equal(sketch.sketchify(img), expected)


def test_sketch_is_binary_and_accepts_gray_input():
    img = _blobs(3, 48, 40)
    out = sketch.sketchify(img)
    assert set(np.unique(out)) <= {0, 255}
    np.testing.assert_array_equal(sketch.sketchify(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)), out)


def test_larger_threshold_c_draws_fewer_lines():
    noisy = np.random.default_rng(4).integers(100, 156, (32, 32, 3), dtype=np.uint8)
    counts = [sketch.complexity(sketch.sketchify(noisy, 7, c)) for c in (0, 5, 20)]
    assert counts[0] > counts[1] > counts[2]


def test_complexity_is_percent_of_zero_pixels():
    assert sketch.complexity(np.full((4, 4), 255, np.uint8)) == 0.0
    assert sketch.complexity(np.zeros((4, 4), np.uint8)) == 100.0
    three = np.full((4, 4), 255, np.uint8)
    three.flat[[0, 5, 15]] = 0
    assert sketch.complexity(three) == pytest.approx(18.75)
    checker = (np.indices((6, 6)).sum(0) % 2 * 255).astype(np.uint8)
    assert sketch.complexity(checker) == pytest.approx(50.0)


# --- color cue --------------------------------------------------------------------------------

CUES = [sketch.color_cue, sketch.color_cue_exact]


@pytest.mark.parametrize("cue", CUES)
@pytest.mark.parametrize("shape", [(256, 256), (37, 100)])
def test_cue_of_constant_image_is_the_constant(cue, shape):
    img = np.empty(shape + (3,), np.uint8)
    img[:] = (200, 30, 90)
    np.testing.assert_array_equal(cue(img, 20.0), img)


@pytest.mark.parametrize("cue", CUES)
def test_cue_of_smooth_cosine_keeps_mean_and_attenuates_as_computed(cue):
    # A half-period cosine across the width is its own reflected extension, so the Gaussian blur
    # scales its amplitude by exactly exp(-(pi * sigma / W)**2 / 2): 0.9703 for sigma 20, W 256.
    width, sigma = 256, 20.0
    wave = np.cos(math.pi * (np.arange(width) + 0.5) / width)  # (W,)
    img = np.repeat(np.rint(128 + 100 * wave).astype(np.uint8)[None, :, None], 3, axis=2)
    img = np.repeat(img, 64, axis=0)  # (64, W, 3)
    gain = math.exp(-((math.pi * sigma / width) ** 2) / 2)
    expected = 128 + 100 * gain * wave
    out = cue(img, sigma).astype(np.float64)
    assert abs(out.mean() - img.mean()) < 0.5
    np.testing.assert_allclose(out[32, :, 1], expected, atol=1.0)


def _cue_error(img: np.ndarray, sigma: float = 20.0) -> float:
    out = sketch.color_cue(img, sigma)
    assert out.dtype == np.uint8 and out.shape == img.shape
    return float(np.abs(out.astype(np.float64) - sketch.color_cue_exact(img, sigma)).mean())


def _stripes(height: int, width: int, period: int) -> np.ndarray:
    on = (np.indices((height, width)).sum(0) // period) % 2 == 0  # diagonal hard-edged bands
    return np.where(on[..., None], np.uint8([250, 20, 20]), np.uint8([10, 10, 240]))


@pytest.mark.parametrize("img", [
    _blobs(10), _blobs(11), _blobs(12, 200, 333), _blobs(13, 61, 97), _blobs(14, 20, 20),
    _stripes(256, 256, 1), _stripes(256, 256, 16), _stripes(170, 300, 5),
    np.random.default_rng(15).integers(0, 256, (128, 96, 3), dtype=np.uint8),
], ids=["blobs", "blobs2", "blobs_landscape", "blobs_odd", "blobs_tiny", "stripes1",
        "stripes16", "stripes_nonsquare", "noise"])
def test_fast_cue_is_within_one_level_of_exact_blur(img):
    assert _cue_error(img) < 1.0


@pytest.mark.parametrize("sigma", [3.0, 10.0, 35.0])
def test_fast_cue_is_within_one_level_for_other_sigmas(sigma):
    assert _cue_error(_blobs(16), sigma) < 1.0


@pytest.mark.skipif(not REAL_DATA, reason="COLORIZE_REAL_DATA not set")
def test_fast_cue_is_within_one_level_on_real_faces():
    paths = sorted(glob.glob(os.path.join(REAL_DATA, "faces", "*.jpg")))[::40]
    assert paths
    errors = [_cue_error(sketch.load_image(p)) for p in paths]
    assert max(errors) < 1.0


# --- grayness ---------------------------------------------------------------------------------


def test_color_percent_counts_pixels_with_enough_chroma():
    img = np.full((2, 4, 3), 255, np.uint8)
    img[0, 0] = (124, 100, 100)  # chroma 24: colored
    img[0, 1] = (123, 100, 100)  # chroma 23: not
    img[1] = (255, 0, 0)  # a red row
    assert sketch.color_percent(img) == pytest.approx(100 * 5 / 8)
    assert sketch.color_percent(np.full((3, 3, 3), 77, np.uint8)) == 0.0


def test_gray_pages_are_gray_and_colored_art_is_not():
    gray = cv2.cvtColor(cv2.cvtColor(_blobs(20), cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    ok, jpeg = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, 70])  # 4:2:0 chroma noise
    sepia = np.clip(gray.astype(np.int16) + (10, 4, -8), 0, 255).astype(np.uint8)  # paper tint
    assert sketch.is_gray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR))
    assert sketch.is_gray(sepia)
    assert not sketch.is_gray(_blobs(20))
    assert sketch.is_gray(_blobs(20), min_color_percent=100.0)


def test_sketch_at_scale_is_the_plain_sketch_up_to_the_models_size():
    for shape in ((48, 40), (64, 64), (20, 64)):
        img = _blobs(5, *shape)
        np.testing.assert_array_equal(sketch.sketchify_at_scale(img, 64), sketch.sketchify(img))


def test_sketch_at_scale_is_the_models_sketch_brought_up():
    """Above the model's size: binary, the picture's size, and at the model's size the sketch the
    builder makes of the picture fit there (all but the resizes' edge pixels)."""
    img = _blobs(6, 300, 200)
    out = sketch.sketchify_at_scale(img, 64)
    assert out.shape == (300, 200) and set(np.unique(out)) <= {0, 255}
    small = cv2.resize(img, (43, 64), interpolation=cv2.INTER_AREA)
    back = cv2.resize(out, (43, 64), interpolation=cv2.INTER_AREA) < 128
    assert ((sketch.sketchify(small) == 0) == back).mean() > 0.97


def test_sketch_at_scale_leaves_out_texture_finer_than_the_model_sees():
    """A fine texture on a 512 px picture: the plain threshold marks it as lines all over, the
    model's-scale sketch keeps only the outline of the shape drawn on it."""
    yy, xx = np.mgrid[:512, :512]
    img = np.where(((yy // 2 + xx // 2) % 2)[..., None] == 0, 150, 190).astype(np.uint8)
    img = np.repeat(img, 3, axis=-1)
    radius = np.hypot(yy - 256, xx - 256)
    img[radius < 150] = (40, 60, 200)  # a disc
    plain, scaled = sketch.sketchify(img) == 0, sketch.sketchify_at_scale(img, 64) == 0
    away = np.abs(radius - 150) > 32  # farther than 4 model pixels from the disc's edge
    assert plain[away].mean() > 0.2 and not scaled[away].any()
    assert scaled[~away].mean() > 0.2  # the outline is drawn


def test_fitted_size_keeps_the_aspect_ratio_and_at_least_a_pixel():
    assert sketch.fitted_size(300, 200, 64) == (43, 64)  # (width, height)
    assert sketch.fitted_size(1, 2000, 256) == (256, 1)
    assert sketch.fitted_size(64, 64, 64) is None and sketch.fitted_size(20, 10, 64) is None
