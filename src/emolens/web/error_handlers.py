"""Every error leaves the server as `{"error": "one line"}`, with the right status; tracebacks stay in the log."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from python_multipart.exceptions import FormParserError
from starlette.exceptions import HTTPException as StarletteHTTPException

from emolens.errors import EmolensError, InputTooLargeError, MediaError

from .gradio_compat import matched_no_route
from .pool import RETRY_AFTER_S, OverMemoryMarkError

log = logging.getLogger("emolens.web")


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as `{"error": "one line"}`; tracebacks stay in the server log.

    Args:
        app: the app to install the handlers on (HTTP errors, validation errors, emolens's errors, the rest).
    """

    async def http_error(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, StarletteHTTPException)
        if _is_routing_error(request, err):
            return _routing_error(request, err)
        return JSONResponse({"error": str(err.detail)}, status_code=err.status_code, headers=err.headers)

    async def validation_error(_request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, RequestValidationError)
        return JSONResponse({"error": _validation_line(err)}, status_code=422)

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


def install_gradio_error_handlers(app: FastAPI) -> None:
    """Gradio's own app (mounted at /, so it also answers every path nothing else serves): a path no route
    has gets 404 `{"error"}`, a method a route lacks 405 `{"error"}` with Allow, as emolens's routes answer.
    Errors raised by Gradio's routes keep the `{"detail"}` its page reads (the queue's 422, say) and gain an
    `error` line, so every error of the server has one; unexpected errors and malformed bodies are as on
    emolens's app.

    Args:
        app: Gradio's FastAPI app, as `gradio_compat.mount` returns it.
    """

    async def http_error(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, StarletteHTTPException)
        if _is_routing_error(request, err):
            return _routing_error(request, err)
        body = {"detail": err.detail, "error": _one_line(str(err.detail))}
        return JSONResponse(body, status_code=err.status_code, headers=err.headers)

    async def validation_error(_request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, RequestValidationError)
        body = {"detail": jsonable_encoder(err.errors()), "error": _validation_line(err)}
        return JSONResponse(body, status_code=422)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    install_unexpected_error_handler(app)


def install_unexpected_error_handler(app: FastAPI) -> None:
    """An unexpected error leaves as 500 `{"error": "internal error; see the server log"}`, logged with its
    traceback; a malformed multipart body as 400.

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


def _is_routing_error(request: Request, err: StarletteHTTPException) -> bool:
    # Starlette raises these itself: 405 when a route has the path but not the method, 404 when none has it.
    return err.status_code == 405 or (err.status_code == 404 and matched_no_route(request))


def _routing_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
    method, path = _printable(request.method, 20), _printable(request.url.path, 200)
    if err.status_code == 405:
        allow = (err.headers or {}).get("Allow", "")
        error = f"method {method} not allowed" + (f"; use {allow}" if allow else "")
    else:
        error = f"not found: {method} {path} (the REST API is described at /docs)"
    return JSONResponse({"error": error}, status_code=err.status_code, headers=err.headers)


def _printable(text: str, max_chars: int) -> str:
    return "".join(c if c.isprintable() else "?" for c in text[:max_chars])


def _one_line(text: str) -> str:
    return text.splitlines()[0] if text.strip() else "error"


def _validation_line(err: RequestValidationError) -> str:
    parts = []
    for item in err.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        parts.append(f"{where}: {item.get('msg', 'invalid')}" if where else str(item.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"
