"""The proxy as an asyncio server: listen on a unix socket, serve each connection, shut down clean."""

from __future__ import annotations

import asyncio
import os

from .access_log import AccessLog
from .endpoints import Endpoint
from .exchange import Setup, serve_connection
from .rules import Rule
from .wire import MAX_HEAD


class ProxyServer:
    def __init__(self, listen_path: str, upstream: Endpoint, rules: tuple[Rule, ...], log: AccessLog):
        self.listen_path = listen_path
        self._setup = Setup(upstream=upstream, rules=rules, log=log)
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=self.listen_path, limit=MAX_HEAD)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        try:
            await serve_connection(reader, writer, self._setup)
        except asyncio.CancelledError:
            pass  # close() ended it; asyncio would report a cancelled connection task as an error
        finally:
            self._connections.discard(task)

    async def close(self) -> None:
        """Stop accepting, end the exchanges still open (a ``logs -f``), remove the socket file."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        try:
            os.unlink(self.listen_path)
        except FileNotFoundError:
            pass
