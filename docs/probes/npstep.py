"""C's numpy steps alone: records the numpy_function calls C's training input makes for N
examples of faces256's train split (eagerly, jittered, C's defaults), replays them in one thread,
and prints CPU ms per example, a digest of every numpy step's output and one of the examples
themselves (generator input and color), so that two trees can be compared (the same second
digest: the same generator inputs bit for bit; the first changes with which steps run).
docs/performance.md, "C's generator input assembled in place". Usage, in the folder holding
faces256:
    python docs/probes/npstep.py [N]                            # this tree
    PYTHONPATH=/tmp/old python /tmp/old/docs/probes/npstep.py   # another tree (a git worktree)
(the probe itself only needs colorize.data and colorize.config, so an older tree runs it too;
`record_steps` is gilscale.py's recording too)."""
import collections, hashlib, os, sys, time
import numpy as np
import tensorflow as tf
from colorize import data, records
from colorize.config import preset

def record_steps(n: int):
    """The numpy_function calls C's training input makes for the first `n` examples of
    faces256's train split, eagerly, as (func, copied args); and a digest of the examples."""
    calls, plain = [], tf.numpy_function

    def recording(func, inp, Tout, stateful=True, name=None):
        calls.append((func, [np.array(a) for a in inp]))
        return plain(func, inp, Tout, stateful=stateful, name=name)

    tf.numpy_function = recording
    try:
        fn = data._example_fn(preset("C", batch_size=4), jitter=True, keep_cue=False)
        seeds = tf.data.Dataset.random(seed=5).batch(4)
        examples = hashlib.sha256()  # the generator inputs and targets themselves, end to end
        shards = records.shard_paths("faces256", "train")
        for serialized, seed in zip(tf.data.TFRecordDataset(shards).take(n), seeds):
            for tensor in fn(serialized, seed):
                examples.update(tensor.numpy().tobytes())
    finally:
        tf.numpy_function = plain
    return calls, examples


if __name__ == "__main__":
    N = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    calls, inputs = record_steps(N)
    digest = hashlib.sha256()
    for func, args in calls:
        digest.update(np.ascontiguousarray(func(*[a.copy() for a in args])).tobytes())
    per = collections.defaultdict(list)
    for _ in range(3):
        spent = collections.Counter()
        for func, args in calls:
            args = [a.copy() for a in args]
            start = time.thread_time()
            func(*args)
            spent[func.__qualname__.split(".")[0]] += time.thread_time() - start
        for kind, seconds in spent.items():
            per[kind].append(seconds / N * 1000)
    print(f"{N} examples, {len(calls)} numpy steps, outputs' sha256 {digest.hexdigest()[:16]}, "
          f"the examples' (generator input, color) sha256 {inputs.hexdigest()[:16]}")
    for kind, ms in per.items():
        print(f"  {kind:18s} " + " ".join(f"{m:.2f}" for m in ms) + " ms per example (3 replays)")
    os._exit(0)
