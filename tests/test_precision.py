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
    settings = dict(image_size=32, width=8, batch_size=8, epochs=3, steps_per_epoch=25,
                    jitter=False, eval_images=0, num_samples=1)
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
    epochs = _train(demo_records, tmp_path / "run", precision="float32", epochs=2)
    assert all(np.isfinite([e["gen_total_loss"] for e in epochs]))
    assert epochs[-1]["gen_l1_loss"] < epochs[0]["gen_l1_loss"]
