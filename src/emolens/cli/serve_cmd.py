"""`emolens serve`: the web app (Camera, Photo and Video tabs) and the REST API, in one process."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from emolens.errors import EmolensError
from emolens.web.options import WebOptions

from .common import add_recognizer_args, recognizer_options

log = logging.getLogger("emolens")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the web app and REST API", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to bind; 0.0.0.0 exposes it to the network")
    p.add_argument("--port", type=int, default=7860, help="TCP port to listen on")
    p.add_argument(
        "--max-upload-mb", type=float, default=WebOptions.max_upload_mb, help="largest image or video accepted"
    )
    p.add_argument("--workers", type=int, default=WebOptions.workers, help="analyses at once (0: one per CPU core)")
    add_recognizer_args(p, video=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from emolens.web import create_app
    except ModuleNotFoundError as err:
        raise EmolensError(
            f"the web app needs the 'web' extra ({err.name} is missing): pip install 'emolens[web]'"
        ) from None
    if args.workers < 0 or args.max_upload_mb <= 0:
        raise ValueError("--workers must be >= 0 and --max-upload-mb > 0")
    options = WebOptions(
        recognizer=recognizer_options(args),
        lang=args.lang,
        max_upload_mb=args.max_upload_mb,
        workers=args.workers,
    )
    app = create_app(options)
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    log.info("emolens web app on http://%s:%d  (REST docs at /docs)", shown_host, args.port)
    verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info" if verbose else "warning", access_log=verbose)
    return 0
