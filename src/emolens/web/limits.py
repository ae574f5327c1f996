"""Bounds that keep one process answering: request guards, a shared worker pool, JSON errors without tracebacks."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from python_multipart.exceptions import FormParserError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emolens.errors import EmolensError, InputTooLargeError, MediaError

log = logging.getLogger("emolens.web")
T = TypeVar("T")


class WorkPool:
    """At most `workers` analyses at once, shared by the REST routes and the UI; a bounded number may wait.

    Heavy work (video clips) may hold at most `workers - 1` of the slots (one, on one core), so a photo or a
    camera frame never waits behind long clips. After heavy work the C heap is trimmed, so the memory a
    clip needed goes back to the system instead of staying in the process; and while the process's resident
    memory stays above `max_rss_mb` (0: no mark) new heavy work is refused, so memory that does not come back
    cannot grow without bound.
    """

    def __init__(self, workers: int, max_waiting: int, max_rss_mb: float = 0.0) -> None:
        self.workers = workers
        self.max_waiting = max_waiting
        self.max_rss_mb = max_rss_mb
        self._slots = threading.BoundedSemaphore(workers)
        self._heavy = threading.BoundedSemaphore(max(1, workers - 1))
        self._waiting = 0

    def call(self, fn: Callable[..., T], *args: Any, heavy: bool = False) -> T:
        """Run `fn` in the calling thread once a slot is free (for the UI's worker threads).

        Args:
            fn: the work.
            *args: its arguments.
            heavy: a clip rather than one image: it also takes one of the workers - 1 heavy slots, and the C
                heap is trimmed after it.

        Returns:
            What `fn` returns.

        Raises:
            OverMemoryMarkError: heavy work asked while the process's memory is above the mark.
        """
        if not heavy:
            with self._slots:
                return fn(*args)
        self.check_memory()
        with self._heavy, self._slots:
            try:
                return fn(*args)
            finally:
                release_free_memory()

    async def run(self, fn: Callable[..., T], *args: Any, heavy: bool = False) -> T:
        """Run `fn` in a worker thread; 503 when too many requests are already waiting.

        Args:
            fn: the work.
            *args: its arguments.
            heavy: a clip rather than one image (see `call`).

        Returns:
            What `fn` returns.

        Raises:
            HTTPException: 503, when `max_waiting` requests already wait beyond the busy workers.
            OverMemoryMarkError: heavy work asked while the process's memory is above the mark.
        """
        # Only the event loop thread touches the counter, so it needs no lock.
        if self._waiting >= self.max_waiting + self.workers:
            raise HTTPException(503, "server busy, try again shortly")
        if heavy:
            self.check_memory()  # before waiting for a slot: a refusal should not queue first
        self._waiting += 1
        try:
            return await anyio.to_thread.run_sync(partial(self.call, fn, *args, heavy=heavy))
        finally:
            self._waiting -= 1

    def check_memory(self) -> None:
        """Pass while the process's resident memory is under `max_rss_mb` (after trimming the C heap once).

        Raises:
            OverMemoryMarkError: naming the resident memory and the mark, with a time to retry after.
        """
        if self.max_rss_mb <= 0:
            return
        resident = resident_mb()
        if resident is None or resident <= self.max_rss_mb:
            return
        release_free_memory()  # pages freed but still held by the C heap count until they are handed back
        resident = resident_mb()
        if resident is not None and resident > self.max_rss_mb:
            log.warning("memory mark: %.0f MB resident, over --max-rss-mb %g; video refused", resident, self.max_rss_mb)
            raise OverMemoryMarkError(
                f"server memory is over its mark ({resident:.0f} MB resident, --max-rss-mb {self.max_rss_mb:g}); "
                f"videos are refused until it comes down, try again in {RETRY_AFTER_S} s"
            )


#: Seconds a client refused for memory is told to wait (Retry-After).
RETRY_AFTER_S = 30


class OverMemoryMarkError(EmolensError):
    """New heavy work is refused while the server's resident memory is above --max-rss-mb (503, Retry-After)."""


def resident_mb() -> float | None:
    """This process's resident memory, as the system counts it.

    Returns:
        Resident MB read from /proc/self/statm; None where there is no /proc (the mark is then not enforced).
    """
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def release_free_memory() -> None:
    """Hand freed C-heap pages back to the system (glibc's malloc_trim); a no-op elsewhere.

    OpenCV and onnxruntime free their buffers, but glibc keeps the pages in per-thread arenas, so without
    this a server's RSS stays at its peak (2-3 GB after a few large clips) for ever.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):  # musl and other libcs have no malloc_trim
        ctypes.CDLL(None).malloc_trim(0)


class Cancel:
    """Why a piece of work must stop: its deadline passed or its client went away. Thread-safe."""

    def __init__(self, deadline_s: float) -> None:
        self._deadline = time.monotonic() + deadline_s
        self._deadline_s = deadline_s
        self._gone = threading.Event()

    def client_gone(self) -> None:
        """Record that the client disconnected; `reason` says so from now on, in every thread."""
        self._gone.set()

    def reason(self) -> str | None:
        """Whether the work must stop, checked by the worker between frames.

        Returns:
            None while the work may go on; else a one-line reason (client gone, or time limit reached).
        """
        if self._gone.is_set():
            return "the client disconnected"
        if time.monotonic() > self._deadline:
            return f"the server's time limit of {self._deadline_s:g} s per request was reached"
        return None


@contextlib.asynccontextmanager
async def watch_disconnect(request: Request, cancel: Cancel, every_s: float = 0.5) -> AsyncIterator[None]:
    """While the block runs, poll whether the client is still there and tell `cancel` when it is not.

    Args:
        request: the request whose client to watch.
        cancel: told `client_gone` on disconnect.
        every_s: seconds between polls.

    Yields:
        Nothing; the poll stops when the block ends.
    """

    async def poll() -> None:
        while not await request.is_disconnected():
            await asyncio.sleep(every_s)
        cancel.client_gone()

    # A plain task rather than a task group: the block's own errors must reach the handlers unwrapped.
    task = asyncio.create_task(poll())
    try:
        yield
    finally:
        task.cancel()


class _BodyTooLarge(HTTPException):
    """Raised from `receive` when a body without Content-Length grows past the limit; FastAPI passes
    HTTPExceptions raised while reading a body through to its handler, other errors become 400."""


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: A refused body is read and thrown away up to this many bytes before the 413 goes out, so clients that
#: send the whole body before reading (Python's urllib, requests) see the answer, not a reset connection.
DRAIN_LIMIT_BYTES = 128 * 1024 * 1024
_DRAIN_TIMEOUT_S = 30.0


class RequestGuard:
    """ASGI middleware in front of every route, the UI's included.

    - 405 `{"error"}` for a method a REST route does not have (the UI mounted at / would answer 404 otherwise);
    - 403 for a state-changing request or websocket whose Origin is neither this server nor an allowed one,
      so a web page the user visits cannot drive the local server;
    - 413 for a body over `limit_bytes`, declared or while it arrives, after draining it (up to a bound).
    """

    def __init__(
        self,
        app: ASGIApp,
        limit_bytes: int,
        route_methods: dict[str, frozenset[str]],
        allowed_origins: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.limit_bytes = limit_bytes
        #: Filled by the app after its routes exist; read per request.
        self.route_methods = route_methods
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        if scope["type"] == "websocket":
            if not self._origin_ok(headers):
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        allowed = self.route_methods.get(scope["path"])
        if allowed is not None and method not in allowed:
            allow = ", ".join(sorted(allowed))
            await _drain_then_send(receive, send, 405, f"method {method[:20]} not allowed; use {allow}", 0, allow)
            return
        if method not in _SAFE_METHODS and not self._origin_ok(headers):
            await _drain_then_send(receive, send, 403, "cross-site request refused (Origin not allowed)", 0)
            return
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit_bytes):
            drain = int(declared) if declared.isdigit() and int(declared) <= DRAIN_LIMIT_BYTES else 0
            if headers.get(b"expect", b"").lower() == b"100-continue":
                drain = 0  # the client waits for our answer before it sends the body
            await _drain_then_send(receive, send, 413, self._message(), drain)
            return
        received = 0
        overflowed = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, overflowed
            if overflowed:
                raise _BodyTooLarge(413, self._message())
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit_bytes:
                    overflowed = True
                    raise _BodyTooLarge(413, self._message())
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if overflowed and not started:
                # Whatever the route made of the cut body (Gradio's {"detail"} 413, a parse error, a 500) is
                # dropped: the client gets the one answer every route gives for an oversized body, below.
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            if not overflowed or started:
                raise
        if overflowed and not started:
            # A body without Content-Length (chunked) that grew past the limit, on any route.
            await _send_json(send, 413, self._message(), close=True)

    def _origin_ok(self, headers: dict[bytes, bytes]) -> bool:
        origin = headers.get(b"origin")
        if origin is None:
            # Browsers send Origin on every cross-site POST; without one, only a missing Sec-Fetch-Site
            # (curl, scripts) or a same-origin one is trusted.
            return headers.get(b"sec-fetch-site", b"same-origin") in (b"same-origin", b"none")
        text = origin.decode("latin-1").rstrip("/").lower()
        if text in self.allowed_origins:
            return True
        host = headers.get(b"host", b"").decode("latin-1").lower()
        return bool(host) and text in (f"http://{host}", f"https://{host}")

    def _message(self) -> str:
        return f"request body larger than the limit of {self.limit_bytes / 1024 / 1024:g} MB (--max-upload-mb)"


async def _drain_then_send(
    receive: Receive, send: Send, status: int, error: str, drain_bytes: int, allow: str | None = None
) -> None:
    """Read and discard up to `drain_bytes` of the body (bounded in time), then answer and close."""
    drained = 0
    with anyio.move_on_after(_DRAIN_TIMEOUT_S):
        while drained < drain_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client is gone
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
    await _send_json(send, status, error, close=True, allow=allow)


async def _send_json(send: Send, status: int, error: str, close: bool = False, allow: str | None = None) -> None:
    body = json.dumps({"error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    if allow:
        headers.append((b"allow", allow.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as `{"error": "one line"}`; tracebacks stay in the server log.

    Args:
        app: the app to install the handlers on (HTTP errors, validation errors, emolens's errors, the rest).
    """

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
        if isinstance(err, OverMemoryMarkError):
            headers = {"Retry-After": str(RETRY_AFTER_S)}
            return JSONResponse({"error": str(err)}, status_code=503, headers=headers)
        status = 413 if isinstance(err, InputTooLargeError) else 415 if isinstance(err, MediaError) else 422
        return JSONResponse({"error": str(err).splitlines()[0] if str(err) else type(err).__name__}, status_code=status)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(EmolensError, emolens_error)
    install_unexpected_error_handler(app)


def install_unexpected_error_handler(app: FastAPI) -> None:
    """An unexpected error leaves as 500 `{"error": "internal error; see the server log"}`, logged with its
    traceback; a malformed multipart body as 400. These are the only handlers put on Gradio's own app,
    whose other errors keep the shape its page reads.

    Args:
        app: the FastAPI app (emolens's own, or Gradio's mounted one).
    """

    async def unexpected_error(request: Request, err: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=err)
        return JSONResponse({"error": "internal error; see the server log"}, status_code=500)

    async def malformed_body(request: Request, err: Exception) -> JSONResponse:
        log.info("%s %s: malformed multipart body (%s)", request.method, request.url.path, err)
        return JSONResponse({"error": "malformed multipart body"}, status_code=400)

    app.add_exception_handler(Exception, unexpected_error)
    app.add_exception_handler(FormParserError, malformed_body)
