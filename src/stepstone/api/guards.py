"""What every request passes before it reaches a route (SPEC 9): the Host it names must be
one the server serves (a page on another site cannot reach a loopback server by renaming
it: DNS rebinding), a WebSocket must come from a page of this server (its Origin), a body
may not exceed the size limit, and every answer carries the usual security headers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ANY_HOST = "*"
# The UI is served by this server and loads nothing from elsewhere; the API docs too. Scripts
# come from the server's files only; styles may also be inline, because the UI's toast and
# dialog libraries add <style> elements as they run (inline styles cannot run code).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:;"
    " font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def host_name(authority: str) -> str:
    """``example.com`` of ``Example.COM.:4101``; ``::1`` of ``[::1]:4101``."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority[1 : authority.find("]")] if "]" in authority else authority
    name = authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority
    return name.rstrip(".")


class RequestGuards:
    """ASGI middleware applying the checks above."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str], max_body_bytes: int) -> None:
        self.app = app
        self.allowed_hosts = {host_name(host) for host in allowed_hosts}
        self.max_body_bytes = max_body_bytes

    def host_allowed(self, authority: str) -> bool:
        return ANY_HOST in self.allowed_hosts or host_name(authority) in self.allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["type"] == "websocket":
            origin = headers.get("origin")
            if not self.host_allowed(headers.get("host", "")) or (
                origin is not None and not self._same_site(origin, headers.get("host", ""))
            ):
                # Closing before accepting refuses the handshake (HTTP 403).
                await send({"type": "websocket.close", "code": 1008, "reason": "not allowed"})
                return
            await self.app(scope, receive, send)
            return
        if not self.host_allowed(headers.get("host", "")):
            await _refuse(send, 400, "invalid_host", "this server does not answer for that host")
            return
        length = headers.get("content-length", "")
        if length.isascii() and length.isdigit() and int(length) > self.max_body_bytes:
            await _refuse(send, 413, "too_large", self._too_large())
            return
        await self.app(scope, self._limited(receive), _with_security_headers(send))

    def _same_site(self, origin: str, host: str) -> bool:
        """A browser's WebSocket from a page of this server: its origin names this host."""
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and host_name(parts.netloc) == host_name(host)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.max_body_bytes} bytes"

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                raise HTTPException(413, self._too_large())
            return message

        return limited_receive


def _with_security_headers(send: Send) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return send_with_headers


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
