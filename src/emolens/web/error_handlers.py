"""Every error leaves the server as `{"error": "one line"}`, with the right status; tracebacks stay in the log."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from python_multipart.exceptions import FormParserError
from starlette.exceptions import HTTPException as StarletteHTTPException

from emolens.errors import EmolensError, InputTooLargeError, MediaError

from .pool import RETRY_AFTER_S, OverMemoryMarkError

log = logging.getLogger("emolens.web")


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
