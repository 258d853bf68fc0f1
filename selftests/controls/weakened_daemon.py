"""A real dockerd, weakened by its own configuration, for the negative controls.

Unlike the faulty engine (a proxy that rewrites calls), the weakness here is in the engine
itself: a storage driver that copies every layer (``vfs``), a runtime that is slower or
shows containers another kernel (``runtimes/``), experimental features. Each daemon is a
sandbox engine (its own socket, data-root, exec-root, pidfile and bridge) under a run
directory of its own, stopped and removed when the control is done.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from fixtures.engine import sandbox
from fixtures.engine.target import connect
from fixtures.images.provision import ALPINE, NGINX, provision
from fixtures.run.options import default_image_cache
from fixtures.run.identity import RunIdentity
from fixtures.run.rundir import RunDir
from fixtures.session.lifecycle import UNDOERS
from selftests.conftest import RUN_ROOT

RUNTIMES = Path(__file__).resolve().parent / "runtimes"


def runtime(name: str) -> dict:
    """daemon.json settings that make ``runtimes/<name>`` the daemon's default OCI runtime."""
    return {"runtimes": {name: {"path": str(RUNTIMES / name)}}, "default-runtime": name}


@contextmanager
def weakened_daemon(name: str, daemon_config: dict) -> Iterator[sandbox.SandboxEngine]:
    """A sandbox dockerd started with ``daemon_config`` as its daemon.json, for the block.

    ``name`` is short: the daemon's socket path, which holds it twice, must fit in 107 bytes."""
    run_dir = RunDir.create(RUN_ROOT, RunIdentity.for_controller(
        f"selftest-weak-{name}-{time.strftime('%H%M%S')}-{os.getpid()}"))
    try:
        yield sandbox.start(run_dir, name, daemon_config=daemon_config, log=lambda line: None)
    finally:
        problems = run_dir.undo(UNDOERS)
        assert not problems, problems
        run_dir.remove()


def preload_images(url: str, labels: dict[str, str]) -> None:
    """alpine:3.23 and nginx:latest on the daemon at ``url``, put there directly: a run through
    a proxy that changes builds (squash) then finds them present and builds none of its own."""
    client = connect(url)
    try:
        for ref, recipe in (("alpine:3.23", ALPINE), ("nginx:latest", NGINX)):
            provision(client, ref, recipe, archives=[], cache_dir=default_image_cache(), labels=labels,
                      log=lambda line: None)
    finally:
        client.close()
