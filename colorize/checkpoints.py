"""A run's checkpoints: one tf.train.Checkpoint of everything a resume needs (both networks, both
optimizers, the step counters), kept by a tf.train.CheckpointManager in the run's checkpoints/.

The manager writes under temporary names, so a failed or killed save leaves the last good
checkpoint as it was. Every worker takes part in saving (a collective under
MultiWorkerMirroredStrategy); only the chief's copy is kept, the others write to a scratch folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

import tensorflow as tf

from colorize.errors import ColorizeError
from colorize.runfolder import RunFolder, list_names, remove_files, remove_quietly

# What a killed CheckpointManager.save leaves, by TensorFlow's own temporary names (nothing else is
# removed): the `checkpoint` index as checkpoint.tmp<uuid hex> (file_io.atomic_write_string_to_file)
# and a checkpoint's shards in <prefix>-<step>_temp/ (functional_saver), each shard first as
# NAME.tempstate<random> (tensor_bundle).
_TMP_INDEX = re.compile(r"checkpoint\.tmp[0-9a-f]{32}")
_TMP_SHARDS = re.compile(r"ckpt-\d+_temp")
_SHARD = re.compile(r"part-\d{5}-of-\d{5}\.(index|data-\d{5}-of-\d{5})(\.tempstate\d+)?")


class Checkpoints:
    """Save, restore and clean up the checkpoints of one run folder, as the chief or as another
    worker (whose saves go to a scratch folder, removed at `close`)."""

    def __init__(self, run: RunFolder, *, chief: bool, keep: int, **objects):
        self.run = run
        self._checkpoint = tf.train.Checkpoint(**objects)
        self._scratch = None if chief else tempfile.mkdtemp(prefix="colorize-worker-")
        directory = RunFolder(self._scratch).checkpoints if self._scratch else run.checkpoints
        self._manager = tf.train.CheckpointManager(self._checkpoint, directory, max_to_keep=keep)

    @property
    def latest(self) -> str | None:
        """The last good checkpoint, for messages about a run that stopped."""
        return self._manager.latest_checkpoint

    def restore(self) -> str | None:
        """Restore the run folder's newest checkpoint and return its path; None when there is none.
        ColorizeError when it does not fit these objects (a run of another model)."""
        path = self.run.latest_checkpoint()
        if path is None:
            return None
        try:
            self._checkpoint.restore(path).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as err:
            raise ColorizeError(f"{path}: does not fit this run's config ({type(err).__name__}: "
                                f"{_first_line(err)[:200]})", reason="bad_checkpoint") from None
        return path

    def remove_leftovers(self) -> list[str]:
        """Remove what a killed save left in checkpoints/, and return the paths: a SIGKILL in the
        middle of a save leaves checkpoint.tmp<hex> and ckpt-N_temp/, which nothing else ever
        removes. Only TensorFlow's own temporary names are touched, never a checkpoint, nor a
        ckpt-N_temp folder that holds anything but checkpoint shards."""
        if self._scratch:  # only the chief writes, or cleans, the run folder
            return []
        folder = self.run.checkpoints
        removed = remove_files(folder, _TMP_INDEX)
        for name in list_names(folder):
            path = os.path.join(folder, name)
            if (_TMP_SHARDS.fullmatch(name) and os.path.isdir(path) and not os.path.islink(path)
                    and all(_SHARD.fullmatch(n) for n in list_names(path))):
                removed += remove_quietly(shutil.rmtree, path)
        return removed

    def save(self, step: int) -> str | None:
        """Save checkpoint `step`; its path on the chief, None on other workers. A failed write
        (disk full) is a one-line error and leaves the last good checkpoint as it was."""
        try:
            path = self._manager.save(checkpoint_number=step)
        except (OSError, tf.errors.OpError) as err:
            raise ColorizeError(
                f"{self._manager.directory}: could not write the checkpoint of step "
                f"{step} ({type(err).__name__}: {_first_line(err)}); the last good "
                f"checkpoint is {self.latest}", reason="write_failed") from None
        return None if self._scratch else path

    def require_same_step(self, strategy: tf.distribute.Strategy, step: tf.Variable) -> None:
        """Every worker must start at the same step: one that cannot read the chief's checkpoints
        would otherwise train different weights in lockstep, silently."""
        if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return
        gather = tf.function(lambda: strategy.gather(
            strategy.run(lambda: tf.reshape(tf.identity(step), [1])), axis=0))
        steps = gather().numpy().tolist()  # one per replica
        if len(set(steps)) > 1:
            raise ColorizeError(
                f"{self.run.path}: the workers start at different steps {steps}: every worker "
                "must read the run folder's checkpoints (give all the same --out on a shared "
                "filesystem)", reason="out_of_step")

    def close(self) -> None:
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [""])[0]

