"""`registry serve`: the web pages (the review queue) on 127.0.0.1."""

from __future__ import annotations

import argparse

from registry.commands.common import add_home

DEFAULT_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_home(parser)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from registry.home import Home
    from registry.review.web import create_app

    home = Home.at(args.home)
    print(f"review queue of {home.root} on http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(create_app(home), host=args.host, port=args.port, log_level="warning")
    return 0
