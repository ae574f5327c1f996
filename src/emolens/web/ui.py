"""The Gradio UI: Camera, Photo and Video tabs over the shared Recognizer. Fonts are local; nothing is fetched.

Every word on the page follows the language chosen at the top (`ui_text`); errors are emolens's own
one-line messages, shown once in the tab's summary and left there until the next result.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from emolens.api import Recognizer
from emolens.errors import EmolensError
from emolens.render import RenderOptions

from . import gradio_compat
from .options import WebOptions
from .pool import WorkPool
from .static_routes import CAMERA_HEAD_HTML, CAMERA_PANEL_HTML
from .ui_handlers import (
    CameraSession,
    Cancelled,
    Handlers,
    make_example_clip,
    table_headers,
    track_headers,
    wrong_tab_message,
)
from .ui_text import text

_LANGUAGE_CHOICES = [("English", "en"), ("Tiếng Việt", "vi"), ("Bahasa Indonesia", "id")]
#: Seconds between webcam frames sent; the server drops none, so this paces a slow machine too.
_CAMERA_EVERY_S = 0.1
# The browser stamps each frame as it leaves and reads the stamp back when the answer arrives:
# the round trip the user sees, measured where it is seen.
_STAMP_JS = "(frame, session, lang, sent) => [frame, session, lang, Date.now()]"
_ROUND_TRIP_JS = "(sent) => (sent ? `${Math.max(0, Date.now() - sent)} ms` : '')"
# Side by side on a wide screen, one under the other on a phone.
_MIN_COLUMN_PX = 300


def example_photos() -> list[Path]:
    """Pictures shipped with the package for the Photo tab's examples (NASA's public-domain portrait).

    Returns:
        The .jpg files of emolens/assets/examples, sorted by name.
    """
    folder = resources.files("emolens") / "assets" / "examples"
    return sorted(Path(str(p)) for p in folder.iterdir() if str(p).endswith(".jpg"))


def build_ui(
    recognizer: Recognizer,
    pool: WorkPool,
    options: WebOptions,
    work_dir: Path,
    upload_dir: Path | None = None,
    delete_cache: tuple[int, int] | None = None,
) -> gr.Blocks:
    """The Gradio page at /: a language switch and the Camera, Photo and Video tabs.

    Args:
        recognizer: the loaded model, shared with the REST routes.
        pool: the work pool the REST routes use too, so the UI and REST share the same limits.
        options: the server's language, limits and settings.
        work_dir: where the handlers write annotated images and videos for the page to show.
        upload_dir: where Gradio keeps uploads: a path the page sends back must lie inside it; None accepts
            any path (tests only).
        delete_cache: Gradio's (every s, older than s) sweep of its cached files; None: no sweep.

    Returns:
        The Blocks app, to mount on the FastAPI app.
    """
    handlers = Handlers(recognizer, pool, work_dir, options, upload_dir)
    theme = gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )
    first = options.lang
    with gr.Blocks(
        title="emolens",
        theme=theme,
        analytics_enabled=False,
        css=gradio_compat.CSS,
        js=gradio_compat.WRONG_FILE_JS,
        delete_cache=delete_cache,
        head=CAMERA_HEAD_HTML,  # the in-page camera (docs/browser-camera.md)
    ) as blocks:
        detector = recognizer.detector_description
        intro = gr.Markdown(_intro(first, detector), elem_id="intro")
        lang = gr.Radio(_LANGUAGE_CHOICES, value=first, label=text("language", first), elem_id="lang")
        relabel: list[tuple[gr.components.Component | gr.Tab, str]] = [(intro, "intro"), (lang, "language")]
        with gr.Tab(text("tab_camera", first), id="camera") as tab:
            relabel.append((tab, "tab_camera"))
            relabel += _camera_tab(handlers, lang, pool.workers, first)
        with gr.Tab(text("tab_photo", first), id="photo") as tab:
            relabel.append((tab, "tab_photo"))
            relabel += _photo_tab(handlers, lang, first)
        with gr.Tab(text("tab_video", first), id="video") as tab:
            relabel.append((tab, "tab_video"))
            relabel += _video_tab(handlers, lang, first)

        def on_language(code: str) -> list[Any]:
            return [_relabelled(component, key, code, detector) for component, key in relabel]

        lang.input(on_language, inputs=[lang], outputs=[c for c, _ in relabel], show_progress="hidden")
    # When a page closes, its video analysis stops at the next frame instead of holding a worker to the end.
    gradio_compat.on_page_closed(blocks, handlers.client_gone)
    return blocks


def _intro(lang: str, detector: str) -> str:
    return "# emolens\n" + text("intro", lang) + "  \n" + text("detector", lang, name=detector)


def _relabelled(component: Any, key: str, lang: str, detector: str) -> Any:
    if key == "intro":
        return gr.Markdown(_intro(lang, detector))
    if isinstance(component, gr.Tab):
        return gr.Tab(label=text(key, lang))
    if isinstance(component, gr.Button):
        return gr.Button(value=text(key, lang))
    return gr.update(label=text(key, lang))


def _camera_tab(handlers: Handlers, lang: gr.Radio, workers: int, first: str) -> list[tuple[Any, str]]:
    gr.HTML(CAMERA_PANEL_HTML, elem_id="camera-local")  # the in-page camera (docs/browser-camera.md)
    with gr.Row():
        camera = gr.Image(
            sources=["webcam"],
            streaming=True,
            type="numpy",
            label=text("webcam", first),
            elem_id="camera-input",
            min_width=_MIN_COLUMN_PX,
        )
        shown = gr.Image(
            label=text("emotions", first),
            format="jpeg",
            interactive=False,
            elem_id="camera-output",
            min_width=_MIN_COLUMN_PX,
        )
    with gr.Row():
        readout = gr.Textbox(label=text("readout", first), interactive=False, elem_id="camera-readout")
        round_trip = gr.Textbox(label=text("round_trip", first), interactive=False, elem_id="camera-round-trip")
    session = gr.State(None)
    sent_ms = gr.Number(visible=False)
    echoed_ms = gr.Number(visible=False)

    def on_frame(
        frame: np.ndarray | None, state: CameraSession | None, lang_code: str, stamp: float | None
    ) -> tuple[Any, ...]:
        if frame is None:
            return gr.skip(), state, gr.skip(), gr.skip()
        annotated, state, readout_text = handlers.camera_frame(frame, state, lang_code)
        return annotated, state, readout_text, stamp

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
    return [(camera, "webcam"), (shown, "emotions"), (readout, "readout"), (round_trip, "round_trip")]


def _photo_tab(handlers: Handlers, lang: gr.Radio, first: str) -> list[tuple[Any, str]]:
    with gr.Row():
        photo = gradio_compat.undecoded_upload(
            gr.Image(
                sources=["upload", "clipboard"],
                type="filepath",
                image_mode=None,
                label=text("photo", first),
                elem_id="photo-input",
                min_width=_MIN_COLUMN_PX,
            )
        )
        shown = gr.Image(
            label=text("emotions", first), interactive=False, elem_id="photo-output", min_width=_MIN_COLUMN_PX
        )
    labels_only = gr.Checkbox(
        label=text("labels_only", first), value=RenderOptions.labels_only, elem_id="photo-labels-only"
    )
    examples = gr.Examples(
        [[str(p)] for p in example_photos()], inputs=[photo], label=text("examples", first), elem_id="photo-examples"
    )
    summary = gr.Markdown(elem_id="photo-summary")
    table = gr.Dataframe(
        pd.DataFrame(columns=table_headers(first)),
        headers=table_headers(first),  # without it, an empty table's columns read "1 | 2 | 3"
        label=text("table", first),
        interactive=False,
        elem_id="photo-table",
        wrap=True,
    )
    # The same charts twice: three to a row for a wide page, one to a row for a phone (the page's CSS shows one).
    chart = gr.Image(label=text("chart", first), interactive=False, elem_id="photo-bars", show_fullscreen_button=False)
    narrow_chart = gr.Image(
        label=text("chart", first), interactive=False, elem_id="photo-bars-narrow", show_fullscreen_button=False
    )
    download = gr.File(label=text("json", first), elem_id="photo-json")
    # Clicked by the page's script when a file of the wrong kind is given to the input (gradio_compat).
    wrong_file = gr.Button(visible="hidden", elem_id="photo-wrong-file")
    wrong_file_seen = gr.Textbox(visible=False)

    def cleared(lang_code: str, message: str = "") -> tuple[Any, ...]:
        return None, message, pd.DataFrame(columns=table_headers(lang_code)), None, None, None

    def on_photo(path: str | None, lang_code: str, only_labels: bool) -> tuple[Any, ...]:
        if not path:
            return cleared(lang_code)
        try:
            image = handlers.read_upload(path)
            out = handlers.photo(image, _name_of(path), lang_code, labels_only=only_labels)
        except EmolensError as err:
            if handlers.upload_kind(path) == "video":  # a clip whose browser type did not give it away
                seen = json.dumps({"name": _name_of(path), "type": "video/"})
                return cleared(lang_code, wrong_tab_message(seen, "photo", lang_code))
            return cleared(lang_code, _error(err, path))
        frame = pd.DataFrame(out.table_rows, columns=table_headers(lang_code))
        json_path = str(out.json_path)
        return out.annotated_rgb, out.summary, frame, out.chart_rgb, out.narrow_chart_rgb, json_path

    outputs = [shown, summary, table, chart, narrow_chart, download]
    inputs = [photo, lang, labels_only]
    # `upload` fires once per file; `change` fires twice for an image (Gradio sets the value, then its preview).
    photo.upload(on_photo, inputs=inputs, outputs=outputs)
    photo.clear(cleared, inputs=[lang], outputs=outputs)
    gradio_compat.examples_loaded(examples).then(on_photo, inputs=inputs, outputs=outputs)
    lang.input(on_photo, inputs=inputs, outputs=outputs)
    labels_only.input(on_photo, inputs=inputs, outputs=outputs)
    wrong_file.click(
        lambda lang_code, seen: cleared(lang_code, wrong_tab_message(seen, "photo", lang_code)),
        inputs=[lang, wrong_file_seen],
        outputs=outputs,
        js=gradio_compat.WRONG_FILE_EVENT_JS,
        show_progress="hidden",
    )
    return [
        (photo, "photo"),
        (shown, "emotions"),
        (labels_only, "labels_only"),
        (gradio_compat.examples_dataset(examples), "examples"),
        (table, "table"),
        (chart, "chart"),
        (narrow_chart, "chart"),
        (download, "json"),
    ]


def _video_tab(handlers: Handlers, lang: gr.Radio, first: str) -> list[tuple[Any, str]]:
    with gr.Row():
        # A plain file input: Gradio's video input would fetch ffmpeg.wasm from a CDN for its trimming tool.
        clip = gr.File(file_types=["video"], label=text("clip", first), elem_id="video-input", min_width=_MIN_COLUMN_PX)
        shown = gr.Video(
            label=text("annotated", first),
            interactive=False,
            autoplay=True,
            elem_id="video-output",
            min_width=_MIN_COLUMN_PX,
        )
    # A clip made at start-up from the shipped portrait: an example without shipping a video.
    clip_examples = gr.Examples(
        [[str(make_example_clip(example_photos()[0], handlers.work_dir))]],
        inputs=[clip],
        label=text("examples", first),
        elem_id="video-examples",
    )
    with gr.Row():
        run = gr.Button(text("run", first), variant="primary", elem_id="video-run")
        stop = gr.Button(text("stop", first), variant="stop", elem_id="video-stop")
    summary = gr.Markdown(elem_id="video-summary")
    tracks = gr.Dataframe(
        pd.DataFrame(columns=track_headers(first)),
        headers=track_headers(first),  # without it, an empty table's columns read "1 | 2 | 3"
        label=text("tracks", first),
        interactive=False,
        elem_id="video-tracks",
        wrap=True,
    )
    timeline = gr.Image(
        label=text("timeline", first), interactive=False, elem_id="video-timelines", show_fullscreen_button=False
    )
    downloads = gr.File(label=text("downloads", first), file_count="multiple", elem_id="video-downloads")
    # Clicked by the page's script when a file of the wrong kind is given to the input (gradio_compat).
    wrong_file = gr.Button(visible="hidden", elem_id="video-wrong-file")
    wrong_file_seen = gr.Textbox(visible=False)

    def no_tracks(lang_code: str) -> pd.DataFrame:
        return pd.DataFrame(columns=track_headers(lang_code))

    def on_video(
        path: str | None,
        lang_code: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        if not path:
            return gr.skip(), None, no_tracks(lang_code), None, text("no_video", lang_code)
        if handlers.upload_kind(path) == "image":  # a photo whose browser type did not give it away
            message = wrong_tab_message(json.dumps({"name": _name_of(path), "type": "image/"}), "video", lang_code)
            return None, None, no_tracks(lang_code), None, message

        def report(done: int, total: int | None) -> None:
            progress((done, total) if total else None, desc=f"{done}", unit="frames")

        try:
            out = handlers.video(Path(path), lang_code, report, session=_session(request))
        except Cancelled:
            return None, None, no_tracks(lang_code), None, text("stopped", lang_code)
        except EmolensError as err:
            return None, None, no_tracks(lang_code), None, _error(err, path)
        rows = pd.DataFrame(out.track_rows, columns=track_headers(lang_code))
        timeline_path = str(out.timeline_path) if out.timeline_path else None
        return str(out.annotated_path), timeline_path, rows, [str(p) for p in out.download_paths], out.summary

    def on_stop(lang_code: str, request: gr.Request) -> str:
        handlers.stop(_session(request))
        return text("stopped", lang_code)

    running = run.click(
        on_video, inputs=[clip, lang], outputs=[shown, timeline, tracks, downloads, summary], concurrency_limit=1
    )
    # The flag ends the work in the worker thread; `cancels` frees the page at once.
    stop.click(on_stop, inputs=[lang], outputs=[summary], cancels=[running], queue=False)
    # A new clip replaces what was said about the last one (a wrong file's message, say).
    clip.upload(lambda: "", outputs=[summary], show_progress="hidden")
    wrong_file.click(
        lambda lang_code, seen: wrong_tab_message(seen, "video", lang_code),
        inputs=[lang, wrong_file_seen],
        outputs=[summary],
        js=gradio_compat.WRONG_FILE_EVENT_JS,
        show_progress="hidden",
    )

    def relabel_tracks(rows: pd.DataFrame | None, lang_code: str) -> pd.DataFrame:
        # The table's headers follow the language like every other word; the shares stay.
        headers = track_headers(lang_code)
        if rows is None or len(rows.columns) != len(headers):
            return no_tracks(lang_code)
        return rows.set_axis(headers, axis="columns")

    lang.input(relabel_tracks, inputs=[tracks, lang], outputs=[tracks], show_progress="hidden")
    return [
        (clip, "clip"),
        (shown, "annotated"),
        (gradio_compat.examples_dataset(clip_examples), "examples"),
        (run, "run"),
        (stop, "stop"),
        (tracks, "tracks"),
        (timeline, "timeline"),
        (downloads, "downloads"),
    ]


def _session(request: gr.Request | None) -> str:
    return str(getattr(request, "session_hash", "") or "")


def _name_of(path: str) -> str:
    return Path(path).name


def _error(err: Exception, path: str) -> str:
    # Gradio's upload folder is noise to the user (and a server path); the file's own name is what they recognise.
    line = str(err).splitlines()[0] if str(err) else type(err).__name__
    return "⚠ " + line.replace(path, _name_of(path)).replace(str(Path(path).parent) + "/", "")
