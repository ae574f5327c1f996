"""Assembly: one Recognizer, one worker pool, the REST router and the Gradio UI mounted at /."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from PIL import Image
from starlette.routing import Route

from emolens.api import Recognizer

from . import gradio_compat
from .api_routes import build_router, refine_schema
from .error_handlers import install_error_handlers, install_gradio_error_handlers
from .guard import RequestGuard
from .offline import StripRemoteAssets, docs_page
from .options import WebOptions
from .pool import WorkPool
from .static_routes import install_camera_routes
from .ui import build_ui
from .uploads import remove_old_files

#: How often the upload folder is swept for files older than WebOptions.upload_max_age_s.
_SWEEP_EVERY_S = 300.0


def build_app(options: WebOptions, recognizer: Recognizer | None = None) -> FastAPI:
    """The whole server: REST routes, the Gradio page at /, offline /docs, error handlers and body limits.

    `create_app` is the public door; this builds what it describes. The app's lifespan sweeps old uploads and
    removes its work folder at shutdown.

    Args:
        options: the model, language, workers and limits.
        recognizer: an already loaded model; None loads `options.recognizer`.

    Returns:
        The ASGI app.
    """
    recognizer = recognizer or Recognizer(options.recognizer)
    # Everything this server writes lives in one folder, removed when it stops: the UI's result files
    # and Gradio's uploads (GRADIO_TEMP_DIR, read when the Blocks and its app are built). Gradio's protocol
    # sends upload and result paths to the browser and back, so the folder is a fresh mkdtemp one: a random,
    # neutral name that tells a client nothing about the server, readable by this user only (0700).
    work_dir = Path(tempfile.mkdtemp())
    try:
        return _assemble(options, recognizer, work_dir)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise


def _assemble(options: WebOptions, recognizer: Recognizer, work_dir: Path) -> FastAPI:
    gradio_compat.check_gradio()  # a Gradio whose internals moved stops here, with one line, not later
    pool = WorkPool(options.worker_count, options.max_waiting, options.max_rss_mb)
    upload_dir = work_dir / "uploads"
    os.environ["GRADIO_TEMP_DIR"] = str(upload_dir)
    # Gradio decodes camera frames with Pillow: hold Pillow to the same pixel limit (it raises above twice this).
    Image.MAX_IMAGE_PIXELS = options.max_pixels // 2

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async def sweep() -> None:
            while True:
                await anyio.sleep(_SWEEP_EVERY_S)
                await anyio.to_thread.run_sync(remove_old_files, upload_dir, options.upload_max_age_s)

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(sweep)
                try:
                    yield
                finally:
                    group.cancel_scope.cancel()
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
    route_methods: dict[str, frozenset[str]] = {}
    app.add_middleware(
        RequestGuard,
        limit_bytes=options.max_upload_bytes,
        route_methods=route_methods,
        allowed_origins=options.allowed_origins,
    )
    app.add_middleware(StripRemoteAssets)
    app.add_middleware(gradio_compat.UndefinedUploadProgress)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_page(app.openapi()))

    rest = build_router(recognizer, pool, options)
    app.include_router(rest)
    install_camera_routes(app, recognizer)  # the Camera tab's in-page pipeline (docs/browser-camera.md)
    generate_schema = app.openapi
    # The ignore: replacing app.openapi is how FastAPI lets an app change its schema.
    app.openapi = lambda: refine_schema(generate_schema())  # type: ignore[method-assign]
    for route in [*app.routes, *rest.routes]:
        if isinstance(route, Route) and route.methods:
            route_methods[route.path] = frozenset(route.methods | {"HEAD"} if "GET" in route.methods else route.methods)
    # Gradio deletes its cached files by age as well; ours are removed whole at shutdown.
    delete_cache = (int(_SWEEP_EVERY_S), int(options.upload_max_age_s))
    blocks = build_ui(recognizer, pool, options, work_dir, upload_dir, delete_cache=delete_cache)
    mounted, gradio_apps = gradio_compat.mount(
        app,
        blocks,
        max_file_size=options.max_upload_bytes,
        show_api=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        # Only our own gr.Error messages reach the browser; Gradio's would name server paths.
        show_error=False,
    )
    for gradio_app in gradio_apps:
        install_gradio_error_handlers(gradio_app)
    return mounted
