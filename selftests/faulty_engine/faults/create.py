"""Faults that weaken a container at birth, by rewriting the body of ``POST /containers/create``.

Each rewrite is a pure function from one create body to a new one; the input is never
modified, so tests can compare before and after.
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Any, Callable

from ..rules import Rule, route
from .arguments import FaultSpecError, argument_list, no_argument

CREATE = route(r"/containers/create")

# The engine's own knobs for each resource limit; zero means "no limit" to the engine.
LIMIT_KEYS = ("Memory", "MemorySwap", "PidsLimit", "NanoCpus", "CpuQuota")
HOST_ROOT_BIND = "/:/host:rw"


def on_create(rewrite: Callable[[Any], Any]) -> list[Rule]:
    return [Rule("POST", CREATE, rewrite_request=rewrite)]


def _with_host_config(body: Any) -> tuple[dict, dict]:
    """A deep copy of ``body`` and its HostConfig, created if the client sent none."""
    body = copy.deepcopy(body) if isinstance(body, dict) else {}
    host_config = body.get("HostConfig") or {}
    body["HostConfig"] = host_config
    return body, host_config


def _capability_key(name: str) -> str:
    # The engine accepts "SYS_ADMIN" and "CAP_SYS_ADMIN" alike.
    upper = name.upper()
    return upper[4:] if upper.startswith("CAP_") else upper


def _move_capabilities(body: Any, capabilities: list[str], into: str, out_of: str) -> dict:
    """``capabilities`` added to the HostConfig list ``into`` and taken out of ``out_of``
    (an explicit drop would cancel an add, and the other way round)."""
    body, host_config = _with_host_config(body)
    moving = {_capability_key(cap) for cap in capabilities}
    current = list(host_config.get(into) or [])
    present = {_capability_key(cap) for cap in current}
    host_config[into] = current + [cap for cap in capabilities if _capability_key(cap) not in present]
    if host_config.get(out_of):
        host_config[out_of] = [cap for cap in host_config[out_of] if _capability_key(cap) not in moving]
    return body


def add_capabilities(body: Any, capabilities: list[str]) -> dict:
    return _move_capabilities(body, capabilities, into="CapAdd", out_of="CapDrop")


def drop_capabilities(body: Any, capabilities: list[str]) -> dict:
    """The capabilities dropped from every container: a stricter engine."""
    return _move_capabilities(body, capabilities, into="CapDrop", out_of="CapAdd")


def share_host_namespace(body: Any, mode_key: str) -> dict:
    body, host_config = _with_host_config(body)
    host_config[mode_key] = "host"
    return body


def share_host_network(body: Any) -> dict:
    body, host_config = _with_host_config(body)
    host_config["NetworkMode"] = "host"
    # Each of these conflicts with host networking, and create would refuse the spec.
    host_config["PortBindings"] = {}
    host_config["PublishAllPorts"] = False
    host_config["Links"] = None
    body.pop("MacAddress", None)
    endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig")
    if endpoints:
        body["NetworkingConfig"]["EndpointsConfig"] = {k: v for k, v in endpoints.items() if k == "host"}
    return body


def unconfine_seccomp(body: Any) -> dict:
    body, host_config = _with_host_config(body)
    # Both "seccomp=" and the old "seccomp:" spelling; a profile left in place would compete.
    others = [opt for opt in host_config.get("SecurityOpt") or [] if not opt.startswith("seccomp")]
    host_config["SecurityOpt"] = others + ["seccomp=unconfined"]
    return body


def drop_limits(body: Any) -> dict:
    body, host_config = _with_host_config(body)
    for key in LIMIT_KEYS:
        host_config[key] = 0
    return body


def bind_host_root(body: Any) -> dict:
    body, host_config = _with_host_config(body)
    binds = list(host_config.get("Binds") or [])
    host_config["Binds"] = binds + ([HOST_ROOT_BIND] if HOST_ROOT_BIND not in binds else [])
    return body


def drop_ports(body: Any) -> dict:
    body, host_config = _with_host_config(body)
    host_config["PortBindings"] = {}
    host_config["PublishAllPorts"] = False
    return body


def _tmpfs(target: str, read_only: bool) -> dict:
    return {"Type": "tmpfs", "Target": target, "ReadOnly": read_only}


def _mounts_to_tmpfs(body: Any, kind: str) -> dict:
    """Every ``kind`` mount ("volume" or "bind"), in ``Mounts`` or ``Binds``, becomes a tmpfs."""
    body, host_config = _with_host_config(body)
    mounts = [
        _tmpfs(mount["Target"], bool(mount.get("ReadOnly"))) if mount.get("Type") == kind else mount
        for mount in host_config.get("Mounts") or []
    ]
    binds = []
    for bind in host_config.get("Binds") or []:
        source, _, rest = bind.partition(":")
        target, _, options = rest.partition(":")
        # A source that is not an absolute path names a volume; an absolute one is a bind.
        if target and ("bind" if source.startswith("/") else "volume") == kind:
            mounts.append(_tmpfs(target, "ro" in options.split(",")))
        else:
            binds.append(bind)
    host_config["Mounts"] = mounts
    host_config["Binds"] = binds
    return body


def volumes_to_tmpfs(body: Any) -> dict:
    return _mounts_to_tmpfs(body, "volume")


def binds_to_tmpfs(body: Any) -> dict:
    """Every bind of a host path becomes an empty tmpfs at the same place: the container sees
    none of the host's files there, and what it writes never reaches the host."""
    return _mounts_to_tmpfs(body, "bind")


def _anonymous_volume(target: str) -> dict:
    # No Source: the engine makes a fresh anonymous volume, removed with the container (rm -v).
    return {"Type": "volume", "Target": target}


def tmpfs_to_volume(body: Any) -> dict:
    """Every tmpfs (``--tmpfs`` or ``--mount type=tmpfs``) becomes an anonymous volume: what is
    written there survives a restart, on the engine's disk."""
    body, host_config = _with_host_config(body)
    mounts = [_anonymous_volume(mount["Target"]) if mount.get("Type") == "tmpfs" else mount
              for mount in host_config.get("Mounts") or []]
    mounts += [_anonymous_volume(target) for target in host_config.get("Tmpfs") or {}]
    host_config["Mounts"] = mounts
    host_config["Tmpfs"] = {}
    return body


# An absolute path that no image has: the runtime cannot exec the container's process.
MISSING_EXECUTABLE = "/conformance-faulty-engine/no-such-executable"


def refuse_every_process(body: Any) -> dict:
    """The container's process becomes one that does not exist: create succeeds, and every
    start fails in the OCI runtime ("exec: ... no such file or directory"), leaving the
    container in "created", as on an engine whose runtime refuses every container."""
    body = copy.deepcopy(body) if isinstance(body, dict) else {}
    body["Entrypoint"] = [MISSING_EXECUTABLE]
    body["Cmd"] = []
    return body


def unmask_proc(body: Any) -> dict:
    body, host_config = _with_host_config(body)
    # Empty lists, not absent keys: the engine only overrides its defaults when these are set.
    host_config["MaskedPaths"] = []
    host_config["ReadonlyPaths"] = []
    return body


def set_environment(body: Any, assignments: list[str]) -> dict:
    """Env entries the client did not ask for, overriding the image's and the client's."""
    body = copy.deepcopy(body) if isinstance(body, dict) else {}
    names = {item.split("=", 1)[0] for item in assignments}
    kept = [item for item in body.get("Env") or [] if item.split("=", 1)[0] not in names]
    body["Env"] = kept + assignments
    return body


def set_env(arg: str | None) -> list[Rule]:
    assignments = argument_list(arg, example="GREETING=tampered")
    if any("=" not in item for item in assignments):
        raise FaultSpecError(f"needs NAME=VALUE items, got {arg!r}")
    return on_create(partial(set_environment, assignments=assignments))


# /dev/shm is a 64 MB tmpfs by default; pages written there are charged to the writer's
# memory cgroup, so a file in it is memory the container holds for as long as it runs.
HOG_MAX_MB = 60


def hog_beside_command(body: Any, megabytes: int) -> dict:
    """Every container also holds ``megabytes`` of memory and spins a CPU loop.

    The container's own command (its Entrypoint and Cmd as the client gave them) runs
    after, as the same process: the image's default command is not looked up, so the
    client must name one.
    """
    body = copy.deepcopy(body) if isinstance(body, dict) else {}
    entrypoint = body.get("Entrypoint") or []
    command = ([entrypoint] if isinstance(entrypoint, str) else list(entrypoint)) + list(body.get("Cmd") or [])
    script = (f"head -c {megabytes}m /dev/zero > /dev/shm/.hog; "
              "(while :; do :; done) & exec \"$@\"")
    body["Entrypoint"] = ["sh", "-c", script, "sh"]
    body["Cmd"] = command
    return body


def hog(arg: str | None) -> list[Rule]:
    try:
        megabytes = int(arg or "")
    except ValueError:
        raise FaultSpecError(f"needs a whole number of megabytes, got {arg!r}") from None
    if not 0 < megabytes <= HOG_MAX_MB:
        raise FaultSpecError(f"needs 1 to {HOG_MAX_MB} megabytes (the size of /dev/shm), got {megabytes}")
    return on_create(partial(hog_beside_command, megabytes=megabytes))


def cap_add(arg: str | None) -> list[Rule]:
    return on_create(partial(add_capabilities, capabilities=argument_list(arg, example="SYS_ADMIN,NET_ADMIN")))


def cap_drop(arg: str | None) -> list[Rule]:
    return on_create(partial(drop_capabilities, capabilities=argument_list(arg, example="NET_RAW,MKNOD")))


def create_fault(rewrite: Callable[[Any], dict]) -> Callable[[str | None], list[Rule]]:
    """A fault, taking no argument, that applies ``rewrite`` to every create body."""

    def fault(arg: str | None) -> list[Rule]:
        no_argument(arg)
        return on_create(rewrite)

    return fault

