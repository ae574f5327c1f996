"""Analyse a whole video file: every frame through a Recognizer's video stream, out to the sinks asked for.

A damaged file is processed as far as it decodes; the report's `error` then says what went wrong, and
every output holds the frames before the damage.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from emolens.errors import MediaError
from emolens.io.read_ahead import ReadAhead
from emolens.io.sinks import CsvSink, JsonlSink, VideoSink
from emolens.io.sources import Frame, VideoFileSource
from emolens.labels import display_names
from emolens.render import LabelAtlas, RenderOptions, annotate, load_label_atlas, timeline_image, track_ids
from emolens.runtime.pipeline import PIPELINE_STAGES
from emolens.types import FrameResult

if TYPE_CHECKING:
    from emolens.api import Recognizer, VideoStream

#: Stages timed by analyze_video, in the order a frame meets them: decoding (in a background thread, overlapping
#: the rest where a core is free), the pipeline's stages, drawing, handing frames to the encoder process, and
#: writing JSONL/CSV rows.
STAGES: tuple[str, ...] = ("decode", *PIPELINE_STAGES, "draw", "encode", "write")


@dataclass(frozen=True)
class VideoReport:
    """What analyze_video did: counts, wall time, the error that stopped it early (if any), and its files."""

    frames: int
    faces: int
    track_ids: tuple[int, ...]
    seconds: float
    fps: float
    error: str | None = None
    annotated_path: Path | None = None
    jsonl_path: Path | None = None
    csv_path: Path | None = None
    timeline_paths: tuple[Path, ...] = ()
    #: Wall seconds per stage (STAGES); "encode" is the time spent handing frames to the encoder process.
    stage_seconds: Mapping[str, float] = field(default_factory=dict)


def analyze_video(
    recognizer: Recognizer,
    path: str | Path,
    *,
    annotated_path: str | Path | None = None,
    jsonl_path: str | Path | None = None,
    csv_path: str | Path | None = None,
    timeline_dir: str | Path | None = None,
    lang: str = "en",
    smooth: bool | None = None,
    labels_only: bool = RenderOptions.labels_only,
    on_progress: Callable[[int, int | None], None] | None = None,
    should_stop: Callable[[int], str | None] | None = None,
) -> VideoReport:
    """Run `recognizer` over every frame of a video file and write the outputs asked for.

    Faces are tracked across frames and their probabilities smoothed as the recognizer's options say, unless
    `smooth` overrides them. A video that breaks off part-way is not an exception: every output holds the
    frames before the break, and VideoReport.error says what went wrong.

    Args:
        recognizer: The model and options to run; each call gets its own stream (tracker and smoother).
        path: The video file to read.
        annotated_path: Where to write the annotated video (.mp4 or .webm), with the clip's sound where it has
            some (io.sinks.copy_audio); None writes none.
        jsonl_path: Where to write one JSON object per frame; None writes none.
        csv_path: Where to write one row per face per frame; None writes none.
        timeline_dir: A folder for one PNG chart per tracked face; None writes none.
        lang: Language of the labels drawn on the video and the timelines.
        smooth: Smooth probabilities over time (True) or not (False); None follows the recognizer's options.
        labels_only: Draw each face's box and numbered label alone, no probability panel beside it.
        on_progress: Called after each frame with (frames done, the container's frame count or None).
        should_stop: Asked before each frame with the frames done so far; a reason (a frame cap, a deadline,
            a client gone) ends the run there, every output keeps the frames before it, and the reason becomes
            VideoReport.error.

    Returns:
        Counts, wall time per stage, the error that ended the run early (if any) and the files written.

    Raises:
        MediaError: If the file cannot be opened or an output cannot be written.
        ValueError: If `lang` is not a language the labels come in.
    """
    display_names(lang)  # an unknown language fails before any work
    atlas = load_label_atlas() if annotated_path is not None or timeline_dir is not None else None
    stream = recognizer.stream(smooth=smooth)
    tally = _Tally(stage_s=dict.fromkeys(STAGES, 0.0), kept=[] if timeline_dir is not None else None)
    started = time.perf_counter()
    with VideoFileSource(path) as source, contextlib.ExitStack() as outputs:
        sinks = _open_sinks(outputs, source, annotated_path, jsonl_path, csv_path, lang, atlas, labels_only)
        frames = outputs.enter_context(ReadAhead(source))  # entered last, so closed first: before the source is
        stopped = _run_frames(frames, stream, sinks, tally, source.frame_count, on_progress, should_stop)
        _close_outputs(outputs, tally.stage_s)
        tally.stage_s["decode"] = frames.busy_seconds
        tally.stage_s.update(stream.stage_seconds)
        error = f"{source.path.name}: {stopped}" if stopped else source.error
    timelines = _write_timelines(tally.kept or [], Path(timeline_dir), lang, atlas) if timeline_dir is not None else ()
    seconds = time.perf_counter() - started
    return VideoReport(
        frames=tally.frames,
        faces=tally.faces,
        track_ids=tuple(sorted(tally.track_ids)),
        seconds=seconds,
        fps=tally.frames / seconds if seconds > 0 else 0.0,
        error=error,
        annotated_path=None if annotated_path is None else Path(annotated_path),
        jsonl_path=None if jsonl_path is None else Path(jsonl_path),
        csv_path=None if csv_path is None else Path(csv_path),
        timeline_paths=timelines,
        stage_seconds=tally.stage_s,
    )


@dataclass
class _Tally:
    """What the frame loop counts for the report."""

    stage_s: dict[str, float]
    #: Every frame's result, kept for the timelines; None when no timeline is asked for (a long video's
    #: results would otherwise pile up in memory for nothing).
    kept: list[FrameResult] | None
    frames: int = 0
    faces: int = 0
    track_ids: set[int] = field(default_factory=set)

    def add(self, result: FrameResult) -> None:
        """Count one frame's result."""
        if self.kept is not None:
            self.kept.append(result)
        self.frames += 1
        self.faces += len(result.faces)
        self.track_ids.update(f.track_id for f in result.faces if f.track_id is not None)


@dataclass
class _Sinks:
    """The outputs asked for (None where not asked), and what drawing the annotated video needs."""

    jsonl: JsonlSink | None
    table: CsvSink | None
    video: VideoSink | None
    size_px: tuple[int, int]
    lang: str
    atlas: LabelAtlas | None
    labels_only: bool

    def write(self, image: np.ndarray, result: FrameResult, stage_s: dict[str, float]) -> None:
        """Hand one frame to every sink, timing the drawing, the encoder and the row writers apart."""
        t_write = time.perf_counter()
        if self.video is not None:
            drawn = annotate(image, result, self.lang, atlas=self.atlas, labels_only=self.labels_only)
            t_drawn = time.perf_counter()
            stage_s["draw"] += t_drawn - t_write
            if drawn.shape[:2] != (self.size_px[1], self.size_px[0]):
                # Some containers report a size that differs from the decoded frames (rotation).
                drawn = cv2.resize(drawn, self.size_px)
            self.video.write(drawn)
            t_write = time.perf_counter()
            stage_s["encode"] += t_write - t_drawn
        if self.jsonl is not None:
            self.jsonl.append(result)
        if self.table is not None:
            self.table.append(result)
        stage_s["write"] += time.perf_counter() - t_write


def _open_sinks(
    outputs: contextlib.ExitStack,
    source: VideoFileSource,
    annotated_path: str | Path | None,
    jsonl_path: str | Path | None,
    csv_path: str | Path | None,
    lang: str,
    atlas: LabelAtlas | None,
    labels_only: bool,
) -> _Sinks:
    """Open the sinks asked for on `outputs`, so that an error part-way still closes those already open."""
    jsonl = outputs.enter_context(JsonlSink(jsonl_path)) if jsonl_path is not None else None
    table = outputs.enter_context(CsvSink(csv_path)) if csv_path is not None else None
    video = (
        outputs.enter_context(VideoSink(annotated_path, source.fps, source.size_px, audio_from=source.path))
        if annotated_path is not None
        else None
    )
    return _Sinks(jsonl, table, video, source.size_px, lang, atlas, labels_only)


def _run_frames(
    frames: Iterable[Frame],
    stream: VideoStream,
    sinks: _Sinks,
    tally: _Tally,
    frame_count: int | None,
    on_progress: Callable[[int, int | None], None] | None,
    should_stop: Callable[[int], str | None] | None,
) -> str | None:
    """Every frame through the stream and out to the sinks; the reason `should_stop` gave, if it ended the run."""
    for frame in frames:
        stopped = should_stop(tally.frames) if should_stop is not None else None
        if stopped:
            return stopped
        result = stream.process(frame.image, frame.time_s, frame.index)
        sinks.write(frame.image, result, tally.stage_s)
        tally.add(result)
        if on_progress is not None:
            on_progress(tally.frames, frame_count)
    return None


def _close_outputs(outputs: contextlib.ExitStack, stage_s: dict[str, float]) -> None:
    # Closing waits for the encoder process to finish the file: that wait is encoding time too.
    t_close = time.perf_counter()
    outputs.close()
    stage_s["encode"] += time.perf_counter() - t_close


def _write_timelines(results: list[FrameResult], folder: Path, lang: str, atlas: LabelAtlas | None) -> tuple[Path, ...]:
    """One PNG chart per tracked face in `folder`; the paths written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MediaError(f"{folder}: cannot create the timeline folder ({err.strerror or err})") from err
    written = []
    for track_id in track_ids(results):
        out = folder / f"track_{track_id}.png"
        if not cv2.imwrite(str(out), timeline_image(results, track_id, lang, atlas=atlas)):
            raise MediaError(f"{out}: could not write the timeline image")
        written.append(out)
    return tuple(written)
