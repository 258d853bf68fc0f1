"""Where the proxy listens and where the real engine answers, as Docker spells them."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

# The engine's conventional socket, as the docker CLI and SDK default to it.
DEFAULT_ENGINE = "unix:///var/run/docker.sock"


def default_upstream() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_ENGINE


@dataclass(frozen=True)
class Endpoint:
    """A unix socket path, or a TCP host and port."""

    path: str | None = None
    host: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> "Endpoint":
        if url.startswith("unix://"):
            return cls(path=url[len("unix://"):])
        if url.startswith("/"):
            return cls(path=url)
        if url.startswith("tcp://"):
            parts = urlsplit(url)
            if parts.hostname is None or parts.port is None:
                raise ValueError(f"tcp endpoint needs a host and a port: {url!r}")
            return cls(host=parts.hostname, port=parts.port)
        raise ValueError(f"unsupported endpoint {url!r}: use unix:///PATH or tcp://HOST:PORT")

    @property
    def url(self) -> str:
        return f"unix://{self.path}" if self.path is not None else f"tcp://{self.host}:{self.port}"

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.path is not None:
            return await asyncio.open_unix_connection(self.path)
        return await asyncio.open_connection(self.host, self.port)
