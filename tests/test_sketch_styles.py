"""Sketch styles (colorize.sketch_styles): what each style marks, eagerly and inside tf.data, the
weighted mix, the config's field and how a user's line art is prepared for what a run trained on."""

import json

import numpy as np
import pytest
import tensorflow as tf

from colorize import anysize, sketch_styles
from colorize.config import TrainConfig, preset
from colorize.data import with_sketch_style
from colorize.recipe import Recipe

SEED = tf.constant([3, 4], tf.int64)


def model(image):
    return tf.constant(np.asarray(image, np.float32) / 127.5 - 1.0)


def picture(size=256):
    """A flat light region, a darker region beside it (a color edge), a dark filled square and a
    thin dark line: (S, S, 3) uint8. The styles' scales are those of 256 px (XDoG's sigma is
    scaled with the image), so the geometry tests use 256 px and regions at 1/4 of these."""
    k = size // 64
    img = np.full((size, size, 3), 235, np.uint8)
    img[:, size // 2:] = (120, 160, 220)  # a color edge at the middle column
    img[8 * k:24 * k, 8 * k:24 * k] = 20  # a dark filled area (hair, say)
    img[40 * k:56 * k, 12 * k] = 10  # a thin line, one pixel wide
    return img


def at64(image):
    """Every 4th pixel of a 256 px result: the coordinates of `picture`'s docstring."""
    return image[::4, ::4]


def test_parse_names_weights_and_errors():
    assert sketch_styles.parse("xdog:2, threshold") == (("threshold", 1.0), ("xdog", 2.0))
    assert sketch_styles.canonical("lines,threshold:0.5") == "threshold:0.5,lines:1"
    assert sketch_styles.only_threshold("threshold:3")
    assert not sketch_styles.only_threshold("threshold,xdog")
    for bad, words in (("crayon", "unknown"), ("xdog:-1", "positive"), ("xdog:x", "number"),
                       ("xdog,xdog", "twice"), ("", "no sketch style"), ("xdog:nan", "positive")):
        with pytest.raises(ValueError, match=words):
            sketch_styles.parse(bad)


def test_lines_keep_drawn_lines_only():
    """The line-only style: ink on the thin line; none on flat paper, on the dark filled square
    (a dark area, not a line) or along the color edge."""
    full = sketch_styles.lines(model(picture()), SEED).numpy()[..., 0]
    assert set(np.unique(full)) <= {-1.0, 1.0}
    assert (full[168:216, 48] == -1).all()  # the thin line
    out = at64(full)
    assert (out[6:26, 6:26] == 1).all()  # the dark filled area and its edge: no ink
    assert (out[:, 28:36] == 1).all()  # around the color edge: no ink
    assert (out[28:36, 40:60] == 1).all()  # flat color
    xdog = sketch_styles.xdog(model(picture()), SEED).numpy()[..., 0]
    assert (xdog[24:104, 24:104] == -1).any()  # XDoG, unlike "lines", marks a dark area's edge


def test_xdog_is_binary_and_marks_lines():
    full = sketch_styles.xdog(model(picture()), SEED).numpy()[..., 0]
    assert set(np.unique(full)) <= {-1.0, 1.0}
    assert (full[168:216, 48] == -1).all()
    assert (at64(full)[28:36, 40:60] == 1).all()


def test_pencil_is_soft_gray_on_tinted_paper():
    out = sketch_styles.pencil(model(picture()), SEED).numpy()[..., 0]
    paper = at64(out)[28:36, 40:60]
    assert -1 < out.min() and out[168:216, 48].mean() < paper.mean() - 0.3
    assert 0.6 < paper.mean() < 0.95  # tinted: not white
    assert len(np.unique(np.round(out, 3))) > 20  # not binary


@pytest.mark.parametrize("style", ["xdog", "lines", "pencil"])
def test_a_pictures_sketch_of_any_aspect_ratio(style):
    """`sketch_of` (the style sweep's, and the user path's `--sketches STYLE` at the image's own
    size) on a 256 x 384 picture: its own shape, the thin line inked, flat areas paper, and the
    picture turned on its side gives the sketch turned on its side (the scales follow the long
    side, whichever it is)."""
    square = picture()
    wide = np.concatenate([square, np.full((256, 128, 3), 235, np.uint8)], axis=1)
    out = sketch_styles.sketch_of(style, wide, seed=3)
    assert out.shape == (256, 384) and out.dtype == np.uint8
    paper = out[112:144, 160:176].mean()
    assert paper > 200 and out[:, 300:].mean() > 200  # flat areas, old and new: paper
    assert out[160:224, 48].mean() < paper - 30  # the thin line is inked (pencil: soft gray)
    tall = sketch_styles.sketch_of(style, wide.transpose(1, 0, 2).copy(), seed=3)
    assert tall.shape == (384, 256)
    if style != "pencil":  # (pencil's grain is drawn per pixel, in row order)
        np.testing.assert_array_equal(tall, out.T)


def test_variations_change_width_darkness_and_softness_per_seed():
    lines = sketch_styles.lines(model(picture()), SEED)
    ink = lambda x: float((x.numpy() < 0).mean())
    variants = [sketch_styles.vary(lines, tf.constant([i, 0], tf.int64)) for i in range(40)]
    inks = [ink(v) for v in variants]
    assert max(inks) > ink(lines) * 1.5  # some thicker
    gray = [v for v in variants if -0.99 < v.numpy().min() < 0.0]
    assert gray  # some with gray (or softened) lines
    for v in variants:  # the thin line survives every variation
        assert v.numpy()[168:216, 48, 0].mean() < 0.5
        assert -1.0 <= v.numpy().min() and v.numpy().max() <= 1.0
    again = sketch_styles.vary(lines, tf.constant([7, 0], tf.int64))
    np.testing.assert_array_equal(again.numpy(), variants[7].numpy())


@pytest.mark.parametrize("style", sketch_styles.STYLES)
def test_styles_are_the_same_eagerly_and_in_tf_data(style):
    color = model(picture(32))
    stored = tf.where(color[..., :1] < 0.5, -1.0, 1.0)
    eager = [sketch_styles.make(style, color, tf.constant([i, 1], tf.int64), stored, True)
             for i in range(3)]
    ds = tf.data.Dataset.range(3).map(lambda i: sketch_styles.make(
        style, color, tf.stack([i, tf.constant(1, tf.int64)]), stored, True))
    for a, b in zip(eager, ds):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def faces(size: int, count: int = 4):
    """Real pictures when COLORIZE_REAL_DATA is set (the shared faces), else `picture` shifted."""
    import glob
    import os

    import cv2

    real = os.environ.get("COLORIZE_REAL_DATA")
    paths = sorted(glob.glob(os.path.join(real, "faces", "*.jpg")))[:count] if real else []
    if paths:
        return [cv2.resize(cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB), (size, size),
                           interpolation=cv2.INTER_AREA) for p in paths]
    return [np.roll(picture(size), 7 * i, axis=(0, 1)) for i in range(count)]


@pytest.mark.parametrize("spec,size", [
    *((spec, 256) for spec in ("xdog:1", "lines:1", "pencil:1",
                               "threshold:2,xdog:1,lines:1,pencil:1")),
    ("threshold:2,xdog:1,lines:1,pencil:1", 64)])
def test_the_opencv_fast_path_is_the_tensorflow_styles(spec, size):
    """`draw`'s fast path (OpenCV, in tf.data) makes the TensorFlow ops' sketches with the same
    random choices: equal but for float rounding, which flips a binary pixel only where a value
    sits on its threshold. Each style alone at 256 px, the styles' own scale; at 64 px (smaller
    elements and blurs) the mix, which draws every style."""
    images = faces(size)
    stored = tf.fill([size, size, 1], 0.25)
    pairs = []
    for i in range(24):
        color, seed = model(images[i % len(images)]), tf.constant([i, 5], tf.int64)
        pairs.append((sketch_styles.draw(spec, color, stored, seed, fast=True).numpy(),
                      sketch_styles.draw(spec, color, stored, seed, fast=False).numpy()))
    for fast, plain in pairs:
        assert fast.shape == plain.shape == (size, size, 1)
        off = np.abs(fast - plain) > 1e-4
        assert off.mean() <= 0.001, off.mean()  # binary flips at ties only
        assert np.abs(fast - plain)[~off].max(initial=0) <= 1e-4
    assert len({plain.tobytes() for _, plain in pairs}) > 12  # varied draws
    # inside tf.data, as training draws them
    color = model(images[0])
    ds = tf.data.Dataset.range(3).map(lambda i: sketch_styles.draw(
        spec, color, stored, tf.stack([i, tf.constant(5, tf.int64)])))
    for i, got in enumerate(ds):
        np.testing.assert_array_equal(got.numpy(), sketch_styles.draw(
            spec, color, stored, tf.constant([i, 5], tf.int64)).numpy())


def test_the_mix_draws_styles_by_their_weights_and_deterministically():
    color = model(picture(16))
    stored = tf.fill([16, 16, 1], 0.25)  # not a value any drawn style makes
    spec = "threshold:3,lines:1"
    drawn = [sketch_styles.draw(spec, color, stored, tf.constant([i, 0], tf.int64))
             for i in range(200)]
    share = np.mean([np.allclose(d.numpy(), 0.25) for d in drawn])
    assert 0.65 < share < 0.85  # 3 : 1
    again = sketch_styles.draw(spec, color, stored, tf.constant([5, 0], tf.int64))
    np.testing.assert_array_equal(again.numpy(), drawn[5].numpy())


def test_with_sketch_style_keeps_the_papers_sketch_beside_the_drawn_one():
    color = model(picture(16))
    ex = {"sketch": tf.fill([16, 16, 1], 0.25), "color": color, "cue": color,
          "seed": tf.constant([1, 2], tf.int64)}
    assert with_sketch_style(ex, "threshold:1") is ex
    mixed = with_sketch_style(ex, "lines:1")
    assert "paper_sketch" in mixed and not np.allclose(mixed["sketch"].numpy(), 0.25)


def test_the_config_resolves_styles_and_upsampling_per_experiment():
    assert preset("A").sketch_styles == "threshold:1" and preset("A").upsample == "transposed"
    assert preset("B").sketch_styles == "threshold:1"
    c = preset("C")
    assert c.sketch_styles == "threshold:8,xdog:1,lines:1" and c.upsample == "resize"
    assert "pencil" not in c.sketch_styles  # one style kept out of every default mix
    assert preset("C", sketch_styles="threshold").sketch_styles == "threshold:1"
    assert c.replace(experiment="B").sketch_styles == "threshold:1"
    with pytest.raises(ValueError, match="unknown sketch style"):
        preset("C", sketch_styles="crayon")
    # a config.json written before these fields existed was the paper's recipe
    old = json.loads(c.to_json())
    del old["sketch_styles"], old["upsample"]
    legacy = TrainConfig.from_json(json.dumps(old))
    assert (legacy.sketch_styles, legacy.upsample) == ("threshold:1", "transposed")
    assert TrainConfig.from_json(c.to_json()) == c


def test_a_flag_names_a_bad_style_in_one_line():
    from conftest import command_error

    err = command_error(["train", "--experiment", "C", "--sketch-styles", "crayon",
                         "--epochs", "1"])
    assert "crayon" in str(err) and err.reason == "bad_value"


def test_paper_to_white_stretches_levels_from_paper_to_ink():
    gray = np.full((20, 20, 1), 200.0, np.float32)
    gray[5:15, 10] = 100.0
    gray[5:15, 12] = 150.0
    out = anysize.paper_to_white(tf.constant(gray)).numpy()
    assert out[0, 0, 0] == 255.0 and out[8, 10, 0] == 0.0
    assert out[8, 12, 0] == np.round((150 - 100) * 255 / (200 - 100))
    binary = np.where(gray < 180, 0.0, 255.0).astype(np.float32)
    np.testing.assert_array_equal(anysize.paper_to_white(tf.constant(binary)).numpy(), binary)
    blank = np.full((8, 8, 1), 240.0, np.float32)
    blank[2, 2] = 230.0  # a speck of dust is not a line
    out = anysize.paper_to_white(tf.constant(blank)).numpy()
    assert out[0, 0, 0] == 255.0 and out[2, 2, 0] == np.round(230 * 255 / 240)


def _model_sketch(sketch: np.ndarray, size: int, binarize: bool) -> np.ndarray:
    """The sketch channel (size, size) of `anysize.model_input` for a uint8 sketch (H, W, 1)."""
    from colorize.experiments import of

    return anysize.model_input(tf.constant(sketch), tf.constant(np.full((1, 1, 3), 255, np.uint8)),
                               size, of("A"), binarize=binarize).numpy()[..., 0]


@pytest.mark.parametrize("binarize", [True, False])
def test_model_input_binarizes_only_for_threshold_trained_models(binarize):
    sketch = np.full((32, 32, 1), 230, np.uint8)
    sketch[8:24, 16] = 150  # a faint pencil line on tinted paper
    sketch[8:24, 20] = 190  # ... and a fainter one
    x = _model_sketch(sketch, 32, binarize)
    if binarize:
        assert set(np.unique(x)) <= {-1.0, 1.0}
    else:
        assert x[0, 0] == 1.0  # the tinted paper is white
        assert x[12, 16] == -1.0  # the darkest line is black
        assert -1.0 < x[12, 20] < 0.5  # the fainter one stays gray
    assert Recipe.default(32).binary_sketches


def test_thin_lines_of_large_line_art_reach_the_model_drawn():
    """A 1 px pencil line of a 256 px drawing stays a dark, unbroken line at the model's 64 px
    (halved by a minimum), where a plain resize fades it to a light gray."""
    sketch = np.full((256, 192, 1), 240, np.uint8)
    sketch[40:200, 101] = 100  # a 1 px vertical line
    sketch[150, 20:170] = 100  # ... and a horizontal one
    sketch[30, 30] = 0  # the darkest speck: the ink level
    x = _model_sketch(sketch, 64, binarize=False)  # (64, 64): the window is 48 wide, left 8
    column = x[12:48, 8 + 101 // 4]
    row = x[150 // 4, 8 + 6:8 + 40]
    assert column.max() < 0.0 and row.max() < 0.0  # every pixel along them inked
    plain = tf.image.resize(tf.constant(sketch, tf.float32), [64, 48], antialias=True).numpy()
    assert plain[12:48, 101 // 4].min() > 180  # a plain resize: a light gray (paper 240)
    assert x[0, 8] == 1.0  # the paper is white


def test_halving_keeping_lines_in_a_traced_graph_of_any_size():
    fn = tf.function(anysize.halve_keeping_lines, input_signature=[
        tf.TensorSpec([None, None, 1], tf.float32), tf.TensorSpec([], tf.int32),
        tf.TensorSpec([], tf.int32)])
    gray = np.full((100, 70, 1), 255.0, np.float32)
    gray[50, :] = 0.0
    out = fn(tf.constant(gray), tf.constant(25), tf.constant(17)).numpy()
    assert out.shape == (25, 18, 1)  # halved twice (100 -> 50 -> 25, 70 -> 35 -> 18)
    assert (out[12, :, 0] == 0.0).all() and (out[0, :, 0] == 255.0).all()
    same = fn(tf.constant(gray), tf.constant(80), tf.constant(56)).numpy()
    np.testing.assert_array_equal(same, gray)  # less than 1.5 times the size: as it was
