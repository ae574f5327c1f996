"""Analyse a whole video file: every frame through a Recognizer's video stream, out to the sinks asked for.

A damaged file is processed as far as it decodes; the report's `error` then says what went wrong, and
every output holds the frames before the damage.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

from emolens.errors import MediaError
from emolens.io.read_ahead import ReadAhead
from emolens.io.sinks import CsvSink, JsonlSink, VideoSink
from emolens.io.sources import VideoFileSource
from emolens.labels import display_names
from emolens.render import LabelAtlas, annotate, load_label_atlas, timeline_image, track_ids
from emolens.runtime.pipeline import PIPELINE_STAGES
from emolens.types import FrameResult

if TYPE_CHECKING:
    from emolens.api import Recognizer

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
    on_progress: Callable[[int, int | None], None] | None = None,
    should_stop: Callable[[int], str | None] | None = None,
) -> VideoReport:
    """Run `recognizer` over every frame of the video at `path` (tracking faces, smoothing their
    probabilities as the recognizer's options say unless `smooth` overrides them) and write the outputs
    requested. `should_stop(frames_done)` is asked before each frame: a reason (a frame cap, a deadline, a
    client gone) ends the run there, every output keeps the frames before it, and the reason becomes
    VideoReport.error.

    Raises MediaError when the file cannot be opened or an output cannot be written; a video that breaks
    off part-way is not an exception: see VideoReport.error.
    """
    display_names(lang)  # an unknown language fails before any work
    atlas = load_label_atlas() if annotated_path is not None or timeline_dir is not None else None
    stream = recognizer.stream(smooth=smooth)
    stage_s = dict.fromkeys(STAGES, 0.0)
    kept: list[FrameResult] = []
    frames = faces = 0
    stopped: str | None = None
    ids: set[int] = set()
    started = time.perf_counter()
    with VideoFileSource(path) as source, contextlib.ExitStack() as outputs:
        jsonl = outputs.enter_context(JsonlSink(jsonl_path)) if jsonl_path is not None else None
        table = outputs.enter_context(CsvSink(csv_path)) if csv_path is not None else None
        writer = (
            outputs.enter_context(VideoSink(annotated_path, source.fps, source.size_px))
            if annotated_path is not None
            else None
        )
        frames_ahead = outputs.enter_context(ReadAhead(source))  # closed first: before the source is
        for frame in frames_ahead:
            stopped = should_stop(frames) if should_stop is not None else None
            if stopped:
                break
            result = stream.process(frame.image, frame.time_s, frame.index)
            t2 = time.perf_counter()
            if writer is not None:
                image = annotate(frame.image, result, lang, atlas=atlas)
                t3 = time.perf_counter()
                stage_s["draw"] += t3 - t2
                if image.shape[:2] != (source.size_px[1], source.size_px[0]):
                    # Some containers report a size that differs from the decoded frames (rotation).
                    image = cv2.resize(image, source.size_px)
                writer.write(image)
                t2 = time.perf_counter()
                stage_s["encode"] += t2 - t3
            if jsonl is not None:
                jsonl.append(result)
            if table is not None:
                table.append(result)
            stage_s["write"] += time.perf_counter() - t2
            if timeline_dir is not None:
                kept.append(result)
            frames += 1
            faces += len(result.faces)
            ids.update(f.track_id for f in result.faces if f.track_id is not None)
            if on_progress is not None:
                on_progress(frames, source.frame_count)
        t_close = time.perf_counter()
        outputs.close()  # waits for the encoder to finish the file
        stage_s["encode"] += time.perf_counter() - t_close
        stage_s["decode"] = frames_ahead.busy_seconds
        stage_s.update(stream.stage_seconds)
        error = f"{source.path.name}: {stopped}" if stopped else source.error
    timelines = _write_timelines(kept, Path(timeline_dir), lang, atlas) if timeline_dir is not None else ()
    seconds = time.perf_counter() - started
    return VideoReport(
        frames=frames,
        faces=faces,
        track_ids=tuple(sorted(ids)),
        seconds=seconds,
        fps=frames / seconds if seconds > 0 else 0.0,
        error=error,
        annotated_path=None if annotated_path is None else Path(annotated_path),
        jsonl_path=None if jsonl_path is None else Path(jsonl_path),
        csv_path=None if csv_path is None else Path(csv_path),
        timeline_paths=timelines,
        stage_seconds=stage_s,
    )


def _write_timelines(results: list[FrameResult], folder: Path, lang: str, atlas: LabelAtlas | None) -> tuple[Path, ...]:
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
