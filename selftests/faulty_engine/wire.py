"""HTTP/1.1 framing: just enough to read, rewrite and re-send one message head and body.

The proxy carries exactly one exchange per connection (it forces ``Connection: close``),
so nothing here tracks keep-alive state. A message is either read whole because a fault
rewrites it, or its bytes after the head pass through untouched.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from http import HTTPStatus

MAX_HEAD = 1 << 20
# A rewritten body is held in memory; container specs and /info answers are far smaller.
MAX_BODY = 64 << 20


class WireError(Exception):
    """The peer sent something that is not a well-formed HTTP/1.1 message."""


@dataclass(frozen=True)
class Head:
    """A request or status line with its header fields, in their original order and case."""

    first_line: str
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, raw: bytes) -> "Head":
        lines = raw.decode("latin-1").rstrip("\r\n").split("\r\n")
        fields = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise WireError(f"malformed header line {line!r}")
            fields.append((name, value.strip()))
        if len(lines[0].split(" ", 2)) < 2:
            raise WireError(f"malformed start line {lines[0]!r}")
        return cls(lines[0], tuple(fields))

    @classmethod
    def response(cls, status: int, fields: tuple[tuple[str, str], ...] = ()) -> "Head":
        return cls(f"HTTP/1.1 {status} {_reason(status)}", fields)

    def encode(self) -> bytes:
        lines = [self.first_line, *(f"{name}: {value}" for name, value in self.headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def setting(self, name: str, value: str | None) -> "Head":
        """This head with every ``name`` field dropped, then ``name: value`` appended unless None."""
        kept = tuple((k, v) for k, v in self.headers if k.lower() != name.lower())
        return replace(self, headers=kept + (((name, value),) if value is not None else ()))

    # Request line: METHOD TARGET VERSION
    @property
    def method(self) -> str:
        return self.first_line.split(" ", 2)[0]

    @property
    def target(self) -> str:
        return self.first_line.split(" ", 2)[1]

    def with_target(self, target: str) -> "Head":
        method, _, version = self.first_line.split(" ", 2)
        return replace(self, first_line=f"{method} {target} {version}")

    # Status line: VERSION STATUS REASON
    @property
    def status(self) -> int:
        try:
            return int(self.first_line.split(" ", 2)[1])
        except ValueError as exc:
            raise WireError(f"malformed status line {self.first_line!r}") from exc

    @property
    def is_chunked(self) -> bool:
        return "chunked" in (self.get("Transfer-Encoding") or "").lower()

    def with_body_length(self, length: int) -> "Head":
        return self.setting("Transfer-Encoding", None).setting("Content-Length", str(length))


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


async def read_head(reader: asyncio.StreamReader) -> Head | None:
    """The next message head, or None if the peer closed before sending a byte of it."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise WireError("connection closed inside a message head") from exc
    except asyncio.LimitOverrunError as exc:
        raise WireError("message head too large") from exc
    return Head.parse(raw)


async def read_body(reader: asyncio.StreamReader, head: Head, *, until_eof: bool) -> bytes:
    """The whole decoded body that follows ``head``.

    ``until_eof`` is for responses, whose body may be delimited by the connection closing;
    a request without Content-Length or chunking has no body.
    """
    if head.is_chunked:
        return await _read_chunked(reader)
    length = head.get("Content-Length")
    if length is not None:
        size = int(length)
        if size > MAX_BODY:
            raise WireError(f"body of {size} bytes is too large to rewrite")
        return await reader.readexactly(size)
    if not until_eof:
        return b""
    parts: list[bytes] = []
    total = 0
    while chunk := await reader.read(1 << 16):
        total += len(chunk)
        if total > MAX_BODY:
            raise WireError("body too large to rewrite")
        parts.append(chunk)
    return b"".join(parts)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise WireError(f"malformed chunk size {size_line!r}") from exc
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailer fields carry nothing a fault needs
            return b"".join(parts)
        total += size
        if total > MAX_BODY:
            raise WireError("chunked body too large to rewrite")
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
