"""`colorize build --runner beam`: the dataset builder as an Apache Beam pipeline.

The same dataset as the local builder (`colorize.build`), made by the same per-image function
(`build.process_file`), on any Beam runner (the DirectRunner in the tests; Dataflow, Flink,
Spark with their pipeline options, untested):

    files --Reshuffle--> process_file --key by (split, bucket) of the content hash--> GroupByKey
          --> one shard per group: duplicates dropped, examples written in id order

Everything that depends on an image's identity comes from its SHA-1, as in the local builder:
its split, its shard (`bucket`), and so its duplicates, which land in the same group, where the
first copy in input order is kept. Shards hold about `shard_size` examples (the hash spreads the
examples over `ceil(examples / shard_size)` buckets); after the run the launcher renames them to
the usual `train-00000-of-00004` names and writes `rejected.jsonl` and `manifest.json` from the
pipeline's summary. The output folder is staged and installed by `build.staged_output`, so a
re-run refuses or replaces a dataset exactly as the local builder does.

The launcher lists the files and reads and writes the output folder with the ordinary file
calls, so inputs and output are local or mounted paths (NFS, GCS FUSE, ...), which every worker
must see under the same path. Needs the `beam` extra: `pip install -e ".[beam]"`.
"""

from __future__ import annotations

import json
import os
from typing import Iterable, Iterator, Sequence

from colorize import build
from colorize.errors import ColorizeError
from colorize.recipe import BuildParams

SUMMARY = ".beam-summary.json"  # what the pipeline hands back to the launcher, in the staging dir


def _beam():
    try:
        import apache_beam
    except ImportError:
        raise ColorizeError("--runner beam needs Apache Beam: pip install -e '.[beam]'") from None
    return apache_beam


def pipeline_options(beam_args: Sequence[str], workers: int | None):
    """Beam options: the DirectRunner on `workers` processes, then the user's `beam_args`."""
    from apache_beam.options.pipeline_options import PipelineOptions

    defaults = ["--runner=DirectRunner", "--direct_running_mode=multi_processing",
                f"--direct_num_workers={workers or build.usable_cores()}",
                "--default_sdk_harness_log_level=WARNING"]
    return PipelineOptions(defaults + list(beam_args))


def bucket_of(image_id: str, buckets: int) -> int:
    """The shard group of an image, from bits of its hash that neither split nor part uses."""
    return int(image_id[16:24], 16) % max(buckets, 1)


def _keyed(indexed: tuple[int, build.Outcome], buckets: dict[str, int], params: BuildParams):
    """(group key, (input index, outcome)); files without content (unreadable) go alone."""
    index, outcome = indexed
    if not outcome.id:
        return ("", index), indexed
    split = build.split_of(outcome.id, params.test_fraction)
    return (split, bucket_of(outcome.id, buckets.get(split, 0))), indexed


def write_group(group, staging: str, params: BuildParams) -> Iterator:
    """Write one group's shard (duplicates dropped, in id order); yield what it holds.

    Yields ("shard", split, bucket, examples, histogram) when the group has accepted images, and
    ("rejected", input index, rejected.jsonl entry) per rejected file.
    """
    (split, bucket), members = group
    kept: dict[str, str] = {}  # id -> path of the first copy in input order
    accepted = []
    for index, outcome in sorted(members, key=lambda m: (m[1].id, m[0])):
        if outcome.id in kept:
            build.mark_duplicate(outcome, kept[outcome.id])
        elif outcome.id:
            kept[outcome.id] = outcome.path
        if outcome.reason:
            yield "rejected", index, build.rejection(outcome)
        else:
            accepted.append(outcome)
    if not accepted:
        return
    import tensorflow as tf  # in the worker: Beam has no TFRecord writer for a single file

    histogram = [0] * (100 // build.HISTOGRAM_BIN)
    with tf.io.TFRecordWriter(os.path.join(staging, f"{split}-b{bucket:05d}")) as writer:
        for outcome in accepted:
            writer.write(build.example_of(outcome, params))
            histogram[build.histogram_bin(outcome.complexity)] += 1
    yield "shard", split, bucket, len(accepted), histogram


def _write_summary(rows: list, staging: str) -> None:
    with open(os.path.join(staging, SUMMARY), "w", encoding="utf-8") as f:
        json.dump(rows, f)


def run_pipeline(files: list[tuple[str, str]], staging: str, params: BuildParams, options):
    """Process `files` into shards `{split}-b{bucket}` and a summary, both in `staging`."""
    beam = _beam()
    with beam.Pipeline(options=options) as p:
        outcomes = (p
                    | "List" >> beam.Create(list(enumerate(files)))
                    | "Spread" >> beam.Reshuffle()  # Create's one bundle -> all workers
                    | "Process" >> beam.MapTuple(
                        lambda index, task: (index, build.process_file(task, params))))
        buckets = (outcomes
                   | "Accepted" >> beam.FlatMap(
                       lambda m: [build.split_of(m[1].id, params.test_fraction)]
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
    from colorize import records

    shards, counts = {}, {}
    histogram = [0] * (100 // build.HISTOGRAM_BIN)
    for split in records.SPLITS:
        groups = sorted((r[2], r[3]) for r in summary if r[0] == "shard" and r[1] == split)
        shards[split] = [records.shard_name(split, i, len(groups)) for i in range(len(groups))]
        for (bucket, _), name in zip(groups, shards[split]):
            os.replace(os.path.join(staging, f"{split}-b{bucket:05d}"),
                       os.path.join(staging, name))
        counts[split] = sum(n for _, n in groups)
    for row in summary:
        if row[0] == "shard":
            histogram = [a + b for a, b in zip(histogram, row[4])]
    return shards, counts, histogram


def build_dataset(inputs: Iterable[str], out: str, params: BuildParams = BuildParams(), *,
                  beam_args: Sequence[str] = (), workers: int | None = None,
                  overwrite: bool = False) -> dict:
    """`build.build_dataset` on Beam: the same dataset, shard names and counts aside."""
    inputs = list(inputs)
    for path in inputs + [out]:
        if "://" in path:
            raise ColorizeError(f"{path}: --runner beam takes local or mounted paths only")
    options = pipeline_options(beam_args, workers)
    files = build.find_images(inputs)
    with build.staged_output(out, overwrite) as staging:
        try:
            run_pipeline(files, staging, params, options)
        except Exception as err:  # a worker's traceback: one line here, the whole in the cause
            lines = str(err).strip().splitlines() or [type(err).__name__]
            raise ColorizeError(f"{out}: the Beam pipeline failed: {lines[-1]}") from err
        with open(os.path.join(staging, SUMMARY), encoding="utf-8") as f:
            summary = json.load(f)
        os.remove(os.path.join(staging, SUMMARY))
        shards, counts, histogram = install_shards(staging, summary)
        rejected = [entry for _, _, entry in sorted(r for r in summary if r[0] == "rejected")]
        manifest = build._manifest(inputs, params, build.Part(), counts, rejected, histogram,
                                   len(files), shards)
        build.write_lists(staging, manifest, rejected)
    return manifest
