"""`emolens serve`: the web app (Camera, Photo and Video tabs) and the REST API, in one process."""

from __future__ import annotations

import argparse
import errno
import logging
import socket
from typing import Any

from emolens.errors import EmolensError
from emolens.web.options import WebOptions

from .common import add_recognizer_args, recognizer_options

log = logging.getLogger("emolens")
#: WebOptions' fields set by a flag of another name: a value WebOptions refuses is reported under the flag.
LIMIT_FLAGS = {
    "workers": "--workers",
    "max_upload_mb": "--max-upload-mb",
    "max_pixels": "--max-pixels",
    "max_frame_pixels": "--max-frame-pixels",
    "max_video_frames": "--max-video-frames",
    "request_timeout_s": "--timeout-s",
    "max_rss_mb": "--max-rss-mb",
}


def add_parser(sub: Any) -> None:
    """Add `emolens serve` and its flags to the subcommands.

    Args:
        sub: the subparsers of the `emolens` parser.
    """
    p = sub.add_parser("serve", help="run the web app and REST API", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to bind; 0.0.0.0 exposes it to the network")
    p.add_argument("--port", type=int, default=7860, help="TCP port, 1-65535 (0: any free port)")
    p.add_argument("--workers", type=int, default=WebOptions.workers, help="analyses at once (0: one per CPU core)")
    add_recognizer_args(p, video=True)
    # Every limit's default is WebOptions' field, never retyped here.
    limits = p.add_argument_group("limits")
    limits.add_argument(
        "--max-upload-mb",
        type=float,
        default=WebOptions.max_upload_mb,
        help="largest request body, any route",
    )
    limits.add_argument(
        "--max-pixels",
        type=int,
        default=WebOptions.max_pixels,
        help="largest image, in pixels its header declares",
    )
    limits.add_argument(
        "--max-frame-pixels",
        type=int,
        default=WebOptions.max_frame_pixels,
        help=f"largest video frame, in pixels (default %(default)s: {WebOptions.max_frame_pixels / 1e6:g} megapixels)",
    )
    limits.add_argument(
        "--max-video-frames",
        type=int,
        default=WebOptions.max_video_frames,
        help="frames analysed per video request, REST and UI",
    )
    limits.add_argument(
        "--timeout-s",
        type=float,
        default=WebOptions.request_timeout_s,
        help="wall seconds one video request may run",
    )
    limits.add_argument(
        "--max-rss-mb",
        type=float,
        default=WebOptions.max_rss_mb,
        help="resident memory (MB) above which new video requests get 503 (0: no mark)",
    )
    limits.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="another web origin allowed to POST (repeatable); others get 403",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the limits, bind the port, load the model and serve the web app until interrupted.

    Args:
        args: the parsed flags.

    Returns:
        0 when the server stops.

    Raises:
        EmolensError: If the web extra is missing, a limit or the port is out of range, or the address
            cannot be bound (all before the model loads); ModelFileError if the model cannot be loaded.
    """
    try:
        import uvicorn

        from emolens.web import create_app
    except ModuleNotFoundError as err:
        raise EmolensError(
            f"the web app needs the 'web' extra ({err.name} is missing): pip install 'emolens[web]'"
        ) from None
    if not 0 <= args.port <= 65535:
        raise EmolensError(f"--port {args.port}: not a port number (0-65535)")
    try:
        options = WebOptions(
            recognizer=recognizer_options(args),
            lang=args.lang,
            workers=args.workers,
            allowed_origins=tuple(args.allow_origin),
            max_upload_mb=args.max_upload_mb,
            max_pixels=args.max_pixels,
            max_frame_pixels=args.max_frame_pixels,
            max_video_frames=args.max_video_frames,
            request_timeout_s=args.timeout_s,
            max_rss_mb=args.max_rss_mb,
        )
    except ValueError as err:  # WebOptions checks its fields; name the flag the user typed
        field = str(err).split(" ", 1)[0]
        raise EmolensError(f"{LIMIT_FLAGS[field]}: {err}" if field in LIMIT_FLAGS else str(err)) from None
    # Bind first: a taken port is a one-line error before the model loads or any folder is made.
    sock = _bind(args.host, args.port)
    try:
        app = create_app(options)
        port = sock.getsockname()[1]
        shown_host = f"[{args.host}]" if ":" in args.host else args.host
        log.info("emolens web app on http://%s:%d  (REST docs at /docs)", shown_host, port)
        log.info(
            "limits: %g MB per request, %g megapixels per image, %g megapixels per video frame, "
            "%d frames and %g s per clip, memory mark %s",
            options.max_upload_mb,
            options.max_pixels / 1e6,
            options.max_frame_pixels / 1e6,
            options.max_video_frames,
            options.request_timeout_s,
            f"{options.max_rss_mb:g} MB" if options.max_rss_mb > 0 else "off",
        )
        verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
        config = uvicorn.Config(app, log_level="info" if verbose else "warning", access_log=verbose)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise EmolensError(f"cannot bind {host}:{port}: unknown address ({err.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as err:
        sock.close()
        reason = "the port is in use" if err.errno == errno.EADDRINUSE else err.strerror or str(err)
        raise EmolensError(f"cannot bind {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock
