"""Every use of a Gradio internal, in one place, each with why; `check_gradio` tests them all at start-up.

The web app needs a few things Gradio does not offer as API: a mounted app that still checks file paths, a
hook on a page closing, an image input that leaves decoding to emolens, the examples' load event, CSS and
DOM names of its page, its page template's remote tags, its routing errors and one bug in its upload
progress. pyproject pins Gradio to a major series (5.50 up to 6); within it any of these may move, so
`check_gradio` runs when the app is built and stops the server with one line naming what changed (signatures,
not just names), rather than letting a security check or a Stop button fail silently. The browser tests
(tests/web/test_web_browser.py) check the CSS and DOM names against a real page.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from gradio import data_classes, helpers, processing_utils, queueing
from gradio import routes as gradio_routes
from gradio.events import Dependency
from starlette.routing import Match, Mount, NoMatchFound
from starlette.types import ASGIApp, Receive, Scope, Send

from emolens.errors import EmolensError

#: Gradio's route for upload progress, under its API prefix (see `UndefinedUploadProgress`).
UPLOAD_PROGRESS_PATH = "/gradio_api/upload_progress"

#: <script src="http..."> and <link href="http..."> tags. Gradio's page template (templates/frontend/index.html)
#: loads an iframe-resizer script from cdnjs and preconnects to Google Fonts: `offline.StripRemoteAssets`
#: removes both so the page fetches nothing from elsewhere; `check_gradio` proves the template still matches.
REMOTE_TAGS = re.compile(
    rb"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>|<link[^>]*\bhref=\"https?://[^\"]*\"[^>]*/?>",
    re.IGNORECASE,
)

_REMOTE_REF = re.compile(rb"<(script|link)[^>]*(src|href)=\"https?://", re.IGNORECASE)

#: Class names of Gradio's page that the CSS below relies on, as they appear in its compiled stylesheets.
CSS_NAMES = ("image-frame", "image-container", "icon-button-wrapper", "gradio-container", "label.float")
#: Outputs whose label Gradio floats over the picture's top-left corner, where face 1's label usually is.
_LABELLED_OUTPUTS = (
    "camera-output",
    "photo-output",
    "photo-bars",
    "photo-bars-narrow",
    "video-output",
    "video-timelines",
)
#: Below this page width (px) the Photo tab shows its one-chart-per-row chart instead of three to a row.
NARROW_PAGE_PX = 720


def _label_above(elem_id: str) -> str:
    # The label takes its own line above the picture (it is absolutely positioned by default), and the
    # fullscreen and download buttons move up into that line instead of covering the picture's top-right.
    return (
        f"#{elem_id} > label.float {{ position: static !important; }}\n"
        f"#{elem_id} .image-container {{ position: static !important; }}\n"
        f"#{elem_id} .icon-button-wrapper {{ top: var(--block-label-margin) !important; }}\n"
    )


#: The page's CSS on top of Gradio's theme. Class names are Gradio's (CSS_NAMES); ids are ours (elem_id).
CSS = (
    # Charts and timelines fill the column at their own aspect (Gradio caps an image's height), so they
    # read without opening them full screen.
    "#video-timelines img, #photo-bars img, #photo-bars-narrow img { width: 100% !important; "
    "height: auto !important; max-height: none !important; object-fit: contain !important; }\n"
    "#video-timelines .image-frame, #photo-bars .image-frame, #photo-bars-narrow .image-frame { width: 100% "
    "!important; height: auto !important; }\n"
    "#video-timelines .image-container, #photo-bars .image-container, #photo-bars-narrow .image-container "
    "{ height: auto !important; }\n"
    ".gradio-container { max-width: 1280px !important; }\n"
    + "".join(_label_above(elem_id) for elem_id in _LABELLED_OUTPUTS)
    # One chart per row on a phone, three to a row elsewhere: the same charts, laid out for the width.
    + f"@media (max-width: {NARROW_PAGE_PX}px) {{ #photo-bars {{ display: none !important; }}\n"
    # A timeline is 960 px of axes and legend: on a phone it keeps a legible width and scrolls sideways.
    "#video-timelines .image-frame { overflow-x: auto !important; justify-content: flex-start !important; }\n"
    "#video-timelines img { width: 640px !important; max-width: none !important; } }\n"
    f"@media (min-width: {NARROW_PAGE_PX + 1}px) {{ #photo-bars-narrow {{ display: none !important; }} }}\n"
)

#: Run once when the page loads. Gradio's Image and File inputs refuse a file of the wrong kind in the
#: browser, with a toast that vanishes and a red "Error" on the input, and the server never hears of it. This
#: catches such a file first (capture phase, on the file input's change and on a drop), stops Gradio's
#: handler and clicks the tab's hidden button, whose event carries the file's name and type to the server
#: for a message that stays in the tab. It relies on Gradio's DOM: an <input type="file"> inside the
#: component's element, and drops landing inside it.
WRONG_FILE_JS = """
() => {
  const inputs = {"photo-input": ["image/", "photo-wrong-file"], "video-input": ["video/", "video-wrong-file"]};
  const rule = (target) => {
    for (const [id, [kind, button]] of Object.entries(inputs)) {
      if (target instanceof Element && target.closest("#" + id)) return [kind, button];
    }
    return null;
  };
  const refuse = (event, files) => {
    const found = rule(event.target);
    if (!found || !files || !files.length) return false;
    const wrong = Array.from(files).find((file) => !(file.type || "").startsWith(found[0]));
    if (!wrong) return false;
    event.preventDefault();
    event.stopImmediatePropagation();
    window.emolensWrongFile = JSON.stringify({name: wrong.name, type: wrong.type || ""});
    click(found[1], 50);
    return true;
  };
  // Gradio renders a tab's components one after another: right after the tab opens the button may not exist yet.
  const click = (id, tries) => {
    const button = document.getElementById(id);
    if (button) button.click();
    else if (tries > 0) setTimeout(() => click(id, tries - 1), 100);
  };
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.type === "file" && refuse(event, input.files)) input.value = "";
  }, true);
  document.addEventListener("drop", (event) => {
    if (refuse(event, event.dataTransfer && event.dataTransfer.files)) {
      event.target.dispatchEvent(new DragEvent("dragleave", {bubbles: true}));
    }
  }, true);
}
"""
#: The hidden button's event: its second input gets what WRONG_FILE_JS left (JSON: name and MIME type).
WRONG_FILE_EVENT_JS = "(lang, _wrong) => [lang, window.emolensWrongFile || '']"


class GradioCompatError(EmolensError):
    """This Gradio differs from what emolens relies on where it uses Gradio's internals (see gradio_compat)."""


def check_gradio() -> None:
    """The start-up self-test: every Gradio internal emolens uses is there, with the signature it expects.

    Raises:
        GradioCompatError: naming the first internal that changed and the Gradio version.
    """
    for ok, what in _checks():
        if not ok:
            raise GradioCompatError(
                f"Gradio {gr.__version__}: {what}; emolens's web app was built against Gradio 5.50 "
                "(see emolens/web/gradio_compat.py)"
            )


def _checks() -> list[tuple[bool, str]]:
    check_allowed = getattr(processing_utils, "_check_allowed", None)
    clean_events = getattr(queueing.Queue, "clean_events", None)
    preprocess = getattr(gr.Image, "preprocess", None)
    gradio_root = Path(gr.__file__).parent
    template = gradio_root / "templates" / "frontend" / "index.html"
    page = template.read_bytes() if template.is_file() else b""
    stylesheets = b"".join(p.read_bytes() for p in (gradio_root / "templates" / "frontend" / "assets").glob("*.css"))
    return [
        (
            callable(check_allowed)
            and _params(check_allowed) == ["path", "check_in_upload_folder"]
            and "has_launched" in _source(check_allowed),
            "processing_utils._check_allowed(path, check_in_upload_folder) no longer reads Blocks.has_launched",
        ),
        (
            callable(clean_events)
            and inspect.iscoroutinefunction(clean_events)
            and _keyword_only(clean_events) >= {"session_hash", "event_id"},
            "Queue.clean_events is no longer `async def clean_events(self, *, session_hash, event_id)`",
        ),
        (
            callable(preprocess)
            and _params(preprocess) == ["self", "payload"]
            and {"path", "url"} <= set(data_classes.ImageData.model_fields),
            "Image.preprocess(self, payload) with payload.path and payload.url changed",
        ),
        (
            "self.load_input_event" in _source(helpers.Examples) and "self.dataset" in _source(helpers.Examples),
            "Examples no longer sets load_input_event and dataset",
        ),
        (
            {"app", "blocks", "path", "max_file_size", "show_api", "ssr_mode", "pwa", "mcp_server", "show_error"}
            <= set(_params(gr.mount_gradio_app)),
            "mount_gradio_app lost a parameter emolens passes",
        ),
        (_route_in_scope(), "FastAPI no longer records the matched route in the request scope"),
        (
            "def get_upload_progress(upload_id: str" in _source(gradio_routes.App.create_app),
            f"the {UPLOAD_PROGRESS_PATH}?upload_id= route changed",
        ),
        (
            bool(REMOTE_TAGS.search(page)) and not _REMOTE_REF.search(REMOTE_TAGS.sub(b"", page)),
            "the page template's remote <script>/<link> tags no longer match offline.REMOTE_TAGS",
        ),
        (
            all(name.encode() in stylesheets for name in CSS_NAMES),
            f"the page's stylesheets lack one of the class names {', '.join(CSS_NAMES)}",
        ),
    ]


def _params(fn: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(fn).parameters)


def _keyword_only(fn: Callable[..., Any]) -> set[str]:
    return {p.name for p in inspect.signature(fn).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def _route_in_scope() -> bool:
    async def endpoint() -> None:
        return None

    route = APIRoute("/probe", endpoint, methods=["GET"])
    match, child = route.matches({"type": "http", "path": "/probe", "method": "POST", "root_path": ""})
    return match is Match.PARTIAL and child.get("route") is route


def matched_no_route(request: Request) -> bool:
    """Whether a 404 came from routing (no route has the path) rather than from one of Gradio's routes.

    FastAPI writes the matched route into the request scope (`scope["route"]`); Gradio's own routes raise
    404 with a message its page reads as `{"detail"}`, while a path nothing serves gets emolens's `{"error"}`.

    Args:
        request: the request that ended in 404.

    Returns:
        True when no FastAPI route matched its path.
    """
    return "route" not in request.scope


def mount(app: FastAPI, blocks: gr.Blocks, **kwargs: Any) -> tuple[FastAPI, list[FastAPI]]:
    """`gr.mount_gradio_app` at /, with Gradio's file-path check kept on, and Gradio's own app(s) returned.

    Args:
        app: emolens's app.
        blocks: the UI.
        **kwargs: mount_gradio_app's other arguments.

    Returns:
        The mounted app, and Gradio's FastAPI app(s) mounted in it (for their error handlers).

    Raises:
        GradioCompatError: If Blocks has no has_launched flag or Gradio's upload-progress route changed.
    """
    # Gradio 5.50's mount_gradio_app prints a stray "new /" line; a library must not write to stdout.
    with contextlib.redirect_stdout(io.StringIO()):
        mounted = gr.mount_gradio_app(app, blocks, path="/", **kwargs)
    # mount_gradio_app never marks the Blocks as launched, and Gradio checks that a file path in an event came
    # from an upload only for launched Blocks (processing_utils._check_allowed): without this, any client could
    # read any server file.
    if not isinstance(getattr(blocks, "has_launched", None), bool):
        raise GradioCompatError(f"Gradio {gr.__version__}: Blocks has no has_launched flag")
    blocks.has_launched = True
    gradio_apps = [r.app for r in mounted.routes if isinstance(r, Mount) and isinstance(r.app, FastAPI)]
    if not gradio_apps or not all(_serves_upload_progress(g) for g in gradio_apps):
        raise GradioCompatError(f"Gradio {gr.__version__}: no {UPLOAD_PROGRESS_PATH} route")
    for gradio_app in gradio_apps:
        # Gradio builds its app with debug=True: an error in its routes (a malformed upload, say) would
        # send the client a traceback. Its errors go to the log; the client gets one line.
        gradio_app.debug = False
    return mounted, gradio_apps


def _serves_upload_progress(gradio_app: FastAPI) -> bool:
    try:
        return gradio_app.url_path_for("get_upload_progress") == UPLOAD_PROGRESS_PATH
    except NoMatchFound:
        return False


def on_page_closed(blocks: gr.Blocks, callback: Callable[[str], None]) -> None:
    """Call `callback(session_hash)` when a browser's event stream (/gradio_api/queue/data) closes.

    Gradio notices the closed stream and calls its queue's `clean_events(session_hash=...)`, which marks the
    session's jobs dead; a generator would then be stopped at its next yield, but a plain function running in
    a worker thread never hears of it. So the same call also tells `callback`.

    Args:
        blocks: the UI, before it is mounted.
        callback: told the session's hash.

    Raises:
        GradioCompatError: If the Blocks has no queue with clean_events.
    """
    queue = getattr(blocks, "_queue", None)
    clean_events: Callable[..., Awaitable[None]] | None = getattr(queue, "clean_events", None)
    if queue is None or clean_events is None:
        raise GradioCompatError(f"Gradio {gr.__version__}: Blocks._queue.clean_events is gone")

    async def clean_events_and_tell(*, session_hash: str | None = None, event_id: str | None = None) -> None:
        if session_hash:
            callback(session_hash)
        await clean_events(session_hash=session_hash, event_id=event_id)

    queue.clean_events = clean_events_and_tell


def undecoded_upload(image: gr.Image) -> gr.Image:
    """Make `image` hand its handler an uploaded file's path, undecoded; other payloads as Gradio decodes them.

    emolens reads and checks the file itself, so a broken file gets emolens's one-line message rather than
    Pillow's (with a server path). Gradio has no option for it, so this one instance's `preprocess` is
    replaced. (A subclass of gr.Image would do the same, but Gradio writes a .pyi stub beside every subclass.)

    Args:
        image: a gr.Image with type="filepath".

    Returns:
        The same component.
    """
    decode = image.preprocess

    def preprocess(payload: Any) -> Any:
        path, url = getattr(payload, "path", None), getattr(payload, "url", None) or ""
        return str(path) if path and not url.startswith("data:") else decode(payload)

    image.preprocess = preprocess  # type: ignore[method-assign]  # this one instance's method, on purpose
    return image


def examples_loaded(examples: helpers.Examples) -> Dependency:
    """The event that fires once a clicked example is in its input; Gradio keeps it as an attribute only.

    `upload` does not fire for an example, and `change` fires twice for an image, so the Photo tab chains its
    analysis on this.

    Args:
        examples: the examples.

    Returns:
        The event, to chain `.then(...)` on.

    Raises:
        GradioCompatError: If Examples has no load_input_event.
    """
    event = getattr(examples, "load_input_event", None)
    if not isinstance(event, Dependency):
        raise GradioCompatError(f"Gradio {gr.__version__}: Examples.load_input_event is not an event")
    return event


def examples_dataset(examples: helpers.Examples) -> gr.Dataset:
    """The component that shows the examples, whose label follows the page's language.

    Args:
        examples: the examples.

    Returns:
        Their gr.Dataset, kept by Gradio as an attribute only.

    Raises:
        GradioCompatError: If Examples has no dataset.
    """
    dataset = getattr(examples, "dataset", None)
    if not isinstance(dataset, gr.Dataset):
        raise GradioCompatError(f"Gradio {gr.__version__}: Examples.dataset is not a Dataset")
    return dataset


class UndefinedUploadProgress:
    """ASGI middleware: answer Gradio's `upload_progress?upload_id=undefined` at once with "done".

    Gradio 5.50's upload component (js/upload/src/Upload.svelte) makes a fresh upload id inside `handle_upload`
    but gives its progress bar the component's own `upload_id`, which is never set; so every upload opens
    /gradio_api/upload_progress?upload_id=undefined, which Gradio answers after 3 s with a 404 (logged as one
    per upload). The id of the real upload is unknown here, so the answer is the stream's last message, "done":
    the bar closes as it would at the end (it is shown only while the upload runs, whatever this says).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == UPLOAD_PROGRESS_PATH
            and scope.get("query_string", b"") in (b"upload_id=undefined", b"upload_id=")
        ):
            body = b'data: {"msg": "done"}\n\n'
            headers = [(b"content-type", b"text/event-stream"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""})
            return
        await self.app(scope, receive, send)
