"""The web app: a FastAPI REST API and a Gradio UI in one process, sharing one loaded model.

Needs the `web` extra (fastapi, uvicorn, gradio, python-multipart). Gradio is imported only inside
`create_app`, after analytics are switched off, so importing this package stays cheap and silent.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .options import WebOptions

if TYPE_CHECKING:
    from fastapi import FastAPI

    from emolens.api import Recognizer

__all__ = ["WebOptions", "create_app"]


def create_app(options: WebOptions | None = None, recognizer: Recognizer | None = None) -> FastAPI:
    """Build the app: REST routes, /docs, /healthz, and the UI at /. Loads the model unless given one.

    Args:
        options: the model, language, workers and limits; None: the defaults of WebOptions.
        recognizer: an already loaded model to serve (tests share one); None loads `options.recognizer`.

    Returns:
        The ASGI app, ready for uvicorn.

    Raises:
        ModelFileError: If the model cannot be loaded.
    """
    # Gradio reads this when it would report usage; the app must never phone home.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    from .app import build_app

    return build_app(options or WebOptions(), recognizer)
