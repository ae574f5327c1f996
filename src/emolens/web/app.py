"""Assembly: one Recognizer, one worker pool, the REST router and the Gradio UI mounted at /."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from emolens.api import Recognizer

from .api_routes import build_router
from .limits import BodySizeLimit, WorkPool, install_error_handlers
from .offline import StripRemoteAssets, docs_page
from .options import WebOptions
from .ui import build_ui


def build_app(options: WebOptions, recognizer: Recognizer | None = None) -> FastAPI:
    recognizer = recognizer or Recognizer(options.recognizer)
    pool = WorkPool(options.worker_count, options.max_waiting)
    # The UI's result files (annotated video, CSV, JSONL, JSON) live here until the server stops.
    work_dir = Path(tempfile.mkdtemp(prefix="emolens-web-"))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)

    app = FastAPI(
        title="emolens",
        summary="Facial emotion recognition, offline, on a CPU",
        description="Upload an image or a video clip; every detected face gets a box and 7 emotion probabilities.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, limit_bytes=options.max_upload_bytes)
    app.add_middleware(StripRemoteAssets)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_page(app.openapi()))

    app.include_router(build_router(recognizer, pool, options))
    blocks = build_ui(recognizer, pool, options, work_dir)
    # Gradio 5.50's mount_gradio_app prints a stray "new /" line; a library must not write to stdout.
    with contextlib.redirect_stdout(io.StringIO()):
        return gr.mount_gradio_app(
            app,
            blocks,
            path="/",
            max_file_size=options.max_upload_bytes,
            show_api=False,
            ssr_mode=False,
            pwa=False,
            mcp_server=False,
        )
