"""The Beam runner (`colorize build --runner beam`): the build as an Apache Beam pipeline.

The same dataset as the local runner, made by the same per-file work (`process.process_file`,
`process.settle`, `process.example_of`), on any Beam runner (the DirectRunner in the tests;
Dataflow, Flink, Spark with their pipeline options, untested):

    files --Reshuffle--> process_file --key by (split, bucket) of the content hash--> GroupByKey
          --> one shard per group: duplicates dropped, examples written in id order

Everything that depends on an image's identity comes from its SHA-1, as in the local runner:
its split, its shard (`identity.bucket_of`), and so its duplicates, which land in the same group,
where the first copy in input order is kept. Shards hold about `shard_size` examples (the hash
spreads the examples over `ceil(examples / shard_size)` buckets); after the run the launcher
renames them to the usual `train-00000-of-00004` names and writes `rejected.jsonl` and
`manifest.json` from the pipeline's summary. A re-run refuses or replaces a dataset as the local
runner does.

Inputs and output are local paths, which every worker must see under the same path, or URLs of
any filesystem Beam has (`gs://` with `apache-beam[gcp]`, `s3://` with `apache-beam[aws]`, ...),
in any mix. For a URL, Beam's `FileSystems` lists the images (in the launcher), reads them and
writes the shards (in the workers). A local output folder is staged inside itself and installed
by `output.staged_output`, as by the local runner; a URL's, which an object store cannot rename
as a whole, is staged under the sibling prefix `OUT.build-<random>` and renamed into `OUT/` file
by file, `manifest.json` last (`staged_url_output`). Needs the `beam` extra:
`pip install -e ".[beam]"`. Beam is imported inside functions only, first by `build_dataset`
(quietly, and a one-line error without it), so importing this module needs no Beam and changes
no logging.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import secrets
import shutil
import tempfile
from typing import Iterable, Iterator, Sequence

from colorize import records
from colorize.build import output
from colorize.build.identity import Part, bucket_of, split_of
from colorize.build.process import (Outcome, example_of, find_images, list_images, process_file,
                                    read_capped, read_file, settle, usable_cores)
from colorize.errors import ColorizeError
from colorize.recipe import IMAGE_EXTENSIONS, BuildParams

SUMMARY = ".beam-summary.json"  # what the pipeline hands back to the launcher, in the staging dir


def _import_beam() -> None:
    """Import Apache Beam, quietly; a one-line error without the `beam` extra."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # Beam logs "apitools not found" when imported without [gcp]
    try:
        import apache_beam  # noqa: F401
        import apache_beam.io.filesystems  # noqa: F401
    except ImportError:
        raise ColorizeError("--runner beam needs Apache Beam: pip install -e '.[beam]'",
                            reason="missing_dependency") from None
    finally:
        logging.disable(previous)


def _filesystems():
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


def pipeline_options(beam_args: Sequence[str], workers: int | None):
    """Beam options: the DirectRunner on `workers` processes, then the user's `beam_args`."""
    from apache_beam.options.pipeline_options import PipelineOptions

    defaults = ["--runner=DirectRunner", "--direct_running_mode=multi_processing",
                f"--direct_num_workers={workers or usable_cores()}",
                "--default_sdk_harness_log_level=WARNING"]
    return PipelineOptions(defaults + list(beam_args))


def check_filesystem(path: str) -> None:
    """A one-line error for a URL whose scheme no Beam filesystem handles here."""
    filesystems = _filesystems()
    try:
        filesystems.get_filesystem(path)
    except ValueError:
        raise ColorizeError(f"{path}: no Beam filesystem for {filesystems.get_scheme(path)}:// "
                            "(gs:// needs apache-beam[gcp], s3:// apache-beam[aws])",
                            reason="unsupported_scheme") from None


def _paths(pattern: str) -> list[str]:
    return [m.path for m in _filesystems().match([pattern])[0].metadata_list]


def _delete(paths: list[str]) -> None:
    if paths:
        _filesystems().delete(paths)


def _write_text(path: str, text: str) -> None:
    with _filesystems().create(path) as f:
        f.write(text.encode("utf-8"))


def _read_text(path: str) -> str:
    with _filesystems().open(path) as f:
        return f.read().decode("utf-8")


def list_folder(root: str) -> list[tuple[tuple[str, str], int | None]]:
    """((path, path relative to `root`), size) of every image in the folder `root`.

    A local folder is `process.list_images`'s (size None: `read_file` checks it). For a URL,
    Beam's listing of everything under `root/`, with the same extension filter, names and
    order (by path), and each file's size from the listing.
    """
    if not output.is_url(root):
        return [(task, None) for task in list_images(root)]
    filesystems = _filesystems()
    prefix = root if root.endswith("/") else root + "/"
    try:
        found = filesystems.match([prefix + "**"])[0].metadata_list
    except OSError as err:  # BeamIOError: the listing failed (no such bucket, no access, ...)
        raise ColorizeError(f"{root}: cannot list: {err}", reason="read_failed") from err
    if not found:  # an object store has no empty folders
        exists = filesystems.exists(root)
        raise ColorizeError(f"{root}: {'not a' if exists else 'no such'} folder",
                            reason="not_a_folder" if exists else "not_found")
    return sorted(((m.path, m.path[len(prefix):]), m.size_in_bytes) for m in found
                  if m.path.lower().endswith(IMAGE_EXTENSIONS))


def read_url(path: str, size: int) -> bytes:
    """`process.read_file` for a URL of `size` bytes (from the listing), read through Beam."""
    from apache_beam.io.filesystem import CompressionTypes

    with _filesystems().open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        return read_capped(f, size)


def _as_bytes(files: list) -> list:
    """`list_folder`'s entries with the names as bytes (`os.fsencode`), for `beam.Create`.

    Beam encodes a `str` as strict UTF-8, so a Linux file name that is not UTF-8 (a `str` with
    surrogate escapes) would fail the whole pipeline; its bytes pass any coder unchanged.
    """
    return [((os.fsencode(path), os.fsencode(source)), size) for (path, source), size in files]


def _process(indexed: tuple[int, tuple[tuple[bytes, bytes], int | None]], params: BuildParams):
    """(index, outcome) of one listed file (names as bytes, `_as_bytes`): `process_file`,
    reading URLs through Beam.

    The outcome holds the names as `str` again, as the local runner's does: it travels on as an
    object of Beam's fallback coder (pickle), which keeps a name that is not UTF-8 exactly.
    """
    index, ((path, source), size) = indexed
    read = read_file if size is None else functools.partial(read_url, size=size)
    return index, process_file((os.fsdecode(path), os.fsdecode(source)), params, read=read)


def _keyed(indexed: tuple[int, Outcome], buckets: dict[str, int], params: BuildParams):
    """(group key, (input index, outcome)); files without content (unreadable) go alone."""
    index, outcome = indexed
    if not outcome.id:
        return ("", index), indexed
    split = split_of(outcome.id, params.test_fraction)
    return (split, bucket_of(outcome.id, buckets.get(split, 0))), indexed


def write_group(group, staging: str, params: BuildParams) -> Iterator:
    """Write one group's shard (duplicates dropped, in id order); yield what it holds.

    Yields ("shard", split, bucket, examples, histogram) when the group has accepted images, and
    ("rejected", input index, rejected.jsonl entry) per rejected file.
    """
    (split, bucket), members = group
    first_seen: dict[str, str] = {}
    accepted = []
    for index, outcome in sorted(members, key=lambda m: (m[1].id, m[0])):
        entry = settle(outcome, first_seen)
        if entry:
            yield "rejected", index, entry
        else:
            accepted.append(outcome)
    if not accepted:
        return
    write_records(_filesystems().join(staging, f"{split}-b{bucket:05d}"),
                  (example_of(outcome, params) for outcome in accepted))
    yield ("shard", split, bucket, len(accepted),
           output.complexity_histogram(outcome.complexity for outcome in accepted))


def write_records(path: str, examples: Iterable[bytes]) -> None:
    """A TFRecord file of `examples` at `path`, a local path or a URL.

    TensorFlow frames the records (`tf.io.TFRecordWriter`, in the worker): Beam's own framing,
    `tfrecordio._TFRecordUtil`, needs a crc32c package that neither Beam nor TensorFlow
    installs. For a URL the file is written on the worker's disk, then copied through Beam.
    """
    import tensorflow as tf

    if not output.is_url(path):
        with tf.io.TFRecordWriter(path) as writer:
            for example in examples:
                writer.write(example)
        return
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, "shard")
        write_records(local, examples)
        with open(local, "rb") as src, _filesystems().create(path) as dst:
            shutil.copyfileobj(src, dst)


def _write_summary(rows: list, staging: str) -> None:
    _write_text(_filesystems().join(staging, SUMMARY), json.dumps(rows))


def run_pipeline(files: list, staging: str, params: BuildParams, options):
    """Process `files` (`list_folder`'s) into shards `{split}-b{bucket}` and a summary, both in
    `staging`."""
    import apache_beam as beam

    with beam.Pipeline(options=options) as p:
        outcomes = (p
                    | "List" >> beam.Create(list(enumerate(_as_bytes(files))))
                    | "Spread" >> beam.Reshuffle()  # Create's one bundle -> all workers
                    | "Process" >> beam.Map(_process, params))
        buckets = (outcomes
                   | "Accepted" >> beam.FlatMap(
                       lambda m: [split_of(m[1].id, params.test_fraction)]
                       if not m[1].reason else [])
                   | "PerSplit" >> beam.combiners.Count.PerElement()
                   | "Buckets" >> beam.MapTuple(lambda s, n: (s, -(-n // params.shard_size))))
        _ = (outcomes
             | "Key" >> beam.Map(_keyed, beam.pvalue.AsDict(buckets), params)
             | "Group" >> beam.GroupByKey()
             | "Write" >> beam.FlatMap(write_group, staging, params)
             | "Gather" >> beam.combiners.ToList()
             | "Summary" >> beam.Map(_write_summary, staging))


def install_shards(staging: str, summary: list) -> tuple[dict, dict, list[int]]:
    """Rename the written groups to `train-00000-of-0000N` names; (shards, counts, histogram)."""
    filesystems = _filesystems()
    shards, counts, written, names = {}, {}, [], []
    for split in records.SPLITS:
        groups = sorted((r[2], r[3]) for r in summary if r[0] == "shard" and r[1] == split)
        shards[split] = [records.shard_name(split, i, len(groups)) for i in range(len(groups))]
        written += [f"{split}-b{bucket:05d}" for bucket, _ in groups]
        names += shards[split]
        counts[split] = sum(n for _, n in groups)
    if names:
        filesystems.rename([filesystems.join(staging, n) for n in written],
                           [filesystems.join(staging, n) for n in names])
    histograms = [row[4] for row in summary if row[0] == "shard"]
    histogram = [sum(column) for column in zip(output.complexity_histogram(()), *histograms)]
    return shards, counts, histogram


def _dataset_files(path: str) -> list[str]:
    """The dataset in the folder `path` (shards of any part, rejected.jsonl), the manifest last."""
    filesystems = _filesystems()
    names = [f"{split}-*-of-*" for split in records.SPLITS] + [output.REJECTED, output.MANIFEST]
    found = filesystems.match([filesystems.join(path, name) for name in names])
    return [m.path for r in found for m in r.metadata_list if not m.path.endswith(".tmp")]


def install_url_dataset(staging: str, out: str) -> None:
    """Replace the dataset in `out` by the one staged in `staging`, file by file.

    The old manifest goes first and the new one comes last, so that a reader who finds a
    manifest finds the whole dataset it lists; in between, `out` holds no manifest.
    """
    filesystems = _filesystems()
    old, new = _dataset_files(out), _dataset_files(staging)
    for paths in (old[-1:], old[:-1]):
        _delete(paths)
    for paths in (new[:-1], new[-1:]):
        filesystems.rename(paths, [filesystems.join(out, filesystems.split(p)[1]) for p in paths])


@contextlib.contextmanager
def staged_url_output(out: str, overwrite: bool) -> Iterator[str]:
    """`output.staged_output` for a URL: a staging prefix `OUT.build-<random>` beside `out`,
    installed into `out` by `install_url_dataset` when the block ends cleanly.

    As in the local runner, an interrupted build's staging prefixes are deleted, a non-empty
    `out` is refused unless `overwrite`, only its dataset files are replaced, and the staging
    prefix goes whatever happens; a filesystem error is a one-line `ColorizeError`.
    """
    out = out.rstrip("/")
    try:
        _delete(_paths(f"{out}{output.STAGING_PREFIX}*/**"))
        if _paths(f"{out}/**") and not overwrite:
            raise ColorizeError(f"{out}: folder is not empty (use --overwrite to replace its "
                                "dataset)", reason="not_empty")
        staging = f"{out}{output.STAGING_PREFIX}{secrets.token_hex(4)}"
        try:
            yield staging
            install_url_dataset(staging, out)
        finally:
            _delete(_paths(f"{staging}/**"))
    except OSError as err:  # Beam's BeamIOError
        raise ColorizeError(f"{out}: {err}", reason="write_failed") from err


def build_dataset(inputs: Iterable[str], out: str, params: BuildParams = BuildParams(), *,
                  beam_args: Sequence[str] = (), workers: int | None = None,
                  overwrite: bool = False) -> dict:
    """`local.build_dataset` on Beam: the same dataset, shard names and counts aside.

    `inputs` and `out` are local paths or URLs of Beam's filesystems, in any mix.
    """
    _import_beam()
    filesystems = _filesystems()
    inputs = list(inputs)
    for path in inputs + [out]:
        check_filesystem(path)
    options = pipeline_options(beam_args, workers)
    files = find_images(inputs, list_folder)
    staged_output = staged_url_output if output.is_url(out) else output.staged_output
    with staged_output(out, overwrite) as staging:
        try:
            run_pipeline(files, staging, params, options)
        except Exception as err:  # a worker's traceback: one line here, the whole in the cause
            lines = str(err).strip().splitlines() or [type(err).__name__]
            raise ColorizeError(f"{out}: the Beam pipeline failed: {lines[-1]}",
                                reason="pipeline_failed") from err
        summary_path = filesystems.join(staging, SUMMARY)
        summary = json.loads(_read_text(summary_path))
        filesystems.delete([summary_path])
        shards, counts, histogram = install_shards(staging, summary)
        rejected = [entry for _, _, entry in sorted(r for r in summary if r[0] == "rejected")]
        manifest = output.make_manifest(inputs, params, Part(), counts, rejected, histogram,
                                        len(files), shards)
        output.write_manifest(staging, manifest, output.rejected_jsonl(rejected), _write_text)
    return manifest
