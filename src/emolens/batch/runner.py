"""`run_batch`: expand the inputs, skip what is done, hand the rest to an engine, record every result."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from emolens.batch.inputs import expand_inputs
from emolens.batch.options import BatchOptions
from emolens.batch.parquet import OutputFolder, SourceRow, config_digest, input_key
from emolens.batch.work import Task, WorkerConfig, model_label
from emolens.io.media import is_video_name
from emolens.runtime.detectors import resolve_detector
from emolens.runtime.pipeline import PipelineOptions
from emolens.runtime.registry import model_path

#: Options that cannot change a result and so stay out of the resume key.
_KEY_IGNORES = frozenset({"threads"})
#: Settings that joined RecognizerOptions after folders were written (with the pipeline's options nested, #29):
#: kept out of the key at their default, so that those folders still resume; any other value is keyed.
_KEYED_UNLESS_DEFAULT = {"iou_threshold": PipelineOptions.iou_threshold}


@dataclass(frozen=True)
class Progress:
    """Where a run stands, after each input finishes."""

    done: int
    total: int
    frames: int  # frames processed by this run so far (inputs skipped as done are not counted)
    elapsed_s: float


@dataclass(frozen=True)
class BatchSummary:
    """What a run did. `rows` holds every input's sources row, finished now or by an earlier run."""

    out_dir: Path
    rows: tuple[SourceRow, ...]
    skipped: int  # inputs finished by an earlier run, not processed again
    seconds: float

    @property
    def failed(self) -> tuple[SourceRow, ...]:
        """The rows whose status is an error."""
        return tuple(row for row in self.rows if not row.ok)

    @property
    def frames(self) -> int:
        """Frames of all inputs (photos count one)."""
        return sum(row.frames for row in self.rows)

    @property
    def faces(self) -> int:
        """Face rows of all inputs."""
        return sum(row.faces for row in self.rows)

    @property
    def tracks(self) -> int:
        """Tracks of all videos."""
        return sum(row.tracks or 0 for row in self.rows)


def run_batch(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    options: BatchOptions | None = None,
    *,
    manifest: str | Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> BatchSummary:
    """Analyse every photo and video that `inputs` and `manifest` name; results go to Parquet files in `out_dir`.

    Args:
        inputs: files, folders (searched recursively) and globs; see `expand_inputs`.
        out_dir: the output folder (created); a rerun into it skips inputs it finished.
        options: engine, workers and the recognizer options.
        manifest: a file listing more inputs, one path a line or a CSV with a `path` column.
        on_progress: called once before work starts and after every input.

    Returns:
        The summary; failed inputs are in it (and in sources.parquet) with their error as status.

    Raises:
        BatchOutputError: `out_dir` is in use by another run or holds results of other options.
        RayEngineError: the ray engine cannot start, join or reach the inputs.
        ModelFileError: the model cannot be found.
    """
    options = options or BatchOptions()
    started = time.perf_counter()
    out = Path(out_dir).absolute()
    model_file = model_path(options.recognizer.model)
    # "auto" is settled here, once: every worker then runs the same detector (a node that cannot fails at
    # start), and installing the CNN's package later makes new keys instead of skipping Haar's results.
    recognizer = dataclasses.replace(options.recognizer, detector=resolve_detector(options.recognizer.detector))
    keyed_options = {
        k: v
        for k, v in recognizer.flat().items()
        if k not in _KEY_IGNORES and not (k in _KEYED_UNLESS_DEFAULT and v == _KEYED_UNLESS_DEFAULT[k])
    }
    keyed_options["model"] = model_label(options.recognizer)
    digest = config_digest(model_file, keyed_options)
    items = expand_inputs(inputs, manifest)
    folder = OutputFolder(out, {"options": keyed_options, "digest": digest})
    try:
        rows: dict[str, SourceRow] = {}
        tasks: list[Task] = []
        skipped = 0
        for item in items:
            try:
                info = os.stat(item.path)
            except OSError as err:
                reason = item.problem or ("no such file" if isinstance(err, FileNotFoundError) else err.strerror)
                rows[item.path] = SourceRow(source=item.path, status=f"{item.path}: {reason}")
                continue
            key = input_key(item.path, info.st_size, info.st_mtime_ns, digest)
            done = folder.finished(item.path, key)
            if done is not None:
                rows[item.path] = done
                skipped += 1
            else:
                tasks.append(Task(item.path, key, info.st_size))
        tasks = start_order(tasks)
        folder.prepare((task.path, task.key) for task in tasks)
        for row in rows.values():
            if not row.ok:
                folder.record("", row)
        total, done_count, frames = len(items), len(rows), 0
        if on_progress is not None:
            on_progress(Progress(done_count, total, frames, time.perf_counter() - started))
        config = WorkerConfig(recognizer, str(out), options.rows_per_part)
        keys = {task.path: task.key for task in tasks}
        try:
            for row in _engine_rows(tasks, config, options):
                folder.record(keys[row.source], row)
                rows[row.source] = row
                done_count += 1
                frames += row.frames
                if on_progress is not None:
                    on_progress(Progress(done_count, total, frames, time.perf_counter() - started))
        finally:
            ordered = tuple(rows[item.path] for item in items if item.path in rows)
            folder.write_sources(ordered)
    finally:
        folder.close()
    return BatchSummary(out_dir=out, rows=ordered, skipped=skipped, seconds=time.perf_counter() - started)


def start_order(tasks: Sequence[Task]) -> list[Task]:
    """The order to hand tasks out: videos (by suffix) before photos, each kind largest first.

    A worker that takes a long input last holds up the end of the run while the others idle, so the long inputs
    go first and the run ends on photos, which take a fraction of a second each. Bytes alone would not do: a
    short clip is smaller than a large photo but takes as long as a hundred of them. (The suffix only orders the
    work; each input is still routed by its content.)

    Args:
        tasks: the inputs to process.

    Returns:
        The same tasks, in the order to start them.
    """
    return sorted(tasks, key=lambda task: (not is_video_name(task.path), -task.size_bytes))


def _engine_rows(tasks: Sequence[Task], config: WorkerConfig, options: BatchOptions) -> Iterator[SourceRow]:
    if options.engine == "ray":
        from emolens.batch.ray_engine import run_ray

        return run_ray(tasks, config, options.workers, options.ray_address)
    from emolens.batch.local import run_local

    return run_local(tasks, config, options.workers or os.cpu_count() or 1)
