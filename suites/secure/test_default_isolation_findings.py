"""SEC-4: Docker provides the strongest default isolation.

Document: "安全" (secure): "Docker提供了最强的默认隔离功能".

Each security-relevant default of the daemon is a check that passes when the setting is
the hardened one and otherwise fails as a finding with a severity, never a silent pass.
The gate (``--gate``, default major) decides which findings fail a run. Default
severities, by harm if left weak:

- major: no seccomp filter for containers; an API socket anyone on the host can use (or
  an API on plain TCP).
- minor: inter-container traffic on the default bridge (icc); no user-namespace
  remapping; no no-new-privileges default; no AppArmor or SELinux confinement.
- advisory: live-restore off; the userland proxy on.
"""

from __future__ import annotations

import os
import stat as stat_mode
from dataclasses import dataclass
from typing import Callable

from fixtures.core import evidence
from fixtures.host.daemon_process import EngineProcess, engine_endpoint
from fixtures.inspection import proc_status
from fixtures.inspection.run_to_exit import sh
from fixtures.ledger.marks import claim
from fixtures.network.published import bind_address, host_port


@dataclass
class Context:
    engine: object
    engine_target: object
    engine_host: object
    resources: object
    alpine_ref: str
    daemon_config: object  # DaemonSettings, or why the daemon's configuration cannot be read
    engine_process: object

    def configured(self, name: str, default: object) -> dict:
        """What the daemon was told (flag, daemon.json or default), next to what is observed."""
        if isinstance(self.daemon_config, str):
            return {f"configured {name}": f"unknown: {self.daemon_config}"}
        value, source = self.daemon_config.get(name, default)
        return {f"configured {name}": value, "configured from": source}

    def security_options(self) -> list[str]:
        return self.engine.info().get("SecurityOptions") or []

    def default_container_status(self) -> tuple[dict[str, str], str]:
        finished = sh(self.resources, self.alpine_ref, "cat /proc/self/status; echo '--- uid_map'; cat /proc/self/uid_map")
        status_text, _, uid_map = finished.output.partition("--- uid_map")
        return proc_status.parse(status_text), uid_map.strip()


# Each check returns (hardened, what was found, evidence).
Check = Callable[[Context], tuple[bool, str, dict]]


def seccomp_profile(ctx: Context):
    options = ctx.security_options()
    seccomp = [o for o in options if o.startswith("name=seccomp")]
    status, _ = ctx.default_container_status()
    mode = status.get("Seccomp")
    hardened = bool(seccomp) and "profile=unconfined" not in seccomp[0] and mode == "2"
    return hardened, (f"seccomp: engine reports {seccomp or 'no seccomp'}, a default container runs "
                      f"with Seccomp: {mode}"), {"SecurityOptions": options, "container Seccomp": mode}


ALLOWED_SOCKET_BITS = 0o660  # owner and group read/write; nothing for others (CIS 3.15, 3.16)
ALLOWED_SOCKET_GROUPS = ("root", "docker")


def _socket_path(ctx: Context) -> str | None:
    kind, where = engine_endpoint(ctx.engine_target.url)
    if kind == "unix":
        return where
    unix = ctx.engine_process.listening("unix") if isinstance(ctx.engine_process, EngineProcess) else []
    sockets = [path for path in unix if path.endswith(".sock") and "/containerd/" not in path]
    return sockets[0] if sockets else None


def socket_permissions(ctx: Context):
    url = ctx.engine_target.url
    if url.startswith("tcp://"):
        tls = os.environ.get("DOCKER_TLS_VERIFY") not in (None, "", "0")
        if not tls:
            return False, f"the API is served over TCP without TLS verification ({url})", {"url": url}
    path = _socket_path(ctx)
    if path is None:
        return True, f"the API is reached at {url} with TLS and no unix socket of the engine was found", \
            {"url": url}
    socket_file = ctx.engine_host.file(path)
    mode, user, group = socket_file.mode, socket_file.user, socket_file.group
    who = ("every local user" if mode & 0o002 else f"members of group {group}" if mode & 0o020
           else "its owner only")
    found = (f"socket {path} has mode {mode:04o} ({user}:{group}): {who} can drive the engine"
             + (f"; bits {mode & ~ALLOWED_SOCKET_BITS:04o} are beyond 0660" if mode & ~ALLOWED_SOCKET_BITS else "")
             + ("" if user == "root" else f"; owned by {user}, not root")
             + ("" if group in ALLOWED_SOCKET_GROUPS else f"; group {group} is neither root nor docker"))
    hardened = not mode & ~ALLOWED_SOCKET_BITS and user == "root" and group in ALLOWED_SOCKET_GROUPS
    return hardened, found, {"path": path, "mode": f"{mode:04o}", "owner": user, "group": group,
                             "who can connect": who}


def icc(ctx: Context):
    options = ctx.engine.api.inspect_network("bridge").get("Options") or {}
    value = options.get("com.docker.network.bridge.enable_icc", "(unset: true)")
    return value == "false", f"the default bridge has enable_icc={value} (daemon --icc)", \
        {"bridge options": options, **ctx.configured("icc", True)}


def userns_remap(ctx: Context):
    options = ctx.security_options()
    _, uid_map = ctx.default_container_status()
    remapped = any(o.startswith("name=userns") for o in options) and not uid_map.startswith("0 0 ")
    return remapped, (f"user namespaces: engine reports {options}; a container's uid_map is "
                      f"{' '.join(uid_map.split())!r} (root inside is root on the host)" if not remapped
                      else f"containers run in a remapped user namespace (uid_map {uid_map!r})"), \
        {"SecurityOptions": options, "uid_map": uid_map, **ctx.configured("userns-remap", "")}


def no_new_privileges(ctx: Context):
    status, _ = ctx.default_container_status()
    value = status.get("NoNewPrivs")
    return value == "1", f"a default container runs with NoNewPrivs: {value} (daemon --no-new-privileges)", \
        {"NoNewPrivs": value, **ctx.configured("no-new-privileges", False)}


def mac_profile(ctx: Context):
    options = ctx.security_options()
    confined = [o for o in options if o.startswith(("name=apparmor", "name=selinux"))]
    return bool(confined), (f"mandatory access control: {confined}" if confined else
                            f"neither AppArmor nor SELinux confines containers (engine SecurityOptions {options})"), \
        {"SecurityOptions": options}


def live_restore(ctx: Context):
    enabled = ctx.engine.info().get("LiveRestoreEnabled")
    return bool(enabled), f"LiveRestoreEnabled={enabled} (containers stop when the daemon does)", \
        {"LiveRestoreEnabled": enabled, **ctx.configured("live-restore", False)}


def userland_proxy(ctx: Context):
    container = ctx.resources.container(ctx.alpine_ref, ["sleep", "300"],
                                        ports={"8080/tcp": (bind_address(ctx.engine_target.url), None)})
    port = host_port(container, "8080/tcp")
    processes = ctx.engine_host.run("ps -eo args").stdout.splitlines()
    proxies = [p for p in processes if "docker-proxy" in p and f"-host-port {port}" in p]
    return not proxies, (f"the userland proxy serves published port {port}: {proxies[0]}" if proxies else
                         f"published port {port} is forwarded without a userland proxy"), \
        {"host port": port, "docker-proxy processes for it": proxies, **ctx.configured("userland-proxy", True)}


SETTINGS: dict[str, tuple[str, Check]] = {
    "seccomp-profile": ("major", seccomp_profile),
    "socket-permissions": ("major", socket_permissions),
    "icc": ("minor", icc),
    "userns-remap": ("minor", userns_remap),
    "no-new-privileges": ("minor", no_new_privileges),
    "mac-profile": ("minor", mac_profile),
    "live-restore": ("advisory", live_restore),
    "userland-proxy": ("advisory", userland_proxy),
}


def _cases(severity: str) -> list[str]:
    return [case for case, (level, _) in SETTINGS.items() if level == severity]


def _verdict(case: str, engine, engine_target, engine_host, resources, alpine_image, daemon_config,
             engine_process) -> None:
    severity, check = SETTINGS[case]
    ctx = Context(engine, engine_target, engine_host, resources, alpine_image.ref, daemon_config,
                  engine_process)
    hardened, found, data = check(ctx)
    # What a reader changes to fix the finding: the socket, or the daemon's configuration file.
    evidence.concerns(data.get("path") if case == "socket-permissions"
                      else getattr(daemon_config, "file_path", ""))
    evidence.as_json(f"{case} setting", {"severity if weak": severity, "hardened": hardened, "found": found, **data})
    evidence.figure(case, "hardened" if hardened else f"weak ({severity})")
    assert hardened, f"finding ({severity}): {found}"


@claim("SEC-4", cases=_cases("major"), severity="major", smoke="seccomp-profile")
def test_major_isolation_default(case, engine, engine_target, engine_host, resources, alpine_image,
                                  daemon_config, engine_process):
    """The engine MUST filter system calls by default and MUST NOT expose its API to everyone.

    ``seccomp-profile``: ``docker info`` lists seccomp with a profile and a default
    container runs with ``Seccomp: 2``. ``socket-permissions``: the API socket on the
    engine's host (for a TLS tcp engine, the unix socket its process listens on) is owned by
    root, group root or docker, mode 0660 or stricter (CIS 3.15, 3.16): whoever can connect
    controls the engine; an API on TCP must use TLS. A weak setting is a finding of severity
    major. Each finding also records what the daemon was configured with (its flags and
    daemon.json on its host), next to what is observed.
    """
    _verdict(case, engine, engine_target, engine_host, resources, alpine_image, daemon_config, engine_process)


@claim("SEC-4", cases=_cases("minor"), severity="minor")
def test_minor_isolation_default(case, engine, engine_target, engine_host, resources, alpine_image,
                                  daemon_config, engine_process):
    """The engine SHOULD harden its defaults; each weak one is a finding of severity minor.

    ``icc``: the default bridge's ``enable_icc`` is false. ``userns-remap``: ``docker info``
    lists ``name=userns`` and root in a container is not root on the host (its
    ``/proc/self/uid_map``). ``no-new-privileges``: a default container runs with
    ``NoNewPrivs: 1``. ``mac-profile``: AppArmor or SELinux confines containers.
    """
    _verdict(case, engine, engine_target, engine_host, resources, alpine_image, daemon_config, engine_process)


@claim("SEC-4", cases=_cases("advisory"), severity="advisory")
def test_advisory_isolation_default(case, engine, engine_target, engine_host, resources, alpine_image,
                                  daemon_config, engine_process):
    """The engine MAY harden these operational defaults; each weak one is an advisory finding.

    ``live-restore``: ``docker info`` reports LiveRestoreEnabled. ``userland-proxy``: a
    published port is served without a ``docker-proxy`` process on the engine's host.
    """
    _verdict(case, engine, engine_target, engine_host, resources, alpine_image, daemon_config, engine_process)
