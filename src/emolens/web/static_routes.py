"""The Camera tab's in-page pipeline: its files, the two ONNX models and the settings, from this server only.

The page (static/camera_pipeline.mjs) runs the face detector and the emotion classifier in the browser with
onnxruntime-web (vendored by scripts/fetch_onnxruntime_web.py), so camera frames never leave the device. What it
needs comes from here:

    GET /emolens/static/NAME         the page's modules and the vendored runtime (text/javascript, application/wasm)
    GET /emolens/models/classifier.onnx     the model this server runs (application/octet-stream)
    GET /emolens/models/face-detector.onnx  the CNN face detector (models/libfacedetection.onnx)
    GET /emolens/camera-config.json  every constant the page uses, read from the Python defaults and the
                                     classifier's ONNX metadata, never retyped in JavaScript

Files are answered with a strong ETag (their SHA-256) and `Cache-Control: no-cache`: a browser keeps them and
revalidates each load (304), so an upgraded package is never served stale. Every response of the app carries
COOP/COEP headers, which make the page cross-origin isolated: onnxruntime-web needs that (SharedArrayBuffer) to run
its WASM on more than one thread. Nothing on the page comes from another host, so isolation blocks nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emolens import modelmeta
from emolens.api import Recognizer
from emolens.labels import LANGUAGES, display_names
from emolens.render import COLORS_BGR
from emolens.runtime import tracker as tracker_rules
from emolens.runtime.classifier import INPUT_NAME, OUTPUT_NAME
from emolens.runtime.detectors import cnn
from emolens.runtime.detectors.base import MAX_DETECT_SIDE_PX
from emolens.runtime.detectors.cnn import CNN_CROP, CNN_SMALLEST_FACE_PX
from emolens.runtime.onnx_session import open_session
from emolens.runtime.pipeline import _MIN_SHOWN_PX
from emolens.types import EMOTIONS

#: URL prefix of everything this module serves.
PREFIX = "/emolens"
CONFIG_PATH = f"{PREFIX}/camera-config.json"
CLASSIFIER_PATH = f"{PREFIX}/models/classifier.onnx"
DETECTOR_PATH = f"{PREFIX}/models/face-detector.onnx"
STATIC_PREFIX = f"{PREFIX}/static/"
#: The page's entry module, for the <head> of the Gradio page.
PAGE_MODULE = f"{STATIC_PREFIX}camera_page.mjs"
#: What the Gradio page's <head> gets: the entry module.
CAMERA_HEAD_HTML = f'<script type="module" src="{PAGE_MODULE}"></script>'
#: The Camera tab's in-page camera (static/camera_page.mjs fills it): frames are analysed in the browser, never sent.
CAMERA_PANEL_HTML = """<div id="emolens-local">
<button id="emolens-local-start" type="button"
 style="padding:.5rem 1rem;border:1px solid #ccc;border-radius:8px;background:#f4f4f5;cursor:pointer">
Start the camera on this device</button>
<p id="emolens-local-status" aria-live="polite">The models run in this page: no frame leaves this device.</p>
<canvas id="emolens-local-canvas" width="640" height="480" style="max-width:100%;height:auto"></canvas>
<p>Below: the server camera, which sends each frame to this server and shows its answer.</p>
</div>"""
#: The vendored onnxruntime-web files (scripts/fetch_onnxruntime_web.py writes them).
ORT_BUNDLE = "vendor/ort.wasm.min.mjs"
#: The folder of its WASM binary and Emscripten glue (ort-wasm-simd-threaded.wasm and .mjs).
ORT_WASM_DIR = "vendor/"
_ORT_VERSION_FILE = "vendor/VERSION-onnxruntime-web.txt"

_CONTENT_TYPES = {
    ".mjs": "text/javascript; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
#: Keep a copy, but ask the server (ETag) before each use: a package upgrade must never meet a stale file.
_CACHE_CONTROL = "no-cache"
#: Cross-origin isolation (COOP + COEP): SharedArrayBuffer, hence WASM threads. Everything is same-origin.
ISOLATION_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-embedder-policy", b"require-corp"),
)


@dataclass(frozen=True)
class _ServedFile:
    path: Path
    content_type: str
    etag: str


def static_dir() -> Path:
    """The package's web/static folder (the page's modules and the vendored runtime).

    Returns:
        Its path on disk.
    """
    return Path(str(resources.files("emolens") / "web" / "static"))


def detector_settings() -> dict[str, Any]:
    """The detector's file URL, input name and decoding, as runtime/detectors/cnn.py reads them from the model's
    metadata (its `Decoding`): the page decodes the same file the same way.

    Returns:
        url, input_name and decoding (strides, pad_px, score_threshold, nms_iou, top_k, keep_top_k).

    Raises:
        ModelFileError: If the shipped detector is missing or its metadata lacks a setting.
    """
    path = cnn.model_file()
    session = open_session(path, threads=1)
    decoding = cnn.Decoding.from_metadata(path, session.get_modelmeta().custom_metadata_map)
    return {"url": DETECTOR_PATH, "input_name": cnn.INPUT_NAME, "decoding": dataclasses.asdict(decoding)}


def camera_config(recognizer: Recognizer) -> dict[str, Any]:
    """Every constant the in-page pipeline uses, from the server's options (whose defaults are the Python ones),
    the tracker's rules and the classifier's ONNX metadata.

    Args:
        recognizer: the server's loaded model and options.

    Returns:
        A JSON-ready dict (see docs/browser-camera.md for each key).
    """
    options = recognizer.options
    pipeline = options.pipeline
    meta = recognizer.classifier.metadata
    ort_version_file = static_dir() / _ORT_VERSION_FILE
    return {
        "labels": list(EMOTIONS),
        "display_names": {lang: list(display_names(lang)) for lang in LANGUAGES},
        "colors_rgb": [list(reversed(bgr)) for bgr in COLORS_BGR],
        "classifier": {
            "url": CLASSIFIER_PATH,
            "input_name": INPUT_NAME,
            "output_name": OUTPUT_NAME,
            "input_size_px": int(float(meta[modelmeta.INPUT_SIZE])),
            "mean": float(meta[modelmeta.MEAN]),
            "std": float(meta[modelmeta.STD]),
            "labels": json.loads(meta[modelmeta.LABELS]),
            "architecture": recognizer.classifier.architecture,
            "metadata": dict(meta),
        },
        "detector": detector_settings(),
        "detection": {
            "min_score": options.min_score,
            "min_face_px": options.min_face_px,
            "max_side_px": options.detector_max_side_px,
            "smallest_face_px": CNN_SMALLEST_FACE_PX,
            "max_detect_side_px": MAX_DETECT_SIDE_PX,
        },
        "crop": {
            "side_scale": CNN_CROP.side_scale,
            "shift_x": CNN_CROP.shift_x,
            "shift_y": CNN_CROP.shift_y,
            "margin": pipeline.crop_margin,
        },
        "tracking": {
            "detect_every": pipeline.detect_every,
            "iou_threshold": pipeline.iou_threshold,
            "max_missed": pipeline.max_missed,
            "min_hits": pipeline.min_hits,
            "min_detector_hits": tracker_rules._MIN_DETECTOR_HITS,
            "reid_max_shift": tracker_rules._REID_MAX_SHIFT,
            "reid_max_area_ratio": tracker_rules._REID_MAX_AREA_RATIO,
            "min_shown_px": _MIN_SHOWN_PX,
        },
        "smoothing": {"smooth": pipeline.smooth, "alpha": pipeline.smoothing_alpha},
        "ort": {
            "version": ort_version_file.read_text(encoding="utf-8").strip() if ort_version_file.is_file() else None,
            "bundle_url": STATIC_PREFIX + ORT_BUNDLE,
            "wasm_dir_url": STATIC_PREFIX + ORT_WASM_DIR,
        },
    }


class CrossOriginIsolation:
    """ASGI middleware: COOP and COEP on every HTTP response, so the page may run WASM on several threads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_isolated(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in ISOLATION_HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_isolated)


def install_camera_routes(app: FastAPI, recognizer: Recognizer) -> None:
    """Add the in-page camera's routes and the isolation headers to `app` (before the UI is mounted at /).

    Args:
        app: the server's FastAPI app.
        recognizer: the loaded model: its classifier file is served and its options fill the config.
    """
    files: dict[str, _ServedFile] = {}
    root = static_dir()
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        if path.is_file() and path.suffix in _CONTENT_TYPES:
            files[path.relative_to(root).as_posix()] = _served(path)
    classifier = _served(recognizer.model_path)
    detector = _served(cnn.model_file())
    config = camera_config(recognizer)
    config_body = json.dumps(config, allow_nan=False).encode()
    config_etag = _etag(config_body)

    @app.get(CONFIG_PATH, include_in_schema=False)
    async def camera_config_route(request: Request) -> Response:
        if _not_modified(request, config_etag):
            return _not_modified_response(config_etag)
        return Response(
            config_body,
            media_type="application/json",
            headers={"Cache-Control": _CACHE_CONTROL, "ETag": config_etag},
        )

    @app.get(CLASSIFIER_PATH, include_in_schema=False)
    async def classifier_route(request: Request) -> Response:
        return _file_response(request, classifier)

    @app.get(DETECTOR_PATH, include_in_schema=False)
    async def detector_route(request: Request) -> Response:
        return _file_response(request, detector)

    @app.get(STATIC_PREFIX + "{name:path}", include_in_schema=False)
    async def static_route(request: Request, name: str) -> Response:
        served = files.get(name)  # only files that were there at start-up: no path is ever built from a request
        if served is None:
            return JSONResponse({"error": "no such file"}, status_code=404)
        return _file_response(request, served)

    app.add_middleware(CrossOriginIsolation)


def _served(path: Path) -> _ServedFile:
    content_type = _CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    return _ServedFile(path, content_type, _etag(path.read_bytes()))


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _not_modified(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") == etag for tag in sent.split(","))


def _not_modified_response(etag: str) -> Response:
    return Response(status_code=304, headers={"Cache-Control": _CACHE_CONTROL, "ETag": etag})


def _file_response(request: Request, served: _ServedFile) -> Response:
    if _not_modified(request, served.etag):
        return _not_modified_response(served.etag)
    # FileResponse streams from disk; the 11 MB runtime is not held in memory.
    return FileResponse(
        served.path, media_type=served.content_type, headers={"Cache-Control": _CACHE_CONTROL, "ETag": served.etag}
    )
