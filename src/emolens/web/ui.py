"""The Gradio UI: Camera, Photo and Video tabs over the shared Recognizer. Fonts are local; nothing is fetched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from emolens.api import Recognizer
from emolens.errors import EmolensError
from emolens.io.images import read_image

from .limits import WorkPool
from .options import WebOptions
from .ui_handlers import CameraSession, Handlers, bar_order, table_headers

_LANGUAGE_CHOICES = [("English", "en"), ("Tiếng Việt", "vi"), ("Bahasa Indonesia", "id")]
#: Seconds between webcam frames sent; the server drops none, so this paces a slow machine too.
_CAMERA_EVERY_S = 0.1
# The browser stamps each frame as it leaves and reads the stamp back when the answer arrives:
# the round trip the user sees, measured where it is seen.
_STAMP_JS = "(frame, session, lang, sent) => [frame, session, lang, Date.now()]"
_ROUND_TRIP_JS = "(sent) => (sent ? `${Math.max(0, Date.now() - sent)} ms` : '')"


def build_ui(recognizer: Recognizer, pool: WorkPool, options: WebOptions, work_dir: Path) -> gr.Blocks:
    handlers = Handlers(recognizer, pool, work_dir)
    theme = gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )
    with gr.Blocks(title="emolens", theme=theme, analytics_enabled=False) as blocks:
        gr.Markdown(
            "# emolens\nFacial emotion recognition that runs on this computer: images never leave it.  \n"
            f"Face detector: {recognizer.detector_description}",
            elem_id="intro",
        )
        lang = gr.Radio(_LANGUAGE_CHOICES, value=options.lang, label="Labels", elem_id="lang")
        with gr.Tab("Camera", id="camera"):
            _camera_tab(handlers, lang, pool.workers)
        with gr.Tab("Photo", id="photo"):
            _photo_tab(handlers, lang)
        with gr.Tab("Video", id="video"):
            _video_tab(handlers, lang)
    return blocks


def _camera_tab(handlers: Handlers, lang: gr.Radio, workers: int) -> None:
    with gr.Row():
        camera = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Webcam", elem_id="camera-input")
        shown = gr.Image(label="Emotions", format="jpeg", interactive=False, elem_id="camera-output")
    with gr.Row():
        readout = gr.Textbox(label="Faces and server time", interactive=False, elem_id="camera-readout")
        round_trip = gr.Textbox(label="Frame round trip", interactive=False, elem_id="camera-round-trip")
    session = gr.State(None)
    sent_ms = gr.Number(visible=False)
    echoed_ms = gr.Number(visible=False)

    def on_frame(
        frame: np.ndarray | None, state: CameraSession | None, lang_code: str, stamp: float | None
    ) -> tuple[Any, ...]:
        if frame is None:
            return gr.skip(), state, gr.skip(), gr.skip()
        annotated, state, text = handlers.camera_frame(frame, state, lang_code)
        return annotated, state, text, stamp

    camera.stream(
        on_frame,
        inputs=[camera, session, lang, sent_ms],
        outputs=[shown, session, readout, echoed_ms],
        js=_STAMP_JS,
        stream_every=_CAMERA_EVERY_S,
        concurrency_limit=workers,
        show_progress="hidden",
    )
    echoed_ms.change(None, inputs=[echoed_ms], outputs=[round_trip], js=_ROUND_TRIP_JS, show_progress="hidden")


def _photo_tab(handlers: Handlers, lang: gr.Radio) -> None:
    with gr.Row():
        photo = gr.Image(sources=["upload", "clipboard"], type="filepath", label="Photo", elem_id="photo-input")
        shown = gr.Image(label="Emotions", interactive=False, elem_id="photo-output")
    summary = gr.Markdown(elem_id="photo-summary")
    table = gr.Dataframe(label="Probabilities per face", interactive=False, elem_id="photo-table")
    bars = gr.BarPlot(
        x="emotion", y="probability", color="face", y_lim=[0, 1], label="Probabilities", elem_id="photo-bars"
    )
    download = gr.File(label="JSON", elem_id="photo-json")

    def on_photo(path: str | None, lang_code: str) -> tuple[Any, ...]:
        if not path:
            return None, "", None, None, None
        try:
            image = read_image(path)
            out = handlers.photo(image, Path(path).name, lang_code)
        except EmolensError as err:
            raise gr.Error(_short(err, path)) from None
        frame = pd.DataFrame(out.table_rows, columns=table_headers(lang_code))
        bar_frame = pd.DataFrame(out.bars, columns=["emotion", "face", "probability"])
        plot = gr.BarPlot(value=bar_frame, sort=bar_order(len(out.table_rows), lang_code))
        return out.annotated_rgb, out.summary, frame, plot, str(out.json_path)

    outputs = [shown, summary, table, bars, download]
    photo.change(on_photo, inputs=[photo, lang], outputs=outputs)
    lang.change(on_photo, inputs=[photo, lang], outputs=outputs)


def _video_tab(handlers: Handlers, lang: gr.Radio) -> None:
    with gr.Row():
        clip = gr.Video(sources=["upload"], include_audio=True, label="Video clip", elem_id="video-input")
        shown = gr.Video(label="Annotated", interactive=False, autoplay=True, elem_id="video-output")
    run = gr.Button("Analyse", variant="primary", elem_id="video-run")
    summary = gr.Markdown(elem_id="video-summary")
    timelines = gr.Gallery(
        label="Emotion timeline per face", columns=1, height=320, object_fit="contain", elem_id="video-timelines"
    )
    downloads = gr.File(label="CSV and JSONL", file_count="multiple", elem_id="video-downloads")

    def on_video(path: str | None, lang_code: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        if not path:
            raise gr.Error("upload a video clip first")

        def report(done: int, total: int | None) -> None:
            progress((done, total) if total else None, desc=f"frame {done}", unit="frames")

        try:
            out = handlers.video(Path(path), lang_code, report)
        except EmolensError as err:
            raise gr.Error(_short(err, path)) from None
        return (
            str(out.annotated_path),
            [str(p) for p in out.timeline_paths],
            [str(p) for p in out.download_paths],
            (out.summary),
        )

    run.click(on_video, inputs=[clip, lang], outputs=[shown, timelines, downloads, summary], concurrency_limit=1)


def _short(err: Exception, path: str) -> str:
    # Gradio's upload folder is noise to the user; the file's own name is what they recognise.
    return str(err).splitlines()[0].replace(path, Path(path).name)
