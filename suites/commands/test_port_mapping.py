"""CMD-2 in depth: the forms of ``-p``/``-P`` port mapping, a port conflict, and what carries
the traffic.

Document: the command list ("docker run -p 4000:80 friendlyname  # Run 'friendlyname'
mapping port 4000 to 80"). Host ports here are ephemeral: the document names only 4000,
which test_run_published.py uses.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest
import requests

from fixtures.core import evidence
from fixtures.core.applicability import not_run
from fixtures.core.stats import Distribution
from fixtures.core.waiting import wait_until
from fixtures.engine.cli import CliResult, DockerCli
from fixtures.engine.cli_errors import error_line
from fixtures.images.friendlyname import CONTEXT, Friendlyname
from fixtures.ledger.marks import claim
from fixtures.network.carrier import measure_path
from fixtures.network.published import published_host
from fixtures.resources.cli_created import adopt_test_containers
from fixtures.resources.tracker import Tracker
from fixtures.run.ports import (
    free_tcp_port,
    free_udp_port,
    non_loopback_address,
    tcp_port_free,
)

APP_ANSWERS_S = 30  # a bound on waiting for the app, not a threshold


@dataclass
class Mapping:
    cli: DockerCli
    engine: object
    resources: Tracker
    friendlyname: Friendlyname
    alpine: str
    host: str  # where published ports are reached from here
    local: bool  # the engine publishes on this machine

    def run_detached(self, *args: str) -> tuple[CliResult, str | None]:
        """``docker run -d <labels> ARGS``; returns the transcript and the new container's id."""
        result = self.cli("run", "-d", *self.resources.label_flags(), *args)
        adopt_test_containers(self.resources)
        return result, (result.stdout.strip() or None) if result.ok else None

    def ports(self, container_id: str) -> dict:
        ports = self.engine.api.inspect_container(container_id)["NetworkSettings"]["Ports"] or {}
        evidence.as_json(f"NetworkSettings.Ports {container_id[:12]}", ports)
        return ports

    def page(self, address: str, port: int) -> requests.Response:
        response = wait_until(lambda: requests.get(f"http://{address}:{port}/", timeout=5),
                              timeout=APP_ANSWERS_S, what=f"HTTP on {address}:{port}")
        expected = (CONTEXT / "index.html").read_bytes()
        assert response.content == expected, \
            f"{address}:{port} answered {response.content[:100]!r}, not the app's page"
        return response


def _host_ports(ports: dict, container_port: str) -> list[tuple[str, int]]:
    return [(b.get("HostIp", ""), int(b["HostPort"])) for b in ports.get(container_port) or []
            if b.get("HostPort")]


def _require_ok(result: CliResult) -> None:
    assert result.ok, f"`docker run -d` exited {result.exit_code}: {error_line(result.stderr)}"


def _line_from(address: str, port: int) -> bytes:
    with socket.create_connection((address, port), timeout=5) as conn:
        data = b""
        while chunk := conn.recv(256):
            data += chunk
        return data.strip()


def case_host_to_container(m: Mapping) -> None:
    port = free_tcp_port()
    result, container = m.run_detached("-p", f"{port}:80", m.friendlyname.name)
    _require_ok(result)
    bound = _host_ports(m.ports(container), "80/tcp")
    assert port in [p for _, p in bound], f"80/tcp is not published on host port {port}: {bound}"
    m.page(m.host, port)


def case_publish_all(m: Mapping) -> None:
    result, container = m.run_detached("-P", m.friendlyname.name)
    _require_ok(result)
    bound = _host_ports(m.ports(container), "80/tcp")
    evidence.figure("random host port", ", ".join(f"{ip or '*'}:{p}" for ip, p in bound) or "none", trend=False)
    assert bound, "-P published no host port for the image's EXPOSE 80"
    m.page(m.host, bound[0][1])


def case_bind_address(m: Mapping) -> None:
    if not m.local:
        not_run("a port bound to the engine host's 127.0.0.1 cannot be reached from here")
    port = free_tcp_port()
    result, container = m.run_detached("-p", f"127.0.0.1:{port}:80", m.friendlyname.name)
    _require_ok(result)
    bound = _host_ports(m.ports(container), "80/tcp")
    assert bound and all(ip == "127.0.0.1" for ip, _ in bound), \
        f"80/tcp is not bound to 127.0.0.1:{port} only: {bound}"
    m.page("127.0.0.1", port)
    other = non_loopback_address()
    assert other, "this host has no non-loopback address to check the binding against"
    try:
        with socket.create_connection((other, port), timeout=3):
            reachable = True
    except OSError:
        reachable = False
    evidence.figure(f"{other}:{port} reachable", reachable)
    assert not reachable, f"a port bound to 127.0.0.1 is also reachable on {other}:{port}"


def case_udp(m: Mapping) -> None:
    port = free_udp_port()
    result, container = m.run_detached("-p", f"{port}:5353/udp", m.alpine, "nc", "-lu", "-p", "5353",
                                       "-e", "cat")
    _require_ok(result)
    bound = _host_ports(m.ports(container), "5353/udp")
    assert port in [p for _, p in bound], f"5353/udp is not published on host port {port}: {bound}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(1)

        def echoed() -> bytes:
            # A datagram sent before the server listens is lost: send again on each try.
            udp.sendto(b"udp-through-mapping\n", (m.host, port))
            return udp.recv(256)

        answer = wait_until(echoed, timeout=APP_ANSWERS_S, what=f"a UDP echo through {m.host}:{port}")
    assert answer == b"udp-through-mapping\n", f"the UDP echo through the mapping returned {answer!r}"


def case_several_ports(m: Mapping) -> None:
    first, second = free_tcp_port(), free_tcp_port()
    script = "nc -lk -p 80 -e echo port-80 & nc -lk -p 8080 -e echo port-8080 & wait"
    result, container = m.run_detached("-p", f"{first}:80", "-p", f"{second}:8080", m.alpine,
                                       "sh", "-c", script)
    _require_ok(result)
    ports = m.ports(container)
    assert first in [p for _, p in _host_ports(ports, "80/tcp")], \
        f"80/tcp is not published on host port {first}: {ports}"
    assert second in [p for _, p in _host_ports(ports, "8080/tcp")], \
        f"8080/tcp is not published on host port {second}: {ports}"
    got = {p: wait_until(lambda p=p: _line_from(m.host, p), timeout=APP_ANSWERS_S,
                         what=f"a greeting on {m.host}:{p}") for p in (first, second)}
    evidence.as_json("greetings", {str(k): v.decode(errors="replace") for k, v in got.items()})
    assert got == {first: b"port-80", second: b"port-8080"}, f"each host port must reach its own container port: {got}"


def _assert_clear_error(result: CliResult, port: int) -> None:
    error = result.stderr.lower()
    assert not result.ok, f"`docker run -d` on host port {port}, which is already bound, succeeded"
    assert str(port) in error and ("already in use" in error or "already allocated" in error), \
        f"the error does not say that port {port} is taken: {error_line(result.stderr)}"


def _assert_nothing_half_created(m: Mapping, keep: set[str]) -> None:
    """No container of the failed run runs; one left in "created" holds no process or endpoint."""
    left = [c for c in adopt_test_containers(m.resources) if c not in keep]
    states = {}
    for container in left:
        attrs = m.engine.api.inspect_container(container)
        networks = attrs["NetworkSettings"].get("Networks") or {}
        states[container[:12]] = {"Status": attrs["State"]["Status"], "Pid": attrs["State"]["Pid"],
                                  "endpoints": [n.get("EndpointID") for n in networks.values() if n.get("EndpointID")],
                                  "ports": attrs["NetworkSettings"].get("Ports") or {}}
    evidence.as_json("left by the failed run", states)
    evidence.figure("left by the failed run",  # the ids are in the attachment above
                    ", ".join(sorted(v["Status"] for v in states.values())) or "nothing")
    for name, state in states.items():
        assert state["Status"] == "created" and not state["Pid"], \
            f"the failed run left container {name} {state['Status']} (pid {state['Pid']})"
        assert not state["endpoints"] and not state["ports"], \
            f"the failed run left container {name} half-created: endpoints {state['endpoints']}, ports {state['ports']}"


def case_port_conflict_host_process(m: Mapping) -> None:
    if not m.local:
        not_run("a host process on the engine's host cannot be started from here")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result, _ = m.run_detached("-p", f"{port}:80", m.friendlyname.name)
        _assert_clear_error(result, port)
        _assert_nothing_half_created(m, set())
    assert tcp_port_free(port), f"host port {port} is still held after the failed run"


def case_port_conflict_container(m: Mapping) -> None:
    port = free_tcp_port()
    result, first = m.run_detached("-p", f"{port}:80", m.friendlyname.name)
    _require_ok(result)
    second, _ = m.run_detached("-p", f"{port}:80", m.friendlyname.name)
    _assert_clear_error(second, port)
    _assert_nothing_half_created(m, {first})
    assert m.engine.api.inspect_container(first)["State"]["Running"], "the first container stopped"
    m.page(m.host, port)


CASES = {
    "host-to-container": case_host_to_container,
    "publish-all": case_publish_all,
    "bind-address": case_bind_address,
    "udp": case_udp,
    "several-ports": case_several_ports,
    "port-conflict-host-process": case_port_conflict_host_process,
    "port-conflict-container": case_port_conflict_container,
}


@claim("CMD-2", cases=CASES)
def test_port_mapping(case, friendlyname, docker_cli, engine, resources, alpine_image, engine_target):
    """Port mapping MUST work in each of its forms, and a conflict MUST fail cleanly.

    Each case runs ``docker run -d`` with the real CLI and checks the engine's reported
    binding and real traffic from the host:
    ``host-to-container`` (``-p HOST:80``: the page is served on HOST);
    ``publish-all`` (``-P``: EXPOSE 80 gets a random host port that serves the page);
    ``bind-address`` (``-p 127.0.0.1:HOST:80``: served on loopback, refused on the host's
    other address); ``udp`` (``-p HOST:5353/udp``: a datagram is echoed back);
    ``several-ports`` (two ``-p``: each host port reaches its own container port);
    ``port-conflict-host-process`` (a host process holds the port) and
    ``port-conflict-container`` (another container publishes it): the run MUST fail with
    an error naming the port as taken, no container of it may run, one left in "created"
    MUST hold no process, endpoint or port, the host port MUST be free again, and the
    first container keeps serving.
    """
    mapping = Mapping(docker_cli, engine, resources, friendlyname, alpine_image.ref,
                      published_host(engine_target.url), engine_target.url.startswith("unix://"))
    case(mapping)


@pytest.mark.quiet
@claim("CMD-2")
def test_port_mapping_carrier_and_rtt(docker_cli, engine, resources, alpine_image, engine_target,
                                      thresholds):
    """A published port SHOULD add little latency; what carries it is recorded.

    Runs an echo server with ``docker run -d -p HOST:7`` and measures
    ``port_mapping_rtt_samples`` one-line round trips on one TCP connection each: directly
    to the container's IP, through the mapping on 127.0.0.1, and through the mapping on
    the host's other address. For each mapped path it records which carrier took the
    connection (a ``docker-proxy`` socket accepting it, or a DNAT rule whose packet counter
    grew). Every echo must come back intact, and the p50 round trip through each mapping
    must stay within ``port_mapping_rtt_p50_max_ms``. Needs the engine's own host.
    """
    if not engine_target.url.startswith("unix://"):
        not_run("the direct path to a container IP exists only on the engine's host")
    port = free_tcp_port()
    result = docker_cli("run", "-d", *resources.label_flags(), "-p", f"{port}:7", alpine_image.ref,
                        "nc", "-lk", "-p", "7", "-e", "cat")
    adopt_test_containers(resources)
    assert result.ok, f"`docker run -d -p {port}:7` exited {result.exit_code}: {error_line(result.stderr)}"
    container = result.stdout.strip()
    settings = engine.api.inspect_container(container)["NetworkSettings"]
    bound = [int(b["HostPort"]) for b in (settings.get("Ports") or {}).get("7/tcp") or []]
    assert port in bound, f"7/tcp is not published on host port {port}: {settings.get('Ports')}"
    networks = settings["Networks"]
    direct_ip = next(n["IPAddress"] for n in networks.values() if n.get("IPAddress"))
    samples, warmup = thresholds.port_mapping_rtt_samples, 10
    paths = {"direct": (direct_ip, 7, False), "mapped via 127.0.0.1": ("127.0.0.1", port, True)}
    other = non_loopback_address()
    if other:
        paths[f"mapped via {other}"] = (other, port, True)
    measured = {name: wait_until(lambda a=address, p=p, mp=mapped: measure_path(a, p, samples, warmup, mapped=mp),
                                 timeout=APP_ANSWERS_S, what=f"an echo through {name}")
                for name, (address, p, mapped) in paths.items()}
    summary = {}
    for name, sample in measured.items():
        dist = Distribution.of(list(sample.rtts_ms))
        summary[name] = {"address": f"{sample.address}:{sample.port}", "carrier": sample.carrier,
                         "how seen": sample.evidence, "echoed intact": sample.echoed,
                         "rtt": dist.as_dict()}
        evidence.figure(f"rtt p50 {name}", round(dist.p50 * 1000, 1), "µs", noise=100)  # loopback jitter
        if name != "direct":
            evidence.figure(f"carrier {name}", sample.carrier)
    evidence.as_json("round trips", {"summary": summary,
                                     "samples_ms": {n: s.rtts_ms for n, s in measured.items()}})
    limit = thresholds.port_mapping_rtt_p50_max_ms
    direct_p50 = summary["direct"]["rtt"]["p50"]
    for name, entry in summary.items():
        assert entry["echoed intact"], f"the echo through {name} came back altered"
        if name == "direct":
            continue
        p50 = entry["rtt"]["p50"]
        assert p50 <= limit, (f"round trip through the mapping ({name}, {entry['carrier']}) has p50 "
                              f"{p50:.3f} ms against {direct_p50:.3f} ms direct, over "
                              f"port_mapping_rtt_p50_max_ms = {limit}")
