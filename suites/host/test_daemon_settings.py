"""HOST-6 and HOST-7: daemon settings that are host requirements, not claims of the document
(a CIS Docker Benchmark subset): log rotation, and TLS on every tcp listener.

The daemon's isolation defaults that the document does claim (icc, userland-proxy,
live-restore, no-new-privileges, userns-remap, the socket's permissions) are SEC-4's
findings in suites/secure/, which record both what the daemon was configured with and
what a container observes; they are not checked twice here.
"""

from __future__ import annotations

import pytest

from fixtures.core import evidence
from fixtures.core.applicability import not_applicable
from fixtures.host.daemon_settings import as_bool
from fixtures.ledger.marks import claim

pytestmark = pytest.mark.audit

# Log drivers that keep nothing on the engine's disk, or rotate by themselves (local).
SELF_ROTATING = {"local", "journald", "syslog", "fluentd", "gelf", "awslogs", "splunk", "gcplogs",
                 "logentries", "etwlogs"}


@claim("HOST-6")
def test_log_driver_rotates(engine_info, resources, alpine_image):
    """Container logs MUST NOT grow without bound on the engine's disk: a rotating driver, or
    ``json-file`` with a ``max-size``.

    Rationale: json-file without max-size lets one chatty container fill the data-root's
    disk and stop every other (CIS 2.13, 2.14 in 1.8.0, asks for central logging; rotation
    is its floor, and no CIS recommendation asks for it).
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


@claim("HOST-7")
def test_tcp_listeners_require_tls(engine_process, daemon):
    """Every tcp socket of the daemon MUST require TLS client certificates (``--tlsverify``).

    Rationale: a tcp socket without client authentication gives whoever reaches the port
    root on the host (CIS 2.7, 2.8 in 1.8.0). Verified on the engine's host: the tcp
    sockets the daemon's process listens on (``ss -tlpn``) and the ``tcp://`` hosts in its
    flags and ``daemon.json``; then ``tlsverify`` (the CA, certificate and key it uses are attached;
    dockerd falls back to ``~/.docker/*.pem``). A daemon with no tcp socket is not applicable.
    """
    listening = engine_process.listening("tcp")
    configured = [h for h in daemon.values("host")[0] if h.startswith("tcp://")]
    tlsverify, source = daemon.get("tlsverify", False)
    files = {name: daemon.get(name, None)[0] for name in ("tlscacert", "tlscert", "tlskey")}
    evidence.concerns(daemon.file_path)
    evidence.as_json("tcp listeners", {"listening (ss)": listening, "configured hosts": configured,
                                       "tlsverify": tlsverify, "tlsverify from": source, **files,
                                       **daemon.evidence()})
    if not listening and not configured:
        not_applicable(f"dockerd (pid {engine_process.pid}) listens on no tcp socket")
    where = ", ".join(listening or configured)
    assert as_bool(tlsverify), (f"dockerd listens on tcp {where} without --tlsverify: anyone who "
                                "reaches the port controls the engine")
