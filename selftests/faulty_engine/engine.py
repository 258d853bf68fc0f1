"""The faulty engine for in-process use: a proxy on its own event loop in a background thread.

    with FaultyEngine(["pid-host", "delay-start=1"]) as engine:
        client = docker.DockerClient(base_url=engine.url)

``start()`` returns only once the socket accepts connections, and ``stop()`` closes it
and removes the socket file (and the private directory made for it, if any).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
from typing import Iterable

from fixtures.core.waiting import wait_until

from .access_log import AccessLog
from .endpoints import Endpoint, default_upstream
from .faults import parse_fault
from .server import ProxyServer


class FaultyEngine:
    def __init__(
        self,
        faults: Iterable[str] = (),
        *,
        upstream: str | None = None,
        listen: str | None = None,
        log_path: str | None = None,
    ):
        # Parsed here, in the caller's thread, so a bad spec fails the caller at once.
        self.faults = tuple(faults)
        self._rules = tuple(rule for spec in self.faults for rule in parse_fault(spec))
        self._upstream = Endpoint.parse(upstream or default_upstream())
        self._private_dir: str | None = None
        if listen is None:
            # Short on purpose: a unix socket path must fit in about 107 bytes.
            self._private_dir = tempfile.mkdtemp(prefix="faulty-engine-")
            listen = os.path.join(self._private_dir, "engine.sock")
        listen_endpoint = Endpoint.parse(listen)
        if listen_endpoint.path is None:
            raise ValueError(f"the faulty engine listens on a unix socket only, not {listen!r}")
        self.socket_path = listen_endpoint.path
        self.log_path = log_path
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 10.0) -> "FaultyEngine":
        if self._thread is not None:
            raise RuntimeError("the faulty engine is already started")
        self._thread = threading.Thread(target=self._run, name=f"faulty-engine {self.url}", daemon=True)
        self._thread.start()
        # The probe also ends the wait if the thread died, so a bind error is raised, not timed out.
        try:
            wait_until(lambda: self._failure or self._accepts(), timeout=timeout, what=f"{self.url} to accept")
        except BaseException:
            self.stop()
            raise
        if self._failure is not None:
            self.stop()
            raise RuntimeError(f"the faulty engine did not start on {self.url}") from self._failure
        return self

    def _accepts(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(self.socket_path)
        return True

    def _run(self) -> None:
        log = AccessLog(self.log_path)
        try:
            asyncio.run(self._serve(log))
        except BaseException as exc:  # noqa: BLE001 - reported to start() in the caller's thread
            self._failure = exc
        finally:
            log.close()

    async def _serve(self, log: AccessLog) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = ProxyServer(self.socket_path, self._upstream, self._rules, log)
        await server.start()
        try:
            await self._stopping.wait()
        finally:
            await server.close()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        if self._thread.is_alive() and self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"the faulty engine on {self.url} did not stop within {timeout} s")
        self._thread = None
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)

    def __enter__(self) -> "FaultyEngine":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
