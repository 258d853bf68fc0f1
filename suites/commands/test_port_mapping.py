"""CMD-2 in depth: the forms of ``-p``/``-P`` port mapping, a port conflict, and what carries
the traffic.

Document: the command list ("docker run -p 4000:80 friendlyname  # Run 'friendlyname'
mapping port 4000 to 80"). Host ports here are ephemeral: the document names only 4000,
which test_run_published.py uses. Every container is made with the real CLI
(``labelled_cli``); the engine's reported binding is checked, then real traffic from the
host.
"""

from __future__ import annotations

import socket

import pytest
import requests

from fixtures.core import evidence
from fixtures.core.applicability import not_run
from fixtures.core.stats import Distribution
from fixtures.core.waiting import wait_until
from fixtures.engine.cli import CliResult
from fixtures.engine.netns import engine_network
from fixtures.images.friendlyname import CONTEXT
from fixtures.ledger.marks import claim
from fixtures.network.carrier import measure_path
from fixtures.network.published import published_host
from fixtures.run.ports import (
    free_tcp_port,
    free_udp_port,
    non_loopback_address,
    tcp_port_free,
)

APP_ANSWERS_S = 30  # a bound on waiting for the app, not a threshold


@pytest.fixture
def reach(engine_target) -> str:
    """Where a port the engine publishes is reached from here."""
    return published_host(engine_target.url)


def _run_detached(labelled_cli, *args: str) -> str:
    """``docker run -d <labels> ARGS``, which must succeed; the new container's id."""
    return labelled_cli.create("run", "-d", *args).check().stdout.strip()


def _ports(engine, container_id: str) -> dict:
    ports = engine.api.inspect_container(container_id)["NetworkSettings"]["Ports"] or {}
    evidence.as_json(f"NetworkSettings.Ports {container_id[:12]}", ports)
    return ports


def _host_ports(ports: dict, container_port: str) -> list[tuple[str, int]]:
    return [(b.get("HostIp", ""), int(b["HostPort"])) for b in ports.get(container_port) or []
            if b.get("HostPort")]


def _assert_serves_the_page(address: str, port: int) -> None:
    response = wait_until(lambda: requests.get(f"http://{address}:{port}/", timeout=5),
                          timeout=APP_ANSWERS_S, what=f"HTTP on {address}:{port}")
    expected = (CONTEXT / "index.html").read_bytes()
    assert response.status_code == 200 and response.content == expected, \
        f"{address}:{port} answered {response.status_code} {response.content[:100]!r}, not the app's page"


def _connects(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=3):
            return True
    except OSError:
        return False


def _line_from(address: str, port: int) -> bytes:
    with socket.create_connection((address, port), timeout=5) as conn:
        data = b""
        while chunk := conn.recv(256):
            data += chunk
        return data.strip()


@claim("CMD-2")
def test_host_port_reaches_container_port(labelled_cli, engine, friendlyname, reach):
    """``docker run -d -p HOST:80 friendlyname`` MUST publish container port 80 on host port
    HOST, and HTTP to HOST MUST reach the app.

    The engine must report 80/tcp bound to HOST, and a GET from the host to that port must
    return the app's page, byte for byte.
    """
    port = free_tcp_port()
    container = _run_detached(labelled_cli, "-p", f"{port}:80", friendlyname.name)
    bound = _host_ports(_ports(engine, container), "80/tcp")
    assert port in [p for _, p in bound], f"80/tcp is not published on host port {port}: {bound}"
    _assert_serves_the_page(reach, port)


@claim("CMD-2")
def test_publish_all_gives_exposed_port_a_random_host_port(labelled_cli, engine, friendlyname, reach):
    """``docker run -d -P friendlyname`` MUST publish the image's EXPOSE 80 on a host port the
    engine picks, and that port MUST serve the app.

    The engine must report at least one host port for 80/tcp (recorded), and a GET to the
    first one must return the app's page.
    """
    container = _run_detached(labelled_cli, "-P", friendlyname.name)
    bound = _host_ports(_ports(engine, container), "80/tcp")
    evidence.figure("random host port", ", ".join(f"{ip or '*'}:{p}" for ip, p in bound) or "none", trend=False)
    assert bound, "-P published no host port for the image's EXPOSE 80"
    _assert_serves_the_page(reach, bound[0][1])


@claim("CMD-2")
def test_bind_address_limits_the_port_to_it(labelled_cli, engine, friendlyname, engine_target):
    """``docker run -d -p 127.0.0.1:HOST:80 friendlyname`` MUST publish the port on loopback
    only.

    The engine must report 80/tcp bound to 127.0.0.1 alone; the page must be served on
    127.0.0.1:HOST, and a connection to HOST on the host's other (non-loopback) address
    must be refused. Needs the engine's own host (its loopback is not reachable from
    elsewhere): not run otherwise.
    """
    if not engine_target.is_local:
        not_run("a port bound to the engine host's 127.0.0.1 cannot be reached from here")
    port = free_tcp_port()
    container = _run_detached(labelled_cli, "-p", f"127.0.0.1:{port}:80", friendlyname.name)
    bound = _host_ports(_ports(engine, container), "80/tcp")
    assert bound and all(ip == "127.0.0.1" for ip, _ in bound), \
        f"80/tcp is not bound to 127.0.0.1:{port} only: {bound}"
    _assert_serves_the_page("127.0.0.1", port)
    other = non_loopback_address()
    assert other, "this host has no non-loopback address to check the binding against"
    # The probe's own control: a port listening on every address is reached through `other`,
    # so a refusal below is the binding's, not an address this test cannot reach.
    with socket.create_server(("0.0.0.0", 0)) as everywhere:
        assert _connects(other, everywhere.getsockname()[1]), \
            f"the probe cannot reach this host's own address {other}: the binding cannot be checked"
    reachable = _connects(other, port)
    evidence.figure(f"{other}:{port} reachable", reachable)
    assert not reachable, f"a port bound to 127.0.0.1 is also reachable on {other}:{port}"


@claim("CMD-2")
def test_udp_port_carries_datagrams(labelled_cli, engine, alpine_image, reach):
    """``docker run -d -p HOST:5353/udp`` MUST carry UDP datagrams between the host port and
    the container port.

    A UDP echo server (``nc -lu``) runs in the container; the engine must report 5353/udp
    bound to HOST, and a datagram sent from the host to HOST must come back unchanged.
    """
    port = free_udp_port()
    container = _run_detached(labelled_cli, "-p", f"{port}:5353/udp", alpine_image.ref,
                              "nc", "-lu", "-p", "5353", "-e", "cat")
    bound = _host_ports(_ports(engine, container), "5353/udp")
    assert port in [p for _, p in bound], f"5353/udp is not published on host port {port}: {bound}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(1)

        def echoed() -> bytes:
            # A datagram sent before the server listens is lost: send again on each try.
            udp.sendto(b"udp-through-mapping\n", (reach, port))
            return udp.recv(256)

        answer = wait_until(echoed, timeout=APP_ANSWERS_S, what=f"a UDP echo through {reach}:{port}")
    assert answer == b"udp-through-mapping\n", f"the UDP echo through the mapping returned {answer!r}"


@claim("CMD-2")
def test_several_ports_each_reach_their_own(labelled_cli, engine, alpine_image, reach):
    """Two ``-p`` options MUST publish two ports, each host port reaching its own container port.

    The container greets on 80 with "port-80" and on 8080 with "port-8080"; the engine must
    report both bindings, and each host port must read its own greeting.
    """
    first, second = free_tcp_port(), free_tcp_port()
    script = "nc -lk -p 80 -e echo port-80 & nc -lk -p 8080 -e echo port-8080 & wait"
    container = _run_detached(labelled_cli, "-p", f"{first}:80", "-p", f"{second}:8080", alpine_image.ref,
                              "sh", "-c", script)
    ports = _ports(engine, container)
    assert first in [p for _, p in _host_ports(ports, "80/tcp")], \
        f"80/tcp is not published on host port {first}: {ports}"
    assert second in [p for _, p in _host_ports(ports, "8080/tcp")], \
        f"8080/tcp is not published on host port {second}: {ports}"
    got = {p: wait_until(lambda p=p: _line_from(reach, p), timeout=APP_ANSWERS_S,
                         what=f"a greeting on {reach}:{p}") for p in (first, second)}
    evidence.as_json("greetings", {str(k): v.decode(errors="replace") for k, v in got.items()})
    assert got == {first: b"port-80", second: b"port-8080"}, f"each host port must reach its own container port: {got}"


def _assert_refused_as_taken(result: CliResult, port: int) -> None:
    """The run failed, and its error names the port as taken: the claim is a *clear* error,
    the user's only clue which port to change, so here the words are the check."""
    error = result.stderr.lower()
    assert not result.ok, f"`docker run -d` on host port {port}, which is already bound, succeeded"
    assert str(port) in error and ("already in use" in error or "already allocated" in error), \
        f"the error does not say that port {port} is taken: {result.error()}"


def _assert_nothing_half_created(engine, resources, keep: set[str]) -> None:
    """No container of the failed run runs; one left in "created" holds no process or endpoint.

    The ports it lists are evidence only: Podman lists a created container's configured ports
    in ``NetworkSettings.Ports``, bound or not. Whether the port is still held is judged by
    binding it (the callers do), not by the listing."""
    left = [c for c in resources.containers() if c not in keep]
    states = {}
    for container in left:
        attrs = engine.api.inspect_container(container)
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
        assert not state["endpoints"], \
            f"the failed run left container {name} half-created: endpoints {state['endpoints']}"


@claim("CMD-2")
def test_port_held_by_a_host_process_fails_cleanly(labelled_cli, engine, resources, friendlyname, engine_target):
    """``docker run -d -p HOST:80`` MUST fail with a clear error, and leave nothing running,
    when a host process already holds HOST.

    A socket of this test listens on HOST. The run must fail with an error naming HOST as
    taken; no container of it may run, one left in "created" must hold no process or network
    endpoint; and HOST must be free again once the test's socket closes. Needs the
    engine's own host: not run otherwise.
    """
    if not engine_target.is_local:
        not_run("a host process on the engine's host cannot be started from here")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = labelled_cli.create("run", "-d", "-p", f"{port}:80", friendlyname.name)
        _assert_refused_as_taken(result, port)
        _assert_nothing_half_created(engine, resources, set())
    assert tcp_port_free(port), f"host port {port} is still held after the failed run"


@claim("CMD-2")
def test_port_held_by_a_container_fails_cleanly(labelled_cli, engine, resources, friendlyname, reach,
                                                engine_target):
    """``docker run -d -p HOST:80`` MUST fail with a clear error when another container
    publishes HOST, and the first container MUST keep serving.

    A first container publishes HOST; a second run on HOST must fail with an error naming
    HOST as taken, leave no container of it running (one in "created" holds no process,
    endpoint), and the first container must still run and serve its page on HOST. On the
    engine's own host, HOST must be free once the first container stops.
    """
    port = free_tcp_port()
    first = _run_detached(labelled_cli, "-p", f"{port}:80", friendlyname.name)
    second = labelled_cli.create("run", "-d", "-p", f"{port}:80", friendlyname.name)
    _assert_refused_as_taken(second, port)
    _assert_nothing_half_created(engine, resources, {first})
    assert engine.api.inspect_container(first)["State"]["Running"], "the first container stopped"
    _assert_serves_the_page(reach, port)
    if engine_target.is_local:
        # Once the first container stops, nothing may hold HOST: the failed run's container
        # must not have bound it.
        engine.api.stop(first, timeout=5)
        wait_until(lambda: tcp_port_free(port), timeout=30, what=f"host port {port} to be free once its first "
                   "container stopped (the failed run must hold nothing)")


@pytest.mark.quiet
@claim("CMD-2")
def test_port_mapping_carrier_and_rtt(labelled_cli, engine, alpine_image, engine_target, thresholds):
    """A published port SHOULD add little latency; what carries it is recorded.

    Runs an echo server with ``docker run -d -p HOST:7`` and measures
    ``port_mapping_rtt_samples`` one-line round trips on one TCP connection each: directly
    to the container's IP (unless that IP is in the engine's own network namespace, as a
    rootless engine's is), through the mapping on 127.0.0.1, and through the mapping on
    the host's other address. For each mapped path it records which carrier took the
    connection (a ``docker-proxy`` socket accepting it, or a DNAT rule whose packet counter
    grew). Every echo must come back intact, and the p50 round trip through each mapping
    must stay within ``port_mapping_rtt_p50_max_ms``. Needs the engine's own host.
    """
    if not engine_target.is_local:
        not_run("the direct path to a container IP exists only on the engine's host")
    port = free_tcp_port()
    container = _run_detached(labelled_cli, "-p", f"{port}:7", alpine_image.ref, "nc", "-lk", "-p", "7", "-e", "cat")
    settings = engine.api.inspect_container(container)["NetworkSettings"]
    bound = [int(b["HostPort"]) for b in (settings.get("Ports") or {}).get("7/tcp") or []]
    assert port in bound, f"7/tcp is not published on host port {port}: {settings.get('Ports')}"
    networks = settings["Networks"]
    direct_ip = next(n["IPAddress"] for n in networks.values() if n.get("IPAddress"))
    samples, warmup = thresholds.port_mapping_rtt_samples, 10
    paths = {"mapped via 127.0.0.1": ("127.0.0.1", port, True)}
    # An engine in a network namespace of its own (a rootless dockerd) has its container IPs
    # there only: on the host, that address is nobody's or another engine's container.
    _, shares_our_network = engine_network(engine_target.url)
    if shares_our_network is not False:
        paths = {"direct": (direct_ip, 7, False), **paths}
    else:
        evidence.figure("rtt p50 direct", "not measured: the container's IP is in the engine's own network namespace")
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
    direct = f"{summary['direct']['rtt']['p50']:.3f} ms direct" if "direct" in summary else "no direct path"
    for name, entry in summary.items():
        assert entry["echoed intact"], f"the echo through {name} came back altered"
        if name == "direct":
            continue
        p50 = entry["rtt"]["p50"]
        assert p50 <= limit, (f"round trip through the mapping ({name}, {entry['carrier']}) has p50 "
                              f"{p50:.3f} ms against {direct}, over "
                              f"port_mapping_rtt_p50_max_ms = {limit}")
