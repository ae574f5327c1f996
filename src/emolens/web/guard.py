"""The ASGI guard in front of every route: methods, cross-site requests and body size, answered as `{"error"}`."""

from __future__ import annotations

import json

import anyio
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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

    - 405 `{"error"}` for a method a REST route does not have (the UI mounted at / would answer 404 otherwise),
      and HEAD answered as GET without the body on a REST route that has GET (/healthz, /docs, /openapi.json);
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
        if method == "HEAD" and allowed is not None and "GET" in allowed:
            # FastAPI's routes answer GET only (a HEAD would fall through to the UI and 404); HEAD is the GET
            # answer without its body, which the HTTP server drops for a HEAD request whatever the app sends.
            scope = {**scope, "method": "GET"}
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
