"""The one frame loop (`run`), and `analyze_video`: a whole video file through it, out to the sinks asked for.

Every caller that reads frames (`emolens video`, the REST clip route, the Video tab, batch, the webcam) calls
`run`; they differ only in their sinks (JSONL, CSV, annotated video, Parquet rows, an in-memory list, the
per-track summary, a window) and their stop rules (a frame cap, a deadline, a client gone, Stop pressed, the
server's memory mark), composed by `stop_when`.

A damaged file is processed as far as it decodes; the report's `error` then says what went wrong, and
every output holds the frames before the damage.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np

from emolens.errors import MediaError
from emolens.io.read_ahead import ReadAhead
from emolens.io.sinks import CsvSink, JsonlSink, ResultList, TrackStats, TrackSummary, VideoSink
from emolens.io.sources import Frame, VideoFileSource
from emolens.labels import display_names
from emolens.render import LabelAtlas, RenderOptions, annotate, load_label_atlas, timeline_image
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
    #: Each tracked face's frames and seconds per top emotion, by track id.
    tracks: tuple[TrackStats, ...] = ()


class Sink(Protocol):
    """What `run` hands each frame's result to: the io sinks, batch's Parquet rows, a window, the drawn video."""

    def append(self, result: FrameResult, image: np.ndarray) -> None:
        """Take one frame's result.

        Args:
            result: the frame's faces, tracked.
            image: the frame's pixels (BGR), for a sink that draws on them; not to be changed.
        """

    def close(self) -> None:
        """Finish (flush, close files, wait for an encoder)."""


#: A stop rule: asked before each frame with the frames done so far; a one-line reason ends the run there.
StopRule = Callable[[int], str | None]


def frame_cap(max_frames: int, why: str) -> StopRule:
    """A stop rule: the run ends after `max_frames` frames.

    Args:
        max_frames: frames to process at most.
        why: whose limit it is, for the reason ("server limit").

    Returns:
        The rule; its reason is "stopped after the first N frames (why)".
    """

    def rule(frames_done: int) -> str | None:
        return f"stopped after the first {max_frames} frames ({why})" if frames_done >= max_frames else None

    return rule


def stop_when(*rules: StopRule | None) -> StopRule:
    """One stop policy from several rules (None ones left out): the first rule, in order, that gives a reason.

    Args:
        rules: frame caps, deadlines, a client gone, Stop pressed, a memory mark, ...

    Returns:
        A rule giving the first reason of `rules`, or None while all let the run go on.
    """
    active = [rule for rule in rules if rule is not None]

    def policy(frames_done: int) -> str | None:
        for rule in active:
            reason = rule(frames_done)
            if reason:
                return reason
        return None

    return policy


@dataclass(frozen=True)
class RunOutcome:
    """What `run` did: the frames processed, the reason a stop rule gave (if one ended it), and the wall
    seconds each sink took, in the order the sinks were given."""

    frames: int
    stopped: str | None
    sink_seconds: tuple[float, ...]


def run(
    stream: VideoStream,
    frames: Iterable[Frame],
    sinks: Sequence[Sink],
    stop: StopRule | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> RunOutcome:
    """The frame loop: each frame through `stream` and out to every sink, until the frames end or `stop` says.

    The sinks are not closed here: whoever opened them closes them (a `with` or an ExitStack), so an error
    part-way still closes every one.

    Args:
        stream: the recognizer's per-video state (tracker, smoother); see Recognizer.stream.
        frames: the source's frames, in order (a VideoFileSource, a CameraSource, a ReadAhead over one).
        sinks: where each frame's result goes, in this order.
        stop: asked before each frame (after it is read) with the frames done; a reason ends the run there, and
            an exception it raises ends the run with that exception.
        on_progress: called after each frame with the frames done.

    Returns:
        The frames done, the reason the run stopped early (None when the frames ran out) and each sink's time.
    """
    done = 0
    sink_s = [0.0] * len(sinks)
    stopped: str | None = None
    for frame in frames:
        stopped = stop(done) if stop is not None else None
        if stopped:
            break
        result = stream.process(frame.image, frame.time_s, frame.index)
        for i, sink in enumerate(sinks):
            t_sink = time.perf_counter()
            sink.append(result, frame.image)
            sink_s[i] += time.perf_counter() - t_sink
        done += 1
        if on_progress is not None:
            on_progress(done)
    return RunOutcome(done, stopped, tuple(sink_s))


class AnnotatedVideo:
    """A sink that draws each frame's faces (render.annotate) and hands the frame to a VideoSink.

    Args:
        writer: the encoder to hand drawn frames to; closing this sink closes it.
        size_px: (width, height) the writer expects; a drawn frame of another size is resized (rotation).
        lang: language of the labels.
        atlas: the label atlas (None: loaded on each frame; pass one).
        labels_only: draw each face's box and numbered label alone, no probability panel.
    """

    def __init__(
        self, writer: VideoSink, size_px: tuple[int, int], lang: str, atlas: LabelAtlas | None, labels_only: bool
    ) -> None:
        self.writer = writer
        self.size_px = size_px
        self.lang = lang
        self.atlas = atlas
        self.labels_only = labels_only
        #: Wall seconds spent drawing (the rest of this sink's time is handing frames to the encoder).
        self.draw_seconds = 0.0

    def append(self, result: FrameResult, image: np.ndarray) -> None:
        """Draw `result` on `image` and encode it.

        Args:
            result: the frame's faces.
            image: the frame (BGR), not changed.

        Raises:
            MediaError: If the encoder has stopped.
        """
        t_draw = time.perf_counter()
        drawn = annotate(image, result, self.lang, atlas=self.atlas, labels_only=self.labels_only)
        self.draw_seconds += time.perf_counter() - t_draw
        if drawn.shape[:2] != (self.size_px[1], self.size_px[0]):
            # Some containers report a size that differs from the decoded frames (rotation).
            drawn = cv2.resize(drawn, self.size_px)
        self.writer.write(drawn)

    def close(self) -> None:
        """Finish the video file (waits for the encoder).

        Raises:
            MediaError: If the encoder failed.
        """
        self.writer.close()


def analyze_video(
    recognizer: Recognizer,
    path: str | Path | VideoFileSource,
    *,
    annotated_path: str | Path | None = None,
    jsonl_path: str | Path | None = None,
    csv_path: str | Path | None = None,
    timeline_dir: str | Path | None = None,
    lang: str = "en",
    smooth: bool | None = None,
    labels_only: bool = RenderOptions.labels_only,
    on_progress: Callable[[int, int | None], None] | None = None,
    should_stop: StopRule | None = None,
) -> VideoReport:
    """Run `recognizer` over every frame of a video file and write the outputs asked for.

    Faces are tracked across frames and their probabilities smoothed as the recognizer's options say, unless
    `smooth` overrides them. A video that breaks off part-way is not an exception: every output holds the
    frames before the break, and VideoReport.error says what went wrong.

    Args:
        recognizer: The model and options to run; each call gets its own stream (tracker and smoother).
        path: The video file to read, or a VideoFileSource already open on it (the caller then closes it: the
            web app opens the clip once, checks its frame size against its own limit, and hands it here).
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
            VideoReport.error. It may also raise, which ends the run with that exception.

    Returns:
        Counts, wall time per stage, the error that ended the run early (if any) and the files written.

    Raises:
        MediaError: If the file cannot be opened or an output cannot be written.
        ValueError: If `lang` is not a language the labels come in.
    """
    display_names(lang)  # an unknown language fails before any work
    atlas = load_label_atlas() if annotated_path is not None or timeline_dir is not None else None
    stream = recognizer.stream(smooth=smooth)
    stage_s = dict.fromkeys(STAGES, 0.0)
    started = time.perf_counter()
    with contextlib.ExitStack() as opened:
        source = path if isinstance(path, VideoFileSource) else opened.enter_context(VideoFileSource(path))
        with contextlib.ExitStack() as outputs:
            rows, video = _open_outputs(outputs, source, annotated_path, jsonl_path, csv_path, lang, atlas, labels_only)
            summary = TrackSummary(1.0 / source.fps if source.fps else None)
            # Every frame's result, kept for the timelines only: a long video's results would otherwise pile up.
            kept = ResultList() if timeline_dir is not None else None
            sinks: list[Sink] = [*([video] if video is not None else []), *rows, summary, *([kept] if kept else [])]
            frames = outputs.enter_context(ReadAhead(source))  # entered last, so closed first: before the source is
            frame_count = source.frame_count
            progress = None if on_progress is None else (lambda done: on_progress(done, frame_count))
            outcome = run(stream, frames, sinks, should_stop, progress)
            # Closing waits for the encoder process to finish the file: that wait is encoding time too.
            t_close = time.perf_counter()
            outputs.close()
            stage_s["encode"] += time.perf_counter() - t_close
        if video is not None:
            stage_s["draw"] = video.draw_seconds
            stage_s["encode"] += outcome.sink_seconds[0] - video.draw_seconds
        first_row = 1 if video is not None else 0
        stage_s["write"] = sum(outcome.sink_seconds[first_row : first_row + len(rows)])
        stage_s["decode"] = frames.busy_seconds
        stage_s.update(stream.stage_seconds)
        error = f"{source.path.name}: {outcome.stopped}" if outcome.stopped else source.error
    timelines = (
        _write_timelines(kept.results if kept else [], summary.track_ids, Path(timeline_dir), lang, atlas)
        if timeline_dir is not None
        else ()
    )
    seconds = time.perf_counter() - started
    return VideoReport(
        frames=summary.frames,
        faces=summary.faces,
        track_ids=summary.track_ids,
        seconds=seconds,
        fps=summary.frames / seconds if seconds > 0 else 0.0,
        error=error,
        annotated_path=None if annotated_path is None else Path(annotated_path),
        jsonl_path=None if jsonl_path is None else Path(jsonl_path),
        csv_path=None if csv_path is None else Path(csv_path),
        timeline_paths=timelines,
        stage_seconds=stage_s,
        tracks=summary.tracks(),
    )


def _open_outputs(
    outputs: contextlib.ExitStack,
    source: VideoFileSource,
    annotated_path: str | Path | None,
    jsonl_path: str | Path | None,
    csv_path: str | Path | None,
    lang: str,
    atlas: LabelAtlas | None,
    labels_only: bool,
) -> tuple[list[Sink], AnnotatedVideo | None]:
    """Open the file sinks asked for on `outputs`, so that an error part-way still closes those already open.

    Returns the row sinks (JSONL, CSV) and the annotated video's sink (None when not asked for).
    """
    rows: list[Sink] = []
    if jsonl_path is not None:
        rows.append(outputs.enter_context(JsonlSink(jsonl_path)))
    if csv_path is not None:
        rows.append(outputs.enter_context(CsvSink(csv_path)))
    video = None
    if annotated_path is not None:
        writer = outputs.enter_context(VideoSink(annotated_path, source.fps, source.size_px, audio_from=source.path))
        video = AnnotatedVideo(writer, source.size_px, lang, atlas, labels_only)
    return rows, video


def _write_timelines(
    results: list[FrameResult], track_ids: Sequence[int], folder: Path, lang: str, atlas: LabelAtlas | None
) -> tuple[Path, ...]:
    """One PNG chart per tracked face in `folder`; the paths written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MediaError(f"{folder}: cannot create the timeline folder ({err.strerror or err})") from err
    written = []
    for track_id in track_ids:
        out = folder / f"track_{track_id}.png"
        if not cv2.imwrite(str(out), timeline_image(results, track_id, lang, atlas=atlas)):
            raise MediaError(f"{out}: could not write the timeline image")
        written.append(out)
    return tuple(written)
