"""SEC-4: Docker provides the strongest default isolation.

Document: "安全" (secure): "Docker提供了最强的默认隔离功能".

Each security-relevant default of the daemon is a check that passes when the setting is
the hardened one and otherwise fails as a finding with a severity, never a silent pass.
What a container observes decides (its seccomp mode, its uid_map, its NoNewPrivs, what
it can reach, the processes on the host); what the engine reports and what the daemon was
configured with (its flags and daemon.json, read on its host) are recorded next to it.
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
import uuid

from fixtures.core import evidence
from fixtures.host.daemon_process import EngineProcess, engine_endpoint
from fixtures.inspection import proc_status, socket_access, uid_map
from fixtures.inspection.probe import ProbeFailed, completed
from fixtures.inspection.reachability import address_on, default_network, fetch, serve_secret
from fixtures.inspection.run_to_exit import sh
from fixtures.ledger.marks import claim
from fixtures.network.published import bind_address, host_port


def _configured(daemon_config, name: str, default: object) -> dict:
    """What the daemon was told (flag, daemon.json or default), for the evidence."""
    # The daemon's configuration file is what a reader changes to fix the finding.
    evidence.concerns(getattr(daemon_config, "file_path", ""))
    if isinstance(daemon_config, str):
        return {f"configured {name}": f"unknown: {daemon_config}"}
    value, source = daemon_config.get(name, default)
    return {f"configured {name}": value, "configured from": source}


def _security_options(engine) -> list[str]:
    return engine.info().get("SecurityOptions") or []


def _default_container(resources, alpine_image) -> tuple[dict[str, str], str]:
    """A default container's ``/proc/self/status`` (parsed) and ``/proc/self/uid_map`` (text)."""
    finished = sh(resources, alpine_image.ref,
                  "cat /proc/self/status && echo '--- uid_map' && cat /proc/self/uid_map && echo '--- end'")
    output = completed(finished.checked("reading /proc/self/status and uid_map"), "--- end",
                       what="reading /proc/self/status and uid_map")
    status_text, _, uid_map_text = output.partition("--- uid_map")
    return proc_status.parse(status_text), uid_map_text.strip()


def _record(name: str, severity: str, hardened: bool, found: str, data: dict) -> None:
    evidence.as_json(f"{name} setting", {"severity if weak": severity, "hardened": hardened, "found": found, **data})
    evidence.figure(name, "hardened" if hardened else f"weak ({severity})")


@claim("SEC-4", severity="major", smoke=True)
def test_system_calls_are_filtered_by_default(engine, resources, alpine_image):
    """The engine MUST filter system calls of a default container (a finding, severity major).

    A default container must run with ``Seccomp: 2`` (filter mode, in its
    ``/proc/self/status``), and ``docker info`` must list a seccomp profile that is not
    ``unconfined``; the container's mode decides, the engine's report is checked against it.
    """
    options = _security_options(engine)
    seccomp = [o for o in options if o.startswith("name=seccomp")]
    status, _ = _default_container(resources, alpine_image)
    mode = status.get("Seccomp")
    hardened = bool(seccomp) and "profile=unconfined" not in seccomp[0] and mode == "2"
    found = f"seccomp: engine reports {seccomp or 'no seccomp'}, a default container runs with Seccomp: {mode}"
    _record("seccomp-profile", "major", hardened, found, {"SecurityOptions": options, "container Seccomp": mode})
    assert hardened, f"finding (major): {found}"


def _socket_access(engine_host, engine_process, path: str) -> socket_access.SocketAccess:
    socket_file = engine_host.file(path)
    gid = socket_file.gid
    group_entry = engine_host.run(f"getent group {gid}")
    if group_entry.rc not in (0, 2):  # 2: no group has that gid
        raise ProbeFailed(f"getent group {gid} exited {group_entry.rc} on the engine's host: "
                          f"{group_entry.stderr.strip()[:200]}")
    members = socket_access.group_members(gid, group_entry.stdout, engine_host.check_output("getent passwd"))
    engine_uid = engine_process.uid if isinstance(engine_process, EngineProcess) else None
    group = socket_file.group if group_entry.rc == 0 else f"{gid} (no group has that gid)"
    return socket_access.SocketAccess(path=path, mode=socket_file.mode, owner=socket_file.user, uid=socket_file.uid,
                                      group=group, gid=gid, group_members=members,
                                      engine_uid=engine_uid)


def _socket_path(engine_target, engine_process) -> str | None:
    kind, where = engine_endpoint(engine_target.url)
    if kind == "unix":
        return where
    unix = engine_process.listening("unix") if isinstance(engine_process, EngineProcess) else []
    sockets = [path for path in unix if path.endswith(".sock") and "/containerd/" not in path]
    return sockets[0] if sockets else None


@claim("SEC-4", severity="major")
def test_api_socket_is_not_open_to_everyone(engine_target, engine_host, engine_process):
    """The engine MUST NOT let everyone on its host drive it (a finding, severity major).

    The API socket on the engine's host (for a TLS tcp engine, the unix socket its process
    listens on) must have permission bits 0660 or stricter, be owned by root or by the user
    the engine runs as (a rootless engine's own), and let no group write to it but root,
    docker or a group no user has (CIS 3.15, 3.16): whoever can connect controls the engine.
    Who can connect is judged by the kernel's rules (``fixtures/inspection/socket_access.py``).
    An API on TCP must use TLS.
    """
    url = engine_target.url
    tls = os.environ.get("DOCKER_TLS_VERIFY") not in (None, "", "0")
    path = _socket_path(engine_target, engine_process)
    if engine_target.scheme == "tcp" and not tls:
        hardened, found, data = False, f"the API is served over TCP without TLS verification ({url})", {"url": url}
    elif path is None:
        hardened, found = True, f"the API is reached at {url} with TLS and no unix socket of the engine was found"
        data = {"url": url}
    else:
        access = _socket_access(engine_host, engine_process, path)
        hardened, found, data = not access.weaknesses(), access.describe(), access.evidence()
    evidence.concerns(data.get("path", ""))
    _record("socket-permissions", "major", hardened, found, data)
    assert hardened, f"finding (major): {found}"


@claim("SEC-4", severity="minor")
def test_default_bridge_keeps_containers_apart(engine, resources, alpine_image, daemon_config):
    """Containers on the default bridge SHOULD NOT reach each other (icc; a finding, severity minor).

    A container given no network (so on the engine's default bridge, whatever the engine
    names it) serves a secret on port 8080 (checked from inside it); a second one given no
    network connects to its address. What the second gets decides; the network's
    ``enable_icc`` option and the daemon's configured ``icc`` are recorded next to it.
    """
    secret = f"icc-{uuid.uuid4().hex[:12]}"
    server = serve_secret(resources, alpine_image.ref, secret)
    network = default_network(server)
    reached = secret in fetch(resources, alpine_image.ref, address_on(server, network), 8080)
    reported = (engine.api.inspect_network(network).get("Options") or {}).get(
        "com.docker.network.bridge.enable_icc", "(unset: true)")
    found = (f"containers on the default bridge {'reach' if reached else 'cannot reach'} each other "
             f"(network {network}, enable_icc={reported}; daemon --icc)")
    _record("icc", "minor", not reached, found, {"B reached A": reached, "default network": network,
                                                  "its enable_icc": reported, **_configured(daemon_config, "icc", True)})
    assert not reached, f"finding (minor): {found}"


@claim("SEC-4", severity="minor")
def test_root_in_a_container_is_not_root_on_the_host(engine, resources, alpine_image, daemon_config):
    """Root in a default container SHOULD NOT be root on the host (userns-remap; a finding, severity minor).

    Reads ``/proc/self/uid_map`` of a default container by its columns (the kernel pads
    them): uid 0 inside must map to a uid other than 0 on the host. The kernel's map
    decides: an engine whose ``SecurityOptions`` claim ``name=userns`` while root maps to
    host root fails, and a remapped engine that does not say so passes; both reports are
    recorded.
    """
    options = _security_options(engine)
    claims_userns = any(o.startswith("name=userns") for o in options)
    _, text = _default_container(resources, alpine_image)
    ranges = uid_map.parse(text)
    root_on_host = uid_map.host_id_of(ranges, 0)
    remapped = root_on_host not in (0, None)
    found = (f"root in a container is uid {root_on_host} on the host (uid_map {' '.join(text.split())!r}); "
             f"the engine {'reports' if claims_userns else 'does not report'} name=userns")
    _record("userns-remap", "minor", remapped, found, {"SecurityOptions": options, "uid_map": text,
                                                       "root on the host": root_on_host,
                                                       **_configured(daemon_config, "userns-remap", "")})
    assert remapped, f"finding (minor): {found}"


@claim("SEC-4", severity="minor")
def test_no_new_privileges_by_default(resources, alpine_image, daemon_config):
    """A default container SHOULD run with no-new-privileges (a finding, severity minor).

    Reads ``NoNewPrivs`` from ``/proc/self/status`` of a default container: it must be 1,
    so no setuid binary or file capability can raise a process's privileges.
    """
    status, _ = _default_container(resources, alpine_image)
    value = status.get("NoNewPrivs")
    found = f"a default container runs with NoNewPrivs: {value} (daemon --no-new-privileges)"
    _record("no-new-privileges", "minor", value == "1", found,
            {"NoNewPrivs": value, **_configured(daemon_config, "no-new-privileges", False)})
    assert value == "1", f"finding (minor): {found}"


@claim("SEC-4", severity="minor")
def test_containers_are_confined_by_mac(engine):
    """Containers SHOULD be confined by AppArmor or SELinux (a finding, severity minor).

    ``docker info`` must list ``name=apparmor`` or ``name=selinux`` in SecurityOptions.
    """
    options = _security_options(engine)
    confined = [o for o in options if o.startswith(("name=apparmor", "name=selinux"))]
    found = (f"mandatory access control: {confined}" if confined else
             f"neither AppArmor nor SELinux confines containers (engine SecurityOptions {options})")
    _record("mac-profile", "minor", bool(confined), found, {"SecurityOptions": options})
    assert confined, f"finding (minor): {found}"


@claim("SEC-4", severity="advisory")
def test_live_restore_is_enabled(engine, daemon_config):
    """Containers SHOULD keep running while the daemon restarts (live-restore; an advisory finding).

    ``docker info`` must report ``LiveRestoreEnabled``; the daemon's configured
    ``live-restore`` is recorded next to it. (Restarting the engine under test to watch
    its containers is not the suite's to do.)
    """
    enabled = engine.info().get("LiveRestoreEnabled")
    found = f"LiveRestoreEnabled={enabled} (containers stop when the daemon does)"
    _record("live-restore", "advisory", bool(enabled), found,
            {"LiveRestoreEnabled": enabled, **_configured(daemon_config, "live-restore", False)})
    assert enabled, f"finding (advisory): {found}"


@claim("SEC-4", severity="advisory")
def test_published_ports_need_no_userland_proxy(resources, alpine_image, engine_target, engine_host, daemon_config):
    """A published port SHOULD be forwarded without a userland proxy (an advisory finding).

    Publishes a port of a container, then lists the processes on the engine's host (the
    listing must succeed): none may be a ``docker-proxy`` for that host port.
    """
    container = resources.container(alpine_image.ref, ["sleep", "300"],
                                    ports={"8080/tcp": (bind_address(engine_target.url), None)})
    port = host_port(container, "8080/tcp")
    processes = engine_host.check_output("ps -eo args").splitlines()
    proxies = [p for p in processes if "docker-proxy" in p and f"-host-port {port}" in p]
    found = (f"the userland proxy serves published port {port}: {proxies[0]}" if proxies else
             f"published port {port} is forwarded without a userland proxy")
    _record("userland-proxy", "advisory", not proxies, found,
            {"host port": port, "docker-proxy processes for it": proxies,
             **_configured(daemon_config, "userland-proxy", True)})
    assert not proxies, f"finding (advisory): {found}"
