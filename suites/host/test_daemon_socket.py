"""HOST-6: the engine's unix socket is owned by root and closed to other users (CIS 3.15, 3.16)."""

from __future__ import annotations

import pytest

from fixtures.host.daemon_process import EngineProcess, engine_endpoint
from fixtures.ledger.marks import claim
from fixtures.reporting import evidence

pytestmark = pytest.mark.audit

ALLOWED_GROUPS = ("root", "docker")
ALLOWED_BITS = 0o660  # owner and group read/write; nothing for others, no execute, no setuid


def _socket_path(engine_url: str, engine_process) -> str:
    kind, where = engine_endpoint(engine_url)
    if kind == "unix":
        return where
    unix = engine_process.listening("unix") if isinstance(engine_process, EngineProcess) else []
    sockets = [path for path in unix if path.endswith(".sock") and "/containerd/" not in path]
    if not sockets:
        pytest.skip(f"not applicable: the engine is reached at {engine_url} and no unix socket of "
                    f"its process was found ({engine_process if isinstance(engine_process, str) else unix})")
    return sockets[0]


def _who_can_connect(mode: int, group: str) -> str:
    if mode & 0o002:
        return "every local user"
    if mode & 0o020:
        return f"members of group {group}"
    return "its owner only"


@claim("HOST-6")
def test_engine_socket_owner_and_mode(host, engine_target, engine_process):
    """The engine's socket MUST be owned by root, group root or docker, mode 0660 or stricter.

    Rationale: whoever can connect to the socket controls the engine, which is root on its
    host (CIS Docker Benchmark 3.15 and 3.16; relates to SEC-4's socket permissions).
    Verified with ``stat`` on the engine's host: owner, group and permission bits of the
    socket the run talks to (for a tcp engine, the unix socket its process listens on).
    Connecting needs write permission, so a bit outside 0660 opens the engine to more users.
    """
    path = _socket_path(engine_target.url, engine_process)
    socket = host.file(path)
    assert socket.exists, f"the engine's socket {path} does not exist on the engine's host"
    mode, user, group = socket.mode, socket.user, socket.group
    evidence.as_json("engine socket", {"path": path, "owner": user, "group": group, "mode": f"{mode:04o}",
                                       "is socket": socket.is_socket,
                                       "who can connect": _who_can_connect(mode, group)})
    evidence.figure("socket mode", f"{mode:04o}")
    assert mode & ~ALLOWED_BITS == 0, (
        f"socket {path} has mode {mode:04o} ({user}:{group}): {_who_can_connect(mode, group)} can "
        f"drive the engine; bits {mode & ~ALLOWED_BITS:04o} are beyond 0660")
    assert user == "root", f"socket {path} is owned by {user}, not root"
    assert group in ALLOWED_GROUPS, \
        f"socket {path} belongs to group {group}: its members can drive the engine (expected root or docker)"
