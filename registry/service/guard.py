"""Checks every request passes before any route sees it (a pure ASGI middleware).

- Host: only the names the service is reached by (its loopback address and port, and those configured
  for a reverse proxy). A page that rebinds its own domain name to 127.0.0.1 sends its own name as
  Host and is refused, so DNS rebinding cannot read through the service.
- State-changing requests (POST, PUT, PATCH, DELETE): the Origin (or, lacking it, the Referer) must be
  one of the service's own origins, and the body must be declared `application/json` — a form or a
  `no-cors` fetch from another page can send neither. The officers' routes check a CSRF token on top.
- Request bodies: at most `max_body` bytes, whether the length is declared or streamed (413).
- Responses: no sniffing, no framing, no referrer to other sites, never cached; the officers' pages get a
  content security policy that allows only the service's own scripts and styles.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY = 64 * 1024
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


class _TooLarge(Exception):
    pass


class Guard:
    def __init__(self, app, *, allowed_hosts: set[str], allowed_origins: set[str], max_body: int = MAX_BODY,
                 csp_exempt: tuple[str, ...] = ("/docs",)):
        self.app = app
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.allowed_origins = {o.lower().rstrip("/") for o in allowed_origins}
        self.max_body = max_body
        self.csp_exempt = csp_exempt

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        host = headers.get("host", "").lower()
        if host not in self.allowed_hosts:
            return await _refuse(send, 421, "this service does not answer to that host name")
        if method in UNSAFE_METHODS:
            origin = headers.get("origin")
            if origin is None and headers.get("referer"):
                parts = urlsplit(headers["referer"])
                origin = f"{parts.scheme}://{parts.netloc}"
            if origin is None or origin.lower().rstrip("/") not in self.allowed_origins:
                return await _refuse(send, 403, "cross-site request refused: the Origin is not this service")
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return await _refuse(send, 415, "the request body must be application/json")
        declared = headers.get("content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_body
            except ValueError:
                return await _refuse(send, 400, "Content-Length is not a number")
            if too_large:
                return await _refuse(send, 413, f"the request body is larger than {self.max_body} bytes")
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        path = scope.get("path", "")
        page = not path.startswith("/api/") and not path.startswith(self.csp_exempt)
        started = False

        async def secured_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                         (b"referrer-policy", b"same-origin"), (b"cache-control", b"no-store")]
                if page:
                    extra.append((b"content-security-policy", PAGE_CSP.encode()))
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                   *((k, v) for k, v in extra if k not in names)]}
            await send(message)

        try:
            await self.app(scope, limited_receive, secured_send)
        except _TooLarge:
            if not started:
                await _refuse(send, 413, f"the request body is larger than {self.max_body} bytes")


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"detail": message, "error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": body})


def service_names(host: str, port: int, extra_hosts: list[str], public_origins: list[str]) -> tuple[set[str], set[str]]:
    """(Host header values, origins) the service answers to: its own address and the configured ones."""
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    if host not in ("0.0.0.0", "::", "127.0.0.1", "localhost"):
        hosts.add(f"{host}:{port}" if ":" not in host else f"[{host}]:{port}")
    if port == 80:   # browsers leave the default port out of Host and Origin
        hosts |= {h.rsplit(":", 1)[0] for h in hosts}
    hosts.update(h.lower() for h in extra_hosts)
    origins = {f"http://{h}" for h in hosts}
    for origin in public_origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"--public-origin {origin!r}: scheme://host[:port], e.g. https://registry.example.gov.cn")
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
        hosts.add(parts.netloc.lower())
        if parts.port is None:  # some proxies pass the Host on with the default port written out
            hosts.add(f"{parts.hostname}:{443 if parts.scheme == 'https' else 80}")
    return hosts, origins
