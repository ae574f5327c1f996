"""The Gradio UI: Camera, Photo and Video tabs over the shared Recognizer. Fonts are local; nothing is fetched.

Every word on the page follows the language chosen at the top (`ui_text`); errors are emolens's own
one-line messages, shown once in the tab's summary and left there until the next result.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from emolens.api import Recognizer
from emolens.errors import EmolensError
from emolens.render import RenderOptions

from .limits import WorkPool
from .options import WebOptions
from .static_routes import CAMERA_HEAD_HTML, CAMERA_PANEL_HTML
from .ui_handlers import CameraSession, Cancelled, Handlers, make_example_clip, table_headers, track_headers
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
_CSS = """
#video-timelines img, #photo-bars img { width: 100% !important; height: auto !important; max-height: none !important;
  object-fit: contain !important; }
#video-timelines .image-frame, #photo-bars .image-frame { width: 100% !important; height: auto !important; }
#video-timelines .image-container, #photo-bars .image-container { height: auto !important; }
.gradio-container { max-width: 1280px !important; }
"""


def photo_input(**kwargs: Any) -> gr.Image:
    """An image upload that hands the server the file as uploaded, undecoded: emolens reads and checks
    it itself, so a broken file gets emolens's one-line message rather than Pillow's (with a server path).
    (A subclass of gr.Image would do the same, but Gradio writes a .pyi stub beside every subclass.)

    Args:
        **kwargs: gr.Image's own arguments (label, sources, type, ...).

    Returns:
        The component; a file upload reaches the handler as the uploaded file's path, other payloads as
        Gradio decodes them.
    """
    image = gr.Image(**kwargs)
    decode = image.preprocess

    def preprocess(payload: Any) -> Any:
        path, url = getattr(payload, "path", None), getattr(payload, "url", None) or ""
        return str(path) if path and not url.startswith("data:") else decode(payload)

    image.preprocess = preprocess  # type: ignore[method-assign]  # this one instance's method, on purpose
    return image


def example_photos() -> list[Path]:
    """Pictures shipped with the package for the Photo tab's examples (NASA's public-domain portrait).

    Returns:
        The .jpg files of emolens/assets/examples, sorted by name.
    """
    folder = resources.files("emolens") / "assets" / "examples"
    return sorted(Path(str(p)) for p in folder.iterdir() if str(p).endswith(".jpg"))


def build_ui(
    recognizer: Recognizer, pool: WorkPool, options: WebOptions, work_dir: Path, upload_dir: Path | None = None
) -> gr.Blocks:
    """The Gradio page at /: a language switch and the Camera, Photo and Video tabs.

    Args:
        recognizer: the loaded model, shared with the REST routes.
        pool: the work pool the REST routes use too, so the UI and REST share the same limits.
        options: the server's language, limits and settings.
        work_dir: where the handlers write annotated images and videos for the page to show.
        upload_dir: where Gradio keeps uploads: a path the page sends back must lie inside it; None accepts
            any path (tests only).

    Returns:
        The Blocks app, to mount on the FastAPI app.
    """
    handlers = Handlers(recognizer, pool, work_dir, options, upload_dir)
    theme = gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )
    first = options.lang
    with gr.Blocks(title="emolens", theme=theme, analytics_enabled=False, css=_CSS, head=CAMERA_HEAD_HTML) as blocks:
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
    stop_work_when_clients_leave(blocks, handlers)
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
        photo = photo_input(
            sources=["upload", "clipboard"],
            type="filepath",
            image_mode=None,
            label=text("photo", first),
            elem_id="photo-input",
            min_width=_MIN_COLUMN_PX,
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
        label=text("table", first),
        interactive=False,
        elem_id="photo-table",
        wrap=True,
    )
    chart = gr.Image(label=text("chart", first), interactive=False, elem_id="photo-bars", show_fullscreen_button=False)
    download = gr.File(label=text("json", first), elem_id="photo-json")

    def on_photo(path: str | None, lang_code: str, only_labels: bool) -> tuple[Any, ...]:
        empty = pd.DataFrame(columns=table_headers(lang_code))
        if not path:
            return None, "", empty, None, None
        try:
            image = handlers.read_upload(path)
            out = handlers.photo(image, _name_of(path), lang_code, labels_only=only_labels)
        except EmolensError as err:
            return None, _error(err, path), empty, None, None
        frame = pd.DataFrame(out.table_rows, columns=table_headers(lang_code))
        return out.annotated_rgb, out.summary, frame, out.chart_rgb, str(out.json_path)

    outputs = [shown, summary, table, chart, download]
    inputs = [photo, lang, labels_only]
    # `upload` fires once per file; `change` fires twice for an image (Gradio sets the value, then its preview).
    photo.upload(on_photo, inputs=inputs, outputs=outputs)
    photo.clear(lambda: (None, "", None, None, None), outputs=outputs)
    examples.load_input_event.then(on_photo, inputs=inputs, outputs=outputs)
    lang.input(on_photo, inputs=inputs, outputs=outputs)
    labels_only.input(on_photo, inputs=inputs, outputs=outputs)
    return [
        (photo, "photo"),
        (shown, "emotions"),
        (labels_only, "labels_only"),
        (examples.dataset, "examples"),
        (table, "table"),
        (chart, "chart"),
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
        label=text("tracks", first),
        interactive=False,
        elem_id="video-tracks",
        wrap=True,
    )
    timeline = gr.Image(
        label=text("timeline", first), interactive=False, elem_id="video-timelines", show_fullscreen_button=False
    )
    downloads = gr.File(label=text("downloads", first), file_count="multiple", elem_id="video-downloads")

    def on_video(
        path: str | None,
        lang_code: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        if not path:
            return gr.skip(), None, None, None, text("no_video", lang_code)

        def report(done: int, total: int | None) -> None:
            progress((done, total) if total else None, desc=f"{done}", unit="frames")

        try:
            out = handlers.video(Path(path), lang_code, report, session=_session(request))
        except Cancelled:
            return None, None, None, None, text("stopped", lang_code)
        except EmolensError as err:
            return None, None, None, None, _error(err, path)
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
    return [
        (clip, "clip"),
        (shown, "annotated"),
        (clip_examples.dataset, "examples"),
        (run, "run"),
        (stop, "stop"),
        (tracks, "tracks"),
        (timeline, "timeline"),
        (downloads, "downloads"),
    ]


def stop_work_when_clients_leave(blocks: gr.Blocks, handlers: Handlers) -> None:
    """When a browser's event stream (/gradio_api/queue/data) closes, its video analysis stops at the next frame.

    Gradio notices the closed stream and calls its queue's `clean_events(session_hash=...)`, which marks the
    session's jobs dead; a generator would then be stopped at its next yield, but a plain function running in a
    worker thread (the Video tab's) never hears of it and would hold a worker to the end of the clip. So the
    same call also stops the session's analysis here.

    Args:
        blocks: the UI, before it is mounted.
        handlers: the UI's handlers, whose runs are keyed by session.

    Raises:
        RuntimeError: At start-up, if a Gradio upgrade removed that hook, rather than losing the stop silently.
    """
    queue = getattr(blocks, "_queue", None)
    clean_events = getattr(queue, "clean_events", None)
    if queue is None or clean_events is None:
        raise RuntimeError("this Gradio has no Queue.clean_events: the Video tab could not stop for a closed page")

    async def clean_events_and_stop(*, session_hash: str | None = None, event_id: str | None = None) -> None:
        if session_hash:
            handlers.client_gone(session_hash)
        await clean_events(session_hash=session_hash, event_id=event_id)

    queue.clean_events = clean_events_and_stop


def _session(request: gr.Request | None) -> str:
    return str(getattr(request, "session_hash", "") or "")


def _name_of(path: str) -> str:
    return Path(path).name


def _error(err: Exception, path: str) -> str:
    # Gradio's upload folder is noise to the user (and a server path); the file's own name is what they recognise.
    line = str(err).splitlines()[0] if str(err) else type(err).__name__
    return "⚠ " + line.replace(path, _name_of(path)).replace(str(Path(path).parent) + "/", "")
