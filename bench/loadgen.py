"""A small HTTP/1.1 load generator for the gateway benchmarks.

httpx's async pool spends more CPU per request than the gateway's bare
endpoint does at 50 connections, so with it the benchmark measured the
client. This one keeps one connection per simulated phone open and does
nothing but write a form POST and read the answer.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode


class Connection:
    """One kept-alive connection that POSTs forms and returns (status, body)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        body = urlencode(form).encode()
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                          "Content-Type: application/x-www-form-urlencoded\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return status, (await self.reader.readexactly(length)).decode()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
