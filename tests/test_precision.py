"""Every speed mode trains correctly: mixed precision (with loss scaling for float16), XLA, and
input prefetched to the device through a one-device strategy (the single-GPU path, here on CPU)."""

import numpy as np
import pytest
import tensorflow as tf

from colorize import runtime
from colorize import train as train_lib
from colorize.config import preset
from colorize.pix2pix import Pix2Pix

pytestmark = pytest.mark.heavy  # trains models


def _losses(run_dir):
    import json
    with open(f"{run_dir}/metrics.jsonl") as f:
        return [json.loads(line) for line in f]


def _train(records, out, **kw):
    """Two epochs of 20 steps at 5x the paper's learning rate: the last epoch's mean L1 loss is
    about 2/3 of the first's here (3 epochs of 25 steps at 2e-4 gave about 3/4)."""
    settings = dict(image_size=32, width=8, batch_size=8, epochs=2, steps_per_epoch=20,
                    learning_rate=1e-3, jitter=False, eval_images=0, num_samples=1)
    cfg = preset("B", data=records, out=str(out), **{**settings, **kw})
    return _losses(train_lib.train(cfg, log=lambda *a: None))


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains(demo_records, tmp_path, precision):
    epochs = _train(demo_records, tmp_path / "run", precision=precision)
    l1 = [e["gen_l1_loss"] for e in epochs]
    assert all(np.isfinite([e["gen_total_loss"] for e in epochs]))
    assert l1[-1] < 0.8 * l1[0]


def test_float16_uses_loss_scaling():
    model = Pix2Pix(preset("A", image_size=32, width=4, precision="mixed_float16"))
    assert isinstance(model.gen_optimizer, tf.keras.optimizers.LossScaleOptimizer)
    assert model.generator.get_layer("down2_conv").compute_dtype == "float16"
    assert model.generator.output.dtype == "float32"


def test_auto_precision_follows_the_hardware(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_has_bf16", lambda: True)
    assert runtime.resolve_precision("auto") == "mixed_bfloat16"
    monkeypatch.setattr(runtime, "cpu_has_bf16", lambda: False)
    assert runtime.resolve_precision("auto") == "float32"
    assert runtime.resolve_precision("float32") == "float32"


def test_xla_trains(demo_records, tmp_path):
    epochs = _train(demo_records, tmp_path / "run", precision="float32", jit=True)
    l1 = [e["gen_l1_loss"] for e in epochs]
    assert all(np.isfinite(l1)) and l1[-1] < 0.8 * l1[0]


def test_one_device_strategy_prefetches_to_the_device_and_trains(demo_records, tmp_path,
                                                                monkeypatch):
    monkeypatch.setattr(runtime, "make_strategy",
                        lambda name: tf.distribute.OneDeviceStrategy("/cpu:0"))
    epochs = _train(demo_records, tmp_path / "run", precision="float32")
    assert all(np.isfinite([e["gen_total_loss"] for e in epochs]))
    assert epochs[-1]["gen_l1_loss"] < epochs[0]["gen_l1_loss"]


@pytest.fixture(scope="module")
def fresh_process():
    """Training's process-wide settings probed in one fresh process (this one's are already set
    when a test here has trained): malloc's mapped bytes for an 8 MB block before
    `runtime.keep_freed_memory` and for a 9 MB block after it (glibc's own count, mallinfo2; None
    off glibc >= 2.33), then OpenCV's thread count after `runtime.tune_input_pipeline`."""
    import subprocess
    import sys

    probe = (
        "import ctypes, numpy as np\n"
        "from colorize import runtime\n"
        "libc = ctypes.CDLL('libc.so.6')\n"
        "class Info(ctypes.Structure): _fields_ = [(n, ctypes.c_size_t) for n in "
        "'arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost'.split()]\n"
        "def mapped_by(size):\n"
        "    before = libc.mallinfo2().hblkhd\n"
        "    block = np.ones(size, np.uint8)\n"
        "    return libc.mallinfo2().hblkhd - before\n"
        "if hasattr(libc, 'mallinfo2'):\n"
        "    libc.mallinfo2.restype = Info\n"
        "    plain = mapped_by(8 << 20)\n"
        "    applied = runtime.keep_freed_memory()\n"
        "    print(applied, plain >= 8 << 20, mapped_by(9 << 20))\n"
        "else:\n"
        "    print(None)\n"
        "import cv2\n"
        "cv2.setNumThreads(4)\n"
        "runtime.tune_input_pipeline()\n"
        "print(cv2.getNumThreads())\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    return {"malloc": out[0].split(), "opencv_threads": out[1].split()}


def test_keep_freed_memory_makes_malloc_serve_large_blocks_from_its_heap(fresh_process):
    """`runtime.keep_freed_memory` (training's malloc setting): an 8 MB block, which glibc's
    malloc would map fresh from the kernel (and fault in page by page), comes from its reusable
    heap once it is set. Checked in a fresh process (a process-wide setting) with glibc's own
    count of mapped bytes (mallinfo2)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        pytest.skip("not glibc >= 2.33")
    assert fresh_process["malloc"] == ["True", "True", "0"]


def test_tune_input_pipeline_turns_opencv_threads_off(fresh_process):
    """`runtime.tune_input_pipeline` (training's process settings): OpenCV runs each call on the
    calling thread (tf.data's map already runs one example per core). In a fresh process: a
    process-wide setting."""
    assert fresh_process["opencv_threads"] == ["1"]
