"""Keep the pages offline: strip Gradio's CDN script and font preconnects, and serve /docs without a CDN.

FastAPI's Swagger UI and Gradio's page template both reach for third-party hosts; on a machine without
a network that means broken pages and, with one, requests the user never agreed to.
"""

from __future__ import annotations

import html
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .gradio_compat import REMOTE_TAGS


class StripRemoteAssets:
    """ASGI middleware: remove <script src="http..."> and <link href="http..."> from HTML pages (REMOTE_TAGS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffering_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if not content_type.startswith(b"text/html"):
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                body = REMOTE_TAGS.sub(b"", b"".join(chunks))
                headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffering_send)


def docs_page(schema: dict[str, Any]) -> str:
    """A plain HTML reference of the API, drawn from its OpenAPI schema: no scripts, nothing fetched.

    Args:
        schema: the app's OpenAPI schema (`app.openapi()`).

    Returns:
        A whole HTML page; every text from the schema is escaped.
    """
    info = schema.get("info", {})
    title, version = html.escape(info.get("title", "API")), html.escape(info.get("version", ""))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{title} API</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
        "code,pre{font-family:ui-monospace,monospace;background:#f4f4f5;padding:.1rem .3rem;border-radius:4px}"
        "pre{padding:.6rem;overflow-x:auto}h2{border-top:1px solid #ddd;padding-top:1rem}</style></head><body>",
        f"<h1>{title} REST API <small>{version}</small></h1>",
        f"<p>{html.escape(info.get('description', ''))}</p>",
        "<p>Machine-readable schema: <a href='/openapi.json'>/openapi.json</a>. "
        'Errors are JSON: <code>{"error": "one line"}</code>.</p>',
    ]
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            parts.append(f"<h2><code>{method.upper()} {html.escape(path)}</code></h2>")
            parts.append(f"<p>{html.escape(op.get('summary', ''))}</p>")
            fields = _multipart_fields(schema, op)
            if fields:
                parts.append("<p>Multipart form fields:</p><ul>")
                parts += [f"<li><code>{html.escape(n)}</code>: {html.escape(d)}</li>" for n, d in fields]
                parts.append("</ul>")
                example = " ".join(f"-F {n}=@FILE" for n, _ in fields)
                parts.append(f"<pre>curl {example} http://HOST:PORT{html.escape(path)}</pre>")
            parts.append("<p>Responses:</p><ul>")
            for status, response in op.get("responses", {}).items():
                described = html.escape(response.get("description", ""))
                parts.append(f"<li><code>{html.escape(status)}</code> {described}")
                example = response.get("content", {}).get("application/json", {}).get("example")
                if example is not None:
                    shown = html.escape(json.dumps(example, indent=2, ensure_ascii=False))
                    parts.append(f"<p>Example:</p><pre>{shown}</pre>")
                parts.append("</li>")
            parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)


def _multipart_fields(schema: dict[str, Any], op: dict[str, Any]) -> list[tuple[str, str]]:
    content = op.get("requestBody", {}).get("content", {}).get("multipart/form-data", {})
    ref = content.get("schema", {}).get("$ref", "")
    body = schema.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {}) if ref else {}
    props = body.get("properties", content.get("schema", {}).get("properties", {}))
    return [(name, str(prop.get("description", json.dumps(prop)))) for name, prop in props.items()]
