"""The one exception type the CLI turns into a one-line message and exit code 2.

Each error carries a stable `reason` code beside its message (as `sketch.ImageError` does), so that
callers and tests can tell the reasons apart without matching the wording, which may change. The
codes are defined here, in families; a code names the reason, not the module that raises it.
"""

from __future__ import annotations

# Paths: a file or folder named by the user is missing, of the wrong kind, or in the way.
PATHS = {
    "not_found": "no such file or folder",
    "broken_link": "a symbolic link to nothing",
    "is_folder": "a folder where a file is expected",
    "not_a_folder": "a file (or anything but a folder) where a folder is expected",
    "not_regular_file": "a FIFO, device, socket or link where a regular file is expected",
    "unsupported_scheme": "a URL whose scheme no filesystem here handles",
    "exists": "an output that exists, without --overwrite",
    "not_empty": "an output folder that holds something, without --overwrite",
    "not_ours": "an output this tool did not write, which it refuses to replace",
    "overlaps_input": "an output that is one of the inputs, or would be written among them",
    "name_clash": "two inputs or outputs that would be written to the same file",
}

# System: the machine, the operating system or a helper process failed, not the input.
SYSTEM = {
    "read_failed": "could not read or list a file or folder (permissions, an I/O error)",
    "write_failed": "could not write or encode an output (a full disk, permissions)",
    "locked": "another process is writing into the same folder",
    "lock_failed": "the file system refused a lock (one without lock support)",
    "missing_dependency": "an optional package (an extra) is not installed",
    "worker_died": "a worker process died (out of memory, a crash)",
    "pipeline_failed": "a data-processing pipeline (Apache Beam) failed",
}

# Images: an image, or an image array given to the API, that cannot be used.
# The first three are `sketch.ImageError`'s reasons too.
IMAGES = {
    "undecodable": "not a readable image",
    "too_large": "more pixels or bytes than allowed",
    "too_small": "a side below the minimum",
    "unknown_extension": "a file name without an image extension this tool writes",
    "wrong_aspect": "a cue or hint layer of another aspect ratio than its sketch",
    "bad_array": "an array of the wrong dtype or shape for an image",
    "not_hint_layer": "an image without the transparent pixels of a hint layer",
}

# Data: input folders, datasets (TFRecords and their manifest), build parts and logs.
DATA = {
    "no_images": "no input images where some are expected",
    "all_rejected": "every input image was rejected",
    "no_records": "no records of the split needed",
    "bad_records": "records that cannot be read (a damaged shard)",
    "wrong_size": "records of another image size than the model's",
    "too_few_examples": "fewer examples than one batch",
    "no_manifest": "no manifest: not a finished build",
    "bad_manifest": "a manifest that cannot be parsed",
    "incomplete_part": "a build part without one of the files its manifest lists",
    "mismatched_parts": "build parts with different settings or inputs",
    "missing_parts": "not parts 0..N-1 of one build, each once",
    "bad_log": "a line of a log (posts.jsonl...) that is not a record",
    "bad_archive": "a chapter archive (.cbz, .zip) that is not a readable zip, or a damaged entry",
    "unsafe_archive": "an archive with entries that escape it, links, encryption or archives",
}

# Runs: run folders, checkpoints, models and what a model can take.
RUNS = {
    "not_a_run": "not a run folder",
    "bad_config": "a run config that cannot be read",
    "no_checkpoint": "a run without checkpoints",
    "bad_checkpoint": "a checkpoint or model file that does not fit the run",
    "not_a_model": "not a model file",
    "wrong_model": "a model of another kind or shape than expected",
    "resume_mismatch": "a resume that would change what a run cannot change",
    "unsupported_condition": "a cue or hint layer given to a model that does not take it",
    "diverged": "training produced a non-finite loss",
    "out_of_step": "the workers of one run disagree on its state",
}

# Flags: command-line options, environment variables and API arguments.
FLAGS = {
    "bad_value": "a value out of range, of the wrong form, or not among the choices",
    "missing_value": "a value that must be given was not",
    "conflicting": "values that cannot go together",
}

# Boards: the image boards that `colorize scrape` talks to over the network.
BOARDS = {
    "bad_reply": "an answer that is not in the board's format",
    "too_many_tags": "more search tags than the board allows the account",
    "challenged": "a Cloudflare browser challenge: the board blocks this client",
    "throttled": "the board keeps answering 429 (too many requests)",
    "listing_failed": "the search listing failed after the allowed retries",
}

FAMILIES: dict[str, dict[str, str]] = {
    "paths": PATHS, "system": SYSTEM, "images": IMAGES, "data": DATA, "runs": RUNS,
    "flags": FLAGS, "boards": BOARDS,
}
REASONS: frozenset[str] = frozenset(code for family in FAMILIES.values() for code in family)

def family(reason: str) -> str:
    """The family of a reason code ("paths", "data", ...); KeyError for an unknown code."""
    for name, codes in FAMILIES.items():
        if reason in codes:
            return name
    raise KeyError(reason)


class ColorizeError(Exception):
    """Bad input or a refused operation; the message names the file and the reason.

    `str(err)` is the message, printed as is by the CLI; `err.reason` is a stable code from
    `REASONS` (e.g. "not_found", "not_empty") for callers and tests.
    """

    exit_code = 2

    def __init__(self, message: str, *, reason: str):
        if reason not in REASONS:
            raise ValueError(f"unknown reason code {reason!r} (colorize.errors.REASONS)")
        super().__init__(message)
        self.reason = reason

    def __reduce__(self):
        # Pickled through its state, not by calling __init__ again (whose arguments a subclass may
        # change), so that the error and its reason cross process boundaries (worker pools, Beam).
        return _restore, (type(self), self.args, self.__dict__)


def _restore(cls: type, args: tuple, state: dict) -> BaseException:
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err
