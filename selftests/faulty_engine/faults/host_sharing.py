"""Faults that hand containers a piece of the host: one of its disks, one directory that
every container shares, or one cgroup that every container lives in.
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Any

from ..rules import Rule
from .arguments import FaultSpecError
from .create import on_create


def _absolute_path(arg: str | None, example: str) -> str:
    path = (arg or "").strip()
    if not path.startswith("/") or ":" in path:
        raise FaultSpecError(f"needs an absolute host path without ':', e.g. ={example}, got {arg!r}")
    return path


def add_host_device(body: Any, device: str) -> dict:
    """The host's ``device`` at the same path in the container, readable (cgroup "r" only)."""
    body = copy.deepcopy(body) if isinstance(body, dict) else {}
    host_config = body.get("HostConfig") or {}
    body["HostConfig"] = host_config
    devices = [d for d in host_config.get("Devices") or [] if d.get("PathInContainer") != device]
    # Read permission only: a control that proves a disk is reachable must never write to it.
    host_config["Devices"] = devices + [{"PathOnHost": device, "PathInContainer": device, "CgroupPermissions": "r"}]
    return body


def share_tmp(body: Any, host_dir: str) -> dict:
    """One host directory, writable, as /tmp of every container: their files meet there."""
    body = copy.deepcopy(body) if isinstance(body, dict) else {}
    host_config = body.get("HostConfig") or {}
    body["HostConfig"] = host_config
    bind = f"{host_dir}:/tmp:rw"
    binds = [b for b in host_config.get("Binds") or [] if b.split(":")[1:2] != ["/tmp"]]
    host_config["Binds"] = binds + [bind]
    return body


def host_device(arg: str | None) -> list[Rule]:
    return on_create(partial(add_host_device, device=_absolute_path(arg, "/dev/vda")))


def shared_tmp(arg: str | None) -> list[Rule]:
    return on_create(partial(share_tmp, host_dir=_absolute_path(arg, "/var/tmp/shared")))



def in_cgroup_parent(body: Any, parent: str) -> dict:
    """Every container's cgroups under ``parent``: whatever limit that parent has, they share."""
    body = copy.deepcopy(body) if isinstance(body, dict) else {}
    body["HostConfig"] = {**(body.get("HostConfig") or {}), "CgroupParent": parent}
    return body


def cgroup_parent(arg: str | None) -> list[Rule]:
    """One cgroup parent for every container (made, with its limits, by whoever starts the fault)."""
    return on_create(partial(in_cgroup_parent, parent=_absolute_path(arg, "/conformance-machine")))
