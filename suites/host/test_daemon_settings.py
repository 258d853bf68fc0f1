"""HOST-7 to HOST-13: the daemon's security-relevant settings, as a CIS Docker Benchmark subset.

Each check reads the setting where the engine states it (the API: ``docker info``, the
default bridge, a created container's host config) or, for settings the API does not
show, from the daemon's own command line and ``daemon.json`` on its host. Defaults that
leave a host weaker than it could be are findings; their severity in ``claims.yaml`` says
how much they weigh against the gate. These relate to SEC-4 (the strongest default
isolation), which the Secure chapter reports from inside containers.
"""

from __future__ import annotations

import pytest

from fixtures.host.daemon_settings import as_bool
from fixtures.ledger.marks import claim
from fixtures.reporting import evidence

pytestmark = pytest.mark.audit

# Log drivers that keep nothing on the engine's disk, or rotate by themselves (local).
SELF_ROTATING = {"local", "journald", "syslog", "fluentd", "gelf", "awslogs", "splunk", "gcplogs",
                 "logentries", "etwlogs"}


@claim("HOST-7")
def test_icc_disabled_on_default_bridge(engine):
    """Inter-container communication on the default bridge SHOULD be disabled (``--icc=false``).

    Rationale: with icc on, every container on the default bridge reaches every port of
    every other, whether or not it was published or linked (CIS 2.1). Verified through the
    API: the default ``bridge`` network's option ``com.docker.network.bridge.enable_icc``.
    """
    bridges = [n for n in engine.api.networks(names=["bridge"]) if n.get("Name") == "bridge"]
    if not bridges:
        pytest.skip("not applicable: the daemon has no default bridge network (--bridge=none)")
    options = engine.api.inspect_network(bridges[0]["Id"]).get("Options") or {}
    icc = options.get("com.docker.network.bridge.enable_icc", "true")
    evidence.as_json("default bridge options", options)
    evidence.figure("icc", icc)
    assert not as_bool(icc), ("inter-container communication is on for the default bridge "
                              f"(enable_icc={icc}): its containers reach each other's every port")


@claim("HOST-8")
def test_userland_proxy_disabled(daemon):
    """The userland proxy SHOULD be disabled (``--userland-proxy=false``), hairpin NAT used instead.

    Rationale: docker-proxy runs one root process per published port, and hides clients'
    source addresses from the container (CIS 2.15). Verified from the daemon's flags and
    ``daemon.json`` (the API does not report it); dockerd's default is on.
    """
    value, source = daemon.get("userland-proxy", True)
    evidence.as_json("userland-proxy", {"value": value, "from": source, **daemon.evidence()})
    evidence.figure("userland-proxy", str(value).lower())
    assert not as_bool(value), f"the userland proxy is on ({source}): a root docker-proxy per published port"


@claim("HOST-9")
def test_live_restore_enabled(engine_info):
    """Live restore SHOULD be enabled, so containers keep running while the daemon restarts.

    Rationale: without it, a daemon upgrade or crash stops every container (CIS 2.14).
    Verified through the API: ``docker info`` LiveRestoreEnabled.
    """
    enabled = bool(engine_info.get("LiveRestoreEnabled"))
    evidence.as_json("live-restore", {"LiveRestoreEnabled": engine_info.get("LiveRestoreEnabled")})
    evidence.figure("live-restore", str(enabled).lower())
    assert enabled, "live restore is off (docker info LiveRestoreEnabled=false): a daemon restart stops every container"


@claim("HOST-10")
def test_no_new_privileges_by_default(daemon):
    """Containers SHOULD start with no-new-privileges by default (``--no-new-privileges``).

    Rationale: it stops setuid binaries and file capabilities from raising a process's
    privileges inside a container (CIS 2.18). Verified from the daemon's flags and
    ``daemon.json`` (the API does not report it); dockerd's default is off.
    """
    value, source = daemon.get("no-new-privileges", False)
    evidence.as_json("no-new-privileges", {"value": value, "from": source, **daemon.evidence()})
    evidence.figure("no-new-privileges", str(value).lower())
    assert as_bool(value), f"no-new-privileges is off by default ({source}): setuid binaries can gain privileges"


@claim("HOST-11")
def test_userns_remap_enabled(engine_info):
    """Container root SHOULD be mapped to an unprivileged host user (``--userns-remap``).

    Rationale: without user-namespace remapping, uid 0 in a container is uid 0 on the host,
    so any escape is a root escape (CIS 2.8). Verified through the API: ``docker info``
    security options include ``name=userns`` exactly when remapping is on.
    """
    options = engine_info.get("SecurityOptions") or []
    remapped = any(o.split(",")[0] == "name=userns" for o in options)
    evidence.as_json("security options", {"SecurityOptions": options})
    evidence.figure("userns-remap", str(remapped).lower())
    assert remapped, "user namespace remapping is off: container root is host root (no name=userns in docker info)"


@claim("HOST-12")
def test_log_driver_rotates(engine_info, resources, alpine_image):
    """Container logs MUST NOT grow without bound on the engine's disk: a rotating driver, or
    ``json-file`` with a ``max-size``.

    Rationale: json-file without max-size lets one chatty container fill the data-root's
    disk and stop every other (CIS 2.12 asks for central logging; rotation is its floor).
    Verified through the API: ``docker info`` LoggingDriver, and the log options the daemon
    gives a newly created container (its defaults, whatever set them).
    """
    driver = engine_info.get("LoggingDriver", "?")
    container = resources.container(alpine_image.ref, ["true"], start=False)
    log_config = container.attrs["HostConfig"].get("LogConfig") or {}
    opts = log_config.get("Config") or {}
    evidence.as_json("log config", {"LoggingDriver": driver, "new container's LogConfig": log_config})
    evidence.figure("log driver", f"{driver} {' '.join(f'{k}={v}' for k, v in sorted(opts.items()))}".strip())
    assert driver != "none", "the log driver is none: no container log is kept"
    if driver in SELF_ROTATING:
        return
    assert "max-size" in opts, (f"log driver {driver} has no max-size (log-opts {opts or 'none'}): "
                                "container logs grow without bound on the data-root's disk")


@claim("HOST-13")
def test_tcp_listeners_require_tls(engine_process, daemon):
    """Every tcp socket of the daemon MUST require TLS client certificates (``--tlsverify``).

    Rationale: a tcp socket without client authentication gives whoever reaches the port
    root on the host (CIS 2.6). Verified on the engine's host: the tcp sockets the daemon's
    process listens on (``ss -tlpn``) and the ``tcp://`` hosts in its flags and
    ``daemon.json``; then ``tlsverify`` (the CA, certificate and key it uses are attached;
    dockerd falls back to ``~/.docker/*.pem``). A daemon with no tcp socket is not applicable.
    """
    listening = engine_process.listening("tcp")
    configured = [h for h in daemon.values("host")[0] if h.startswith("tcp://")]
    tlsverify, source = daemon.get("tlsverify", False)
    files = {name: daemon.get(name, None)[0] for name in ("tlscacert", "tlscert", "tlskey")}
    evidence.as_json("tcp listeners", {"listening (ss)": listening, "configured hosts": configured,
                                       "tlsverify": tlsverify, "tlsverify from": source, **files,
                                       **daemon.evidence()})
    if not listening and not configured:
        pytest.skip(f"not applicable: dockerd (pid {engine_process.pid}) listens on no tcp socket")
    where = ", ".join(listening or configured)
    assert as_bool(tlsverify), (f"dockerd listens on tcp {where} without --tlsverify: anyone who "
                                "reaches the port controls the engine")
