"""The run folder: where training writes a run, and where every other command reads it.

    config.json           the full TrainConfig
    checkpoints/          tf.train.CheckpointManager: both models, both optimizers, step, epoch
    logs/                 TensorBoard scalars and per-epoch image grids
    samples/epoch_NNN.png held-out rows of the experiment's grid columns, one file per epoch
    metrics.jsonl         per epoch: mean losses and held-out L1 / PSNR / SSIM
    generator.keras       the trained generator, written at the end
    evaluation-*.json     `colorize evaluate` results

Training, inference, evaluation, export, the notebooks and the app all use this class, so the layout
is written down once.
"""

from __future__ import annotations

import datetime
import errno
import os
import re
import stat
from typing import TYPE_CHECKING

from colorize import fileio
from colorize.errors import ColorizeError

if TYPE_CHECKING:  # the config imports TensorFlow (through the experiments): only when read
    from colorize.config import TrainConfig

CONFIG = "config.json"
GENERATOR = "generator.keras"

# What this project's killed writes leave, by the writers' own temporary names (nothing else is
# removed): config.json.tmp (fileio), generator.tmp.keras (run_outputs) and samples as
# epoch_NNN.tmp.png (fileio). colorize.checkpoints cleans up after TensorFlow's checkpoint writer.
_TMP_SAMPLE = re.compile(r"epoch_\d{3,}\.tmp\.png")
_TMP_RUN_FILE = re.compile(r"config\.json\.tmp|generator\.tmp\.keras")

_SPECIAL_FILES = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device",
                  stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


def not_readable(path: str, missing: str = "no such file", *, folder: bool = False
                 ) -> ColorizeError:
    """The ColorizeError to raise where `path` is not what a command reads, saying what it is:
    missing (`missing`, reason "not_found"), a broken link ("broken_link"), a folder
    ("is_folder"), a file ("not_a_folder"), or a FIFO, device or socket ("not_regular_file", or
    "not_a_folder" when `folder`: a folder is what the command reads). It only stat()s the path:
    opening a FIFO would block until something writes to it."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return ColorizeError(f"{path}: is a broken link (to {os.readlink(path)})",
                                 reason="broken_link")
        return ColorizeError(f"{path}: {missing}", reason="not_found")
    except OSError as err:  # permission denied on a parent, a link loop, ...
        reason = {errno.ENOTDIR: "not_found", errno.ELOOP: "broken_link"}.get(err.errno,
                                                                               "read_failed")
        return ColorizeError(f"{path}: {err.strerror or err}", reason=reason)
    if stat.S_ISDIR(mode):
        return ColorizeError(f"{path}: is a folder", reason="is_folder")
    if stat.S_ISREG(mode):
        return ColorizeError(f"{path}: is a file", reason="not_a_folder")
    kind = _SPECIAL_FILES.get(stat.S_IFMT(mode), "of an unknown type")
    return ColorizeError(f"{path}: is not a regular file ({kind})",
                         reason="not_a_folder" if folder else "not_regular_file")


def require_file(path: str) -> None:
    """ColorizeError unless `path` is a regular file (or a link to one), saying what it is
    instead: "is a folder", "is not a regular file (a FIFO)", "no such file"; its reason is
    `not_readable`'s."""
    if not os.path.isfile(path):
        raise not_readable(path)


class RunFolder:
    """The paths of one run folder, and reading its config and newest checkpoint."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self.config_path = os.path.join(self.path, CONFIG)
        self.checkpoints = os.path.join(self.path, "checkpoints")
        self.logs = os.path.join(self.path, "logs")
        self.samples = os.path.join(self.path, "samples")
        self.metrics = os.path.join(self.path, "metrics.jsonl")
        self.generator = os.path.join(self.path, GENERATOR)

    def __repr__(self) -> str:
        return f"RunFolder({self.path!r})"

    @staticmethod
    def is_run(path: str | os.PathLike) -> bool:
        """Whether `path` is a run folder (it has a config.json)."""
        return os.path.isfile(os.path.join(os.fspath(path), CONFIG))

    @classmethod
    def open(cls, path: str | os.PathLike) -> RunFolder:
        """An existing run folder; ColorizeError when `path` is not one."""
        path = os.fspath(path)
        if os.path.isfile(path):
            raise ColorizeError(f"{path}: is a file, not a run folder", reason="not_a_folder")
        if not os.path.isdir(path):
            raise not_readable(path, "no such run folder", folder=True)
        if not cls.is_run(path):
            raise ColorizeError(f"{path}: not a run folder (no {CONFIG})", reason="not_a_run")
        return cls(path)

    def sample_path(self, epoch: int) -> str:
        return os.path.join(self.samples, f"epoch_{epoch:03d}.png")

    def evaluation(self, split: str, experiment: str) -> str:
        """Where `colorize evaluate` writes its results by default."""
        return os.path.join(self.path, f"evaluation-{split}-{experiment}.json")

    def config(self) -> TrainConfig:
        """The run's config; ColorizeError when config.json is not a valid one."""
        from colorize.config import TrainConfig

        try:
            return TrainConfig.load(self.path)
        except (OSError, ValueError, TypeError) as err:  # bad JSON, unknown values
            raise ColorizeError(f"{self.config_path}: not a valid run config ({err})",
                                reason="bad_config") from None

    def create(self) -> None:
        """Make the folder and its subfolders (config.json comes with `write_config`)."""
        for sub in (self.checkpoints, self.logs, self.samples):
            os.makedirs(sub, exist_ok=True)

    def remove_temporaries(self) -> list[str]:
        """Remove what killed writes of config.json, the generator and samples left under their
        temporary names, and return their paths; nothing else is touched."""
        return remove_files(self.samples, _TMP_SAMPLE) + remove_files(self.path, _TMP_RUN_FILE)

    def write_config(self, cfg: TrainConfig) -> None:
        fileio.write_text(self.config_path, cfg.to_json() + "\n")

    def latest_checkpoint(self) -> str | None:
        """The path prefix of the newest checkpoint, or None: what tf.train.latest_checkpoint reads
        from the CheckpointManager's text index, checked to exist."""
        index = os.path.join(self.checkpoints, "checkpoint")
        try:
            with open(index, encoding="utf-8") as f:
                found = re.search(r'^model_checkpoint_path: "(.*)"$', f.read(), re.MULTILINE)
        except OSError:
            return None
        if not found:
            return None
        path = os.path.join(self.checkpoints, found.group(1))
        return path if os.path.exists(path + ".index") else None

    def require_checkpoint(self) -> str:
        path = self.latest_checkpoint()
        if path is None:
            raise ColorizeError(f"{self.path}: no checkpoints in {self.checkpoints} (train the "
                                "run first, or pass --model FILE)", reason="no_checkpoint")
        return path

    def step(self) -> int | None:
        """The training step of the newest checkpoint (`ckpt-<step>`), or None."""
        path = self.latest_checkpoint()
        found = re.search(r"-(\d+)$", path or "")
        return int(found.group(1)) if found else None

    def trained_at(self) -> datetime.datetime | None:
        """When the newest checkpoint was written (local time), or None."""
        path = self.latest_checkpoint()
        if path is None:
            return None
        return datetime.datetime.fromtimestamp(os.path.getmtime(path + ".index"))


def list_names(folder: str) -> list[str]:
    """The sorted names in `folder`; [] when it cannot be listed."""
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def remove_files(folder: str, pattern: re.Pattern) -> list[str]:
    """Remove the regular files (not links) in `folder` whose whole name matches `pattern`, and
    return the paths removed."""
    removed = []
    for name in list_names(folder):
        path = os.path.join(folder, name)
        if pattern.fullmatch(name) and os.path.isfile(path) and not os.path.islink(path):
            removed += remove_quietly(os.remove, path)
    return removed


def remove_quietly(remove, path: str) -> list[str]:
    """[path] once `remove(path)` removed it; [] when it could not (the run then fails on its
    first write there, with that write's own message)."""
    try:
        remove(path)
    except OSError:
        return []
    return [path]
