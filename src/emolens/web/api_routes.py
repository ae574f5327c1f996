"""The REST API: the same JSON as the command line's --json (`FaceResult.to_dict`, `FrameResult.to_dict`)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Request, UploadFile

from emolens.api import Recognizer
from emolens.errors import MediaError
from emolens.io.images import decode_image
from emolens.io.media import upload_video_suffix
from emolens.io.sinks import ResultList, TrackSummary
from emolens.io.sources import Frame, VideoFileSource
from emolens.video import StopRule, frame_cap, run, stop_when

from . import api_examples
from .api_examples import ok_response
from .options import WebOptions
from .pool import Cancel, WorkPool, watch_disconnect
from .sniff import PHOTO_ROUTE, VIDEO_ROUTE, route_hint

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed multipart body"},
    403: {"description": "cross-site request: the Origin header is not this server's or an allowed one"},
    405: {"description": "method not allowed on this route"},
    413: {"description": "request over the size limit, or an image or video frame over the pixel limit"},
    415: {"description": "not a readable image or video (formats: JPEG, PNG, WebP, BMP, TIFF, GIF, PNM)"},
    422: {"description": "empty upload (0 bytes) or missing `file` field"},
    503: {
        "description": "too many requests waiting, or (videos) the server's memory over --max-rss-mb; see Retry-After"
    },
}
_CHUNK_BYTES = 1024 * 1024
_SNIFF_BYTES = 512


def build_router(recognizer: Recognizer, pool: WorkPool, options: WebOptions) -> APIRouter:
    """The REST routes: /healthz, POST /api/v1/analyze (an image) and /api/v1/analyze-video (a clip).

    Args:
        recognizer: the loaded model, shared by every request.
        pool: runs the model off the event loop, a bounded number of requests at a time.
        options: the server's limits (pixels, frames, time per request) and settings.

    Returns:
        A router to include in the app.
    """
    router = APIRouter()

    @router.get("/healthz", summary="liveness, the loaded model and the face detector that runs")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "version": _version(),
            "model": str(options.recognizer.model),
            "detector": recognizer.detector.name,
            "detector_description": recognizer.detector_description,
        }

    @router.post(
        PHOTO_ROUTE,
        summary="emotions of every face in one image",
        responses={**ok_response(api_examples.ANALYZE), **_ERRORS},
    )
    async def analyze(
        file: Annotated[UploadFile, File(description="an image: JPEG, PNG, WebP, BMP, TIFF, GIF or PNM; not empty")],
    ) -> dict[str, Any]:
        name = _client_name(file.filename)
        data = await file.read()
        if not data:
            raise HTTPException(422, f"{name}: empty file")
        hint = route_hint(data[:_SNIFF_BYTES], PHOTO_ROUTE)
        if hint:
            raise HTTPException(415, f"{name}: not an image{hint}")
        result = await pool.run(_analyze_bytes, recognizer, data, name, options.max_pixels)
        return {"path": name, "file": name, "faces": [face.to_dict() for face in result.faces]}

    @router.post(
        VIDEO_ROUTE,
        summary="emotions per frame of a video clip, faces tracked",
        responses={**ok_response(api_examples.ANALYZE_VIDEO), **_ERRORS},
    )
    async def analyze_video(
        request: Request,
        file: Annotated[UploadFile, File(description="a video clip: MP4, WebM, MOV, AVI; not empty")],
    ) -> dict[str, Any]:
        name = _client_name(file.filename)
        head = await file.read(_SNIFF_BYTES)
        if not head:
            raise HTTPException(422, f"{name}: empty file")
        suffix = upload_video_suffix(head)
        if suffix is None:
            raise HTTPException(
                415, f"{name}: not a video file (MP4, MOV, WebM, MKV, AVI, Ogg, MPEG){route_hint(head, VIDEO_ROUTE)}"
            )
        with tempfile.TemporaryDirectory(prefix="emolens-upload-") as tmp:
            # OpenCV reads video from a path only; the suffix follows the sniffed container, not the client's name.
            path = Path(tmp) / f"upload{suffix}"
            with path.open("wb") as out:
                out.write(head)
                while chunk := await file.read(_CHUNK_BYTES):
                    out.write(chunk)
            cancel = Cancel(options.request_timeout_s)
            async with watch_disconnect(request, cancel):
                return await pool.run(
                    _analyze_video_file, recognizer, path, name, options, cancel, pool.memory_mark, heavy=True
                )

    return router


def refine_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """State in the OpenAPI schema what the routes refuse: an upload is at least one byte (422 otherwise).

    FastAPI cannot say it from the UploadFile annotation; schema-driven clients and testers read it here.

    Args:
        schema: the schema FastAPI generated; it is changed in place.

    Returns:
        The same schema.
    """
    for body in schema.get("components", {}).get("schemas", {}).values():
        upload = body.get("properties", {}).get("file")
        if upload is not None and upload.get("type") == "string":
            upload["minLength"] = 1
    return schema


def _client_name(filename: str | None) -> str:
    """The upload's base name as the client sent it, printable and short, for messages and the JSON."""
    name = Path(filename or "upload").name or "upload"
    return "".join(c if c.isprintable() else "?" for c in name)[:200]


def _analyze_bytes(recognizer: Recognizer, data: bytes, name: str, max_pixels: int) -> Any:
    return recognizer.analyze(decode_image(data, name, max_pixels))


def _analyze_video_file(
    recognizer: Recognizer,
    path: Path,
    name: str,
    options: WebOptions,
    cancel: Cancel,
    memory_mark: StopRule | None = None,
) -> dict[str, Any]:
    kept, summary = ResultList(), TrackSummary()
    stop = stop_when(frame_cap(options.max_video_frames, "server limit"), lambda _done: cancel.reason(), memory_mark)
    try:
        with VideoFileSource(path) as source:
            options.check_frame_size(source.size_px, name)
            frames = _size_checked(source, name, options)
            stopped = run(recognizer.stream(), frames, [kept, summary], stop).stopped
            error = source.error
    except MediaError as err:
        # The source names the temporary path; the client knows its file by the name it sent.
        raise type(err)(str(err).replace(str(path), name)) from None
    if not kept.results:
        if stopped:
            raise MediaError(f"{name}: {stopped} before the first frame")
        raise MediaError(f"{name}: no frames could be decoded" + (f" ({error})" if error else ""))
    if error:
        error = error.replace(str(path), name)
    elif stopped:
        error = f"{name}: {stopped}"
    return {
        "path": name,
        "file": name,
        "fps": source.fps,
        "frame_count": source.frame_count,
        "frames_analyzed": summary.frames,
        "track_ids": list(summary.track_ids),
        "error": error,
        "frames": [result.to_dict() for result in kept.results],
    }


def _size_checked(frames: Iterable[Frame], name: str, options: WebOptions) -> Iterator[Frame]:
    """The frames, each checked against the server's pixel limit (a decoded frame may outgrow the header's size)."""
    for frame in frames:
        options.check_frame_size(frame.image.shape[1::-1], name)
        yield frame


def _version() -> str:
    try:
        return version("emolens")
    except PackageNotFoundError:
        return "unknown"
