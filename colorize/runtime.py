"""Where and how training runs: numeric precision (a Keras dtype policy name, passed explicitly to
the model builders), the tf.distribute strategy, and the process settings of the input pipeline
(malloc's, OpenCV's threads)."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os

import tensorflow as tf


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX), from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_precision(name: str) -> str:
    """`auto`: mixed_float16 on GPUs with tensor cores, mixed_bfloat16 on bf16 CPUs, else float32."""
    if name != "auto":
        return name
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
        return "mixed_float16" if capability and capability >= (7, 0) else "float32"
    return "mixed_bfloat16" if cpu_has_bf16() else "float32"


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks of up to 32 MiB for reuse (M_MMAP_THRESHOLD,
    M_TRIM_THRESHOLD) instead of handing each one back to the system when freed: the input
    pipeline allocates and frees several MB per example (C's generator input alone is 2.4 MB at
    256 px, then its batch), and every fresh block costs the kernel a page fault and a zeroed page
    per 4 KiB. Measured +15 % for C's pipeline under a benchmark that held every batch it made;
    with each batch dropped as training drops it, no difference beyond the machine's noise
    (docs/performance.md). A process-wide setting, so training calls it once (`Trainer`);
    returns whether it applied (False off glibc)."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's <malloc.h>
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 256 << 20))


def serial_opencv() -> None:
    """Turn OpenCV's own thread pool off (`cv2.setNumThreads(0)`): the input pipeline already runs
    one example per core (tf.data's parallel map), and OpenCV splitting each of C's small calls
    (a 256 px distance transform, connected components, a blur) across its threads spent more CPU
    waking and spinning them than it saved: C's pipeline took 4-6 % less CPU per image without
    it (docs/performance.md), the outputs the same bit for bit. Process-wide."""
    import cv2

    cv2.setNumThreads(0)


def tune_input_pipeline() -> None:
    """The process settings the tf.data input pipeline runs best under (`keep_freed_memory`,
    `serial_opencv`); training calls it once (`Trainer`), as does the pipeline benchmark."""
    keep_freed_memory()
    serial_opencv()


def device_summary() -> str:
    """Where training runs, for its first line: the CLI hides TensorFlow's own device messages."""
    gpus = tf.config.list_physical_devices("GPU")
    return f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''}" if gpus else "CPU, no GPU found"


def _workers_in_tf_config() -> int:
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def resolve_strategy(name: str, num_gpus: int | None = None) -> str:
    """The strategy to use: `auto` is multiworker if TF_CONFIG lists several workers, mirrored
    on several GPUs, else one."""
    if name != "auto":
        return name
    if num_gpus is None:
        num_gpus = len(tf.config.list_physical_devices("GPU"))
    return "multiworker" if _workers_in_tf_config() > 1 else "mirrored" if num_gpus > 1 else "one"


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The tf.distribute strategy named by `name` (see resolve_strategy for `auto`)."""
    gpus = tf.config.list_physical_devices("GPU")
    name = resolve_strategy(name, len(gpus))
    if name == "one":
        if gpus:  # variables on the GPU, and input batches prefetched to it by tf.distribute
            return tf.distribute.OneDeviceStrategy("/gpu:0")
        return tf.distribute.get_strategy()  # the default strategy: no distribution overhead
    if name == "mirrored":
        # NCCL all-reduce needs GPUs; the default cross-device ops fail with Adam on CPU devices.
        cross = None if gpus else tf.distribute.ReductionToOneDevice()
        return tf.distribute.MirroredStrategy(cross_device_ops=cross)
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """The worker that writes checkpoints, logs and exports (task 0 when there is no chief)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def worker_id(strategy: tf.distribute.Strategy) -> str:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return "chief"
    return f"{resolver.task_type}-{resolver.task_id}"
