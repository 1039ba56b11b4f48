"""A lean HTTP/1.1 keep-alive client on asyncio streams, for the latency measurements.

``httpx.AsyncClient`` spends about 3 ms of CPU per request when 50 connections share it in
one process (measured here: it tops out near 300 requests/s against ``/api/health``, where
this client reaches about 2,000), so with it the benchmark would partly measure its own
client. This one writes the request bytes and reads the status line, the headers and the
body (``Content-Length`` or chunked), nothing more. Setup and checks still use httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

HEAD_LIMIT = 1 << 16


class HttpConnection:
    """One keep-alive connection to ``url``'s host and port, reopened when the server
    closes it."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"need http://host:port, not {url!r}")
        self._host, self._port = parts.hostname, parts.port
        fixed = {"Host": f"{self._host}:{self._port}", **headers}
        self._fixed_headers = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """Send ``method path`` with ``body`` (JSON when not empty); the answer's status and
        body."""
        if self._writer is None or self._reader is None:
            self._reader, self._writer = await asyncio.open_connection(
                self._host, self._port, limit=HEAD_LIMIT
            )
        reader, writer = self._reader, self._writer
        content_type = "Content-Type: application/json\r\n" if body else ""
        writer.write(
            f"{method} {path} HTTP/1.1\r\n{self._fixed_headers}{content_type}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await _read_chunked(reader)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
        self._reader = self._writer = None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return bytes(body)
        body += await reader.readexactly(size + 2)
        del body[-2:]
