"""Bounds that keep one process answering: upload size, a shared worker pool, JSON errors without tracebacks."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emolens.errors import EmolensError, MediaError

log = logging.getLogger("emolens.web")
T = TypeVar("T")


class WorkPool:
    """At most `workers` analyses at once, shared by the REST routes and the UI; a bounded number may wait."""

    def __init__(self, workers: int, max_waiting: int) -> None:
        self.workers = workers
        self.max_waiting = max_waiting
        self._slots = threading.BoundedSemaphore(workers)
        self._waiting = 0

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in the calling thread once a slot is free (for the UI's worker threads)."""
        with self._slots:
            return fn(*args)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in a worker thread; 503 when too many requests are already waiting."""
        # Only the event loop thread touches the counter, so it needs no lock.
        if self._waiting >= self.max_waiting + self.workers:
            raise HTTPException(503, "server busy, try again shortly")
        self._waiting += 1
        try:
            return await anyio.to_thread.run_sync(partial(self.call, fn, *args))
        finally:
            self._waiting -= 1


class BodySizeLimit:
    """ASGI middleware: 413 for bodies over `limit_bytes` on the REST paths, before or while they arrive.

    Starlette would otherwise spool any size of multipart upload to disk before a route sees it.
    """

    def __init__(self, app: ASGIApp, limit_bytes: int, path_prefix: str = "/api/") -> None:
        self.app = app
        self.limit_bytes = limit_bytes
        self.path_prefix = path_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.path_prefix):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit_bytes:
            await _send_json(send, 413, self._message())
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit_bytes:
                    # FastAPI passes an HTTPException raised while reading the body through to its handler.
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, counting_receive, send)

    def _message(self) -> str:
        return f"upload larger than the limit of {self.limit_bytes / 1024 / 1024:g} MB"


async def _send_json(send: Send, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as `{"error": "one line"}`; tracebacks stay in the server log."""

    async def http_error(_request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, StarletteHTTPException)
        return JSONResponse({"error": str(err.detail)}, status_code=err.status_code, headers=err.headers)

    async def validation_error(_request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, RequestValidationError)
        parts = []
        for item in err.errors():
            where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
            parts.append(f"{where}: {item.get('msg', 'invalid')}" if where else str(item.get("msg", "invalid")))
        return JSONResponse({"error": "; ".join(parts) or "invalid request"}, status_code=422)

    async def emolens_error(_request: Request, err: Exception) -> JSONResponse:
        status = 415 if isinstance(err, MediaError) else 422
        return JSONResponse({"error": str(err).splitlines()[0] if str(err) else type(err).__name__}, status_code=status)

    async def unexpected_error(request: Request, err: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=err)
        return JSONResponse({"error": "internal error; see the server log"}, status_code=500)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(EmolensError, emolens_error)
    app.add_exception_handler(Exception, unexpected_error)
