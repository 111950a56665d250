"""`registry serve`: the officers' pages and the department API, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import argparse
import sys

from registry.commands.common import add_home

DEFAULT_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_home(parser)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--public-origin", action="append", default=[], metavar="URL",
                        help="the address users reach the service by through a TLS reverse proxy, e.g. "
                             "https://registry.district.gov.cn (repeatable); its host is then accepted and "
                             "session cookies are sent over TLS only")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="HOST[:PORT]",
                        help="another Host header value to answer to (repeatable); others are refused")
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1", metavar="IPS",
                        help="proxies whose X-Forwarded-For/-Proto are believed (default 127.0.0.1)")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from registry.access import AccessError
    from registry.home import Home
    from registry.service import Settings, create_app

    home = Home.at(args.home)
    settings = Settings(host=args.host, port=args.port, allowed_hosts=args.allowed_host,
                        public_origins=args.public_origin)
    try:
        app = create_app(home, settings)
    except (AccessError, ValueError) as exc:
        print(f"registry serve: {exc}", file=sys.stderr)
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.public_origin:
        print("registry serve: listening beyond this machine without --public-origin: put it behind a TLS "
              "reverse proxy (README: deploying)", file=sys.stderr)
    print(f"registry of {home.root} on http://{args.host}:{args.port}/ (review page /, department API /api/v1, "
          "documentation /docs)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", proxy_headers=True,
                forwarded_allow_ips=args.forwarded_allow_ips, server_header=False)
    return 0
