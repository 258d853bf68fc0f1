"""Faults that put containers into namespaces the Engine API cannot share: the host's mount
namespace, and one pid namespace for every container (as in a pod).

Both change what the kernel does, not what the engine reports: the check that reads
``/proc/<pid>/ns/mnt`` on the host, or watches the other containers when one dies, sees
the weakening itself.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..calls import Call
from ..rules import Rule, route
from .arguments import no_argument
from .create import CREATE, add_capabilities, on_create

CONTAINER = route(r"/containers/[^/]+")

# The container's init is this shell; its parent is the runtime's shim, a process in the
# host's mount namespace. Entering that namespace needs the host's pid namespace (to see
# the shim), CAP_SYS_PTRACE (to open another process's namespace), CAP_SYS_ADMIN (setns;
# the default seccomp profile allows it with that capability), and nsenter in the image.
ENTER_HOST_MOUNT_NAMESPACE = ["sh", "-c", 'exec nsenter --mount=/proc/$PPID/ns/mnt -- "$@"', "sh"]


def enter_host_mount_namespace(body: Any) -> dict:
    """Every container's command runs in the host's mount namespace.

    The container's own command (Entrypoint and Cmd as the client gave them) runs after,
    as the same process: the image's default command is not looked up, so the client must
    name one; and it is found on the host's filesystem.
    """
    body = add_capabilities(body, ["SYS_ADMIN", "SYS_PTRACE"])
    body["HostConfig"]["PidMode"] = "host"
    entrypoint = body.get("Entrypoint") or []
    command = ([entrypoint] if isinstance(entrypoint, str) else list(entrypoint)) + list(body.get("Cmd") or [])
    body["Entrypoint"] = list(ENTER_HOST_MOUNT_NAMESPACE)
    body["Cmd"] = command
    return body


def mnt_host(arg: str | None) -> list[Rule]:
    no_argument(arg)
    return on_create(enter_host_mount_namespace)


@dataclass
class PidPod:
    """The containers made through this engine that it has not removed, oldest first."""

    members: list[str] = field(default_factory=list)

    def join(self, body: Any) -> Any:
        """A new container joins the pid namespace of the oldest one: its init is theirs too."""
        if not self.members:
            return body
        body = copy.deepcopy(body) if isinstance(body, dict) else {}
        body["HostConfig"] = {**(body.get("HostConfig") or {}), "PidMode": f"container:{self.members[0]}"}
        return body

    def remember(self, created: Any) -> Any:
        if isinstance(created, dict) and created.get("Id"):
            self.members.append(created["Id"])
        return created

    def forget(self, call: Call) -> Call:
        removed = call.path.split("/")[2]
        self.members = [member for member in self.members if not member.startswith(removed)]
        return call


def pid_pod(arg: str | None) -> list[Rule]:
    """Every container after the first joins the first one's pid namespace, as in a pod; when
    that first container's init dies, the kernel kills every process in the namespace."""
    no_argument(arg)
    pod = PidPod()
    return [Rule("POST", CREATE, rewrite_request=pod.join, rewrite_response=pod.remember),
            Rule("DELETE", CONTAINER, retarget=pod.forget)]
