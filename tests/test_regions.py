"""The line-bounded regions of a sketch and the paint-bucket fill of strokes (colorize.regions):
the graph form (use, export) proven equal to OpenCV's (training), eagerly and inside tf.data."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

from colorize import regions

RED, BLUE = (1.0, -1.0, -1.0), (-1.0, -1.0, 1.0)


def random_sketch(seed: int, size: int = 64) -> np.ndarray:
    """(size, size, 1) float32 model-space line art: random lines, circles and specks."""
    rng = np.random.default_rng(seed)
    canvas = np.full((size, size), 255, np.uint8)
    for _ in range(rng.integers(3, 12)):
        p, q = rng.integers(0, size, 2), rng.integers(0, size, 2)
        cv2.line(canvas, tuple(map(int, p)), tuple(map(int, q)), 0, int(rng.integers(1, 3)))
    for _ in range(rng.integers(0, 4)):
        c = tuple(map(int, rng.integers(0, size, 2)))
        cv2.circle(canvas, c, int(rng.integers(3, size // 3)), int(rng.integers(0, 120)), 1)
    specks = rng.random((size, size)) < 0.01
    canvas[specks] = 0
    return (canvas[..., None] / 127.5 - 1.0).astype(np.float32)


def random_hints(seed: int, size: int = 64, strokes: int = 6) -> np.ndarray:
    """(size, size, 4) model-space strokes: colors (0 unpainted) and mask."""
    rng = np.random.default_rng(seed + 1000)
    hints = np.zeros((size, size, 4), np.float32)
    for _ in range(strokes):
        color = (*rng.uniform(-1, 1, 3), 1.0)
        p, q = rng.integers(0, size, 2), rng.integers(0, size, 2)
        cv2.line(hints, tuple(map(int, p)), tuple(map(int, q)), color, int(rng.integers(1, 5)))
    return hints


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two label images split the pixels the same way (the label values may differ)."""
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1)
    return pairs.shape[1] == len(np.unique(a)) == len(np.unique(b))


@pytest.mark.parametrize("seed", range(6))
def test_the_graphs_regions_are_opencvs(seed):
    sketch = random_sketch(seed, 48 + 16 * seed)
    ours = regions.labels(tf.constant(sketch)).numpy()
    theirs, _ = regions.labels_np(sketch)
    assert same_partition(ours, theirs)
    np.testing.assert_array_equal(ours == 0, theirs == 0)  # the same line pixels
    assert len(np.unique(theirs)) > 2  # the sketches do have several regions


def test_regions_of_real_threshold_sketches_match_opencv(demo_records):
    from colorize.config import preset
    from colorize.data import make_dataset

    x, _ = next(iter(make_dataset(preset("A", image_size=32, batch_size=8), demo_records,
                                  training=False)))
    for sketch in x.numpy()[..., :1]:
        assert same_partition(regions.labels(tf.constant(sketch)).numpy(),
                              regions.labels_np(sketch)[0])


def test_a_small_gap_in_a_line_does_not_leak_and_a_wide_one_does():
    sketch = np.ones((32, 32, 1), np.float32)
    sketch[:, 15] = -1.0  # a vertical line splitting the page
    hints = np.zeros((32, 32, 4), np.float32)
    hints[10:14, 3:6] = (*RED, 1.0)
    for gap, leaks in ((2, False), (4, True)):
        broken = sketch.copy()
        broken[20:20 + gap, 15] = 1.0
        filled = regions.fill(tf.constant(hints), tf.constant(broken)).numpy()
        assert (filled[:, :13, 3] == 1).all()  # the left side, up to the thickened line
        assert filled[:, 18:, 3].any() == leaks
        np.testing.assert_allclose(filled[filled[..., 3] == 1][:, :3], np.tile(RED, (
            int(filled[..., 3].sum()), 1)), atol=1e-6)



@pytest.mark.parametrize("level, bounds", [(170, True), (200, False)])
def test_faint_pencil_lines_bound_regions_and_paper_does_not(level, bounds):
    """A line at uint8 `level` (faint pencil after `paper_to_white`: 170; near-white: 200) splits
    the page in both forms, or leaves one region."""
    page = np.full((32, 32), 255, np.uint8)
    page[:, 15] = level
    model = (page[..., None] / 127.5 - 1.0).astype(np.float32)
    hints = np.zeros((32, 32, 4), np.float32)
    hints[10:14, 3:6] = (*RED, 1.0)
    filled = regions.fill(tf.constant(hints), tf.constant(model)).numpy()
    assert filled[:, 20:, 3].any() != bounds
    np.testing.assert_allclose(filled, regions.fill_np(hints, model), atol=1e-6)
    assert same_partition(regions.labels_np(page)[0], regions.labels_np(model)[0])

def test_a_region_takes_the_mean_of_its_strokes_and_lines_are_never_filled():
    sketch = np.ones((24, 24, 1), np.float32)
    sketch[:, 11] = -1.0
    hints = np.zeros((24, 24, 4), np.float32)
    hints[2:4, 2:5] = (*RED, 1.0)  # 6 red pixels left
    hints[6:8, 2:5] = (*BLUE, 1.0)  # 6 blue pixels left
    hints[2:20, 11] = (*BLUE, 1.0)  # on the line only: no region of its own
    for filled in (regions.fill(tf.constant(hints), tf.constant(sketch)).numpy(),
                   regions.fill_np(hints, sketch)):
        np.testing.assert_allclose(filled[5, 0], (0.0, -1.0, 0.0, 1.0), atol=1e-6)  # the mean
        assert not filled[:, 10:13, 3].any()  # the thickened line
        assert not filled[:, 13:, 3].any()  # the right side: no stroke inside it


def test_the_confidence_says_whether_a_regions_strokes_agree():
    """Red and blue in one region (their mean is mud): near 0; one color: 1; a shade (0.1 apart
    in each channel, equal shares): exp(-3 * 0.05**2 / SPREAD); the colors are the means still."""
    sketch = np.ones((24, 36, 1), np.float32)
    sketch[:, 11] = sketch[:, 23] = -1.0  # three regions
    hints = np.zeros((24, 36, 4), np.float32)
    hints[2:4, 2:5] = (*RED, 1.0)
    hints[6:8, 2:5] = (*BLUE, 1.0)
    hints[2:8, 15:19] = (*RED, 1.0)
    hints[2:4, 27:30] = (0.5, 0.5, 0.5, 1.0)
    hints[6:8, 27:30] = (0.6, 0.6, 0.6, 1.0)
    shade = np.exp(-3 * 0.05 ** 2 / regions.SPREAD)
    for filled in (regions.fill(tf.constant(hints), tf.constant(sketch), True).numpy(),
                   regions.fill_np(hints, sketch, True)):
        np.testing.assert_allclose(filled[12, 0], (0.0, -1.0, 0.0, 0.0), atol=1e-5)
        np.testing.assert_allclose(filled[12, 14], (*RED, 1.0), atol=1e-5)
        np.testing.assert_allclose(filled[12, 26], (0.55, 0.55, 0.55, shade), atol=1e-4)
        assert not filled[:, 10:13, 3].any() and not filled[:, 22:25, 3].any()
    plain = regions.fill_np(hints, sketch)  # without: 1 in every touched region
    assert (plain[12, [0, 14, 26], 3] == 1).all()


@pytest.mark.parametrize("confidence", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_the_graphs_fill_is_opencvs_eagerly_and_inside_tf_data(seed, confidence):
    size = 32 + 16 * seed
    sketch, hints = random_sketch(seed, size), random_hints(seed, size)
    expected = regions.fill_np(hints, sketch, confidence)
    assert (expected[..., 3] > hints[..., 3]).sum() > 50  # the fill reaches beyond the strokes
    if confidence:  # (random strokes: some regions hold several colors)
        assert ((expected[..., 3] > 0) & (expected[..., 3] < 0.99)).any()
    fill = lambda h, s: regions.fill(h, s, confidence)
    np.testing.assert_allclose(fill(tf.constant(hints), tf.constant(sketch)).numpy(),
                               expected, atol=1e-4)
    data = tf.data.Dataset.from_tensors((hints, sketch))
    graph = next(iter(data.map(fill))).numpy()
    np.testing.assert_allclose(graph, expected, atol=1e-4)
    # C's training fills its strokes with fill_np inside tf.data: tests/test_experiment_c.py


def test_the_fill_runs_at_any_size_in_a_traced_graph():
    fn = tf.function(regions.fill, input_signature=[tf.TensorSpec([None, None, 4]),
                                                    tf.TensorSpec([None, None, 1])])
    for h, w in ((40, 24), (17, 61)):
        sketch, hints = random_sketch(h * w)[:h, :w], random_hints(h, 64)[:h, :w]
        np.testing.assert_allclose(fn(hints, sketch).numpy(), regions.fill_np(hints, sketch),
                                   atol=1e-5)
