"""`emolens serve`: the web app (Camera, Photo and Video tabs) and the REST API, in one process."""

from __future__ import annotations

import argparse
import errno
import logging
import socket
from typing import Any

from emolens.errors import EmolensError
from emolens.web.options import WebOptions

from .common import add_field_flags, add_recognizer_args, options_from_flags, recognizer_options

log = logging.getLogger("emolens")


def add_parser(sub: Any) -> None:
    """Add `emolens serve` and its flags to the subcommands.

    Args:
        sub: the subparsers of the `emolens` parser.
    """
    p = sub.add_parser("serve", help="run the web app and REST API", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to bind; 0.0.0.0 exposes it to the network")
    p.add_argument("--port", type=int, default=7860, help="TCP port, 1-65535 (0: any free port)")
    add_recognizer_args(p, video=True)
    # Every limit's flag (name, type, default, help) is WebOptions' field, never retyped here.
    add_field_flags(p.add_argument_group("limits"), WebOptions)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the limits, bind the port, load the model and serve the web app until interrupted.

    Args:
        args: the parsed flags.

    Returns:
        0 when the server stops.

    Raises:
        EmolensError: If the web extra is missing, the port is out of range, or the address cannot be bound
            (all before the model loads); ModelFileError if the model cannot be loaded.
        ValueError: If a limit is out of range (named by its flag), before the model loads.
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
    options = options_from_flags(WebOptions, args, recognizer=recognizer_options(args), lang=args.lang)
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
