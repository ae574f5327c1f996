"""`emolens batch`: every photo and video of an archive to Parquet (faces/ and sources.parquet in --out).

Inputs are files, folders (searched recursively), globs and a --manifest; photos and videos may be mixed. A
rerun into the same --out skips the inputs already finished. Exit status 1 when any input failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from emolens.batch.options import BatchOptions

from .common import add_field_flags, add_recognizer_args, options_from_flags, quiet_opencv, recognizer_options

#: "0": Ray runs as on one machine, its node on 127.0.0.1 (Ray's name for it speaks of macOS and Windows, where
#: that is the default).
RAY_ONE_MACHINE_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def add_parser(sub: Any) -> None:
    """Add `emolens batch` and its flags to the subcommands.

    Args:
        sub: the subparsers of the `emolens` parser.
    """
    p = sub.add_parser("batch", help="analyse archives of photos and videos into Parquet", description=__doc__)
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="files, folders (recursive) or glob patterns")
    p.add_argument("--manifest", type=Path, metavar="FILE", help="one path a line, or a CSV with a 'path' column")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (faces/, sources.parquet)")
    add_field_flags(p, BatchOptions)  # --engine, --workers, --ray-address: BatchOptions' fields
    add_recognizer_args(p, video=True, labels=False)  # Parquet's emotion names stay English, as JSON's do
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the batch with a progress bar; print the summary and the first failures.

    Args:
        args: the parsed flags.

    Returns:
        0, or 1 when any input failed.

    Raises:
        ValueError: no input was given.
        ModuleNotFoundError: pyarrow is missing (`emolens.cli.main` names the extra that brings it).
    """
    from tqdm import tqdm

    from emolens.batch import Progress, run_batch

    if not args.inputs and args.manifest is None:
        raise ValueError("give at least one INPUT or --manifest FILE")
    quiet_opencv(args)
    if args.engine == "ray" and args.ray_address is None:
        # The Ray this run starts for itself runs on 127.0.0.1, so that it never depends on the machine's network.
        # ray.init(_node_ip_address="127.0.0.1") cannot say so: on Linux Ray swaps a loopback address for that of
        # the interface its route to the internet uses. This is Ray's own switch for a Ray of one machine (its
        # default on macOS and Windows); Ray reads it on import, which comes later, in the engine.
        os.environ.setdefault(RAY_ONE_MACHINE_SWITCH, "0")
    options = options_from_flags(BatchOptions, args, recognizer=recognizer_options(args))
    with tqdm(unit="input", desc="batch", file=sys.stderr, dynamic_ncols=True, disable=None) as bar:

        def on_progress(progress: Progress) -> None:
            bar.total = progress.total
            bar.update(progress.done - bar.n)
            if progress.elapsed_s > 0:
                bar.set_postfix_str(f"{progress.frames / progress.elapsed_s:.1f} frames/s", refresh=False)

        summary = run_batch(args.inputs, args.out, options, manifest=args.manifest, on_progress=on_progress)
    failed = summary.failed
    print(
        f"{len(summary.rows)} inputs ({summary.skipped} already done, {len(failed)} failed): "
        f"{summary.frames} frames, {summary.faces} faces, {summary.tracks} tracks in {summary.seconds:.1f} s"
    )
    print(f"  faces: {summary.out_dir / 'faces'}/  sources: {summary.out_dir / 'sources.parquet'}")
    for row in failed[:10]:
        print(f"emolens: error: {row.status}", file=sys.stderr)
    if len(failed) > 10:
        more = len(failed) - 10
        print(f"emolens: ... and {more} more failed inputs (the status column of sources.parquet)", file=sys.stderr)
    return 1 if failed else 0
