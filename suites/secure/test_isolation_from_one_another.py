"""SEC-1: containers isolate applications from one another.

Document: "安全" (secure): containers isolate applications from one another.
"""

from __future__ import annotations

import random
import uuid

from fixtures.core import evidence
from fixtures.core.applicability import not_applicable
from fixtures.core.waiting import wait_until
from fixtures.inspection import mount_walk
from fixtures.inspection.namespaces import KINDS, kernel_has, namespace_of
from fixtures.inspection.reachability import address_on, default_network, fetch, serve_secret
from fixtures.inspection.run_to_exit import run_to_exit
from fixtures.ledger.marks import claim
from fixtures.run.ports import free_tcp_port

PRIVATE_KINDS = [kind for kind in KINDS if kind != "cgroup"]


def _sleeper(resources, image: str, **kwargs):
    return resources.container(image, ["sleep", "300"], **kwargs)


def _namespaces(engine_host, containers: dict, kind: str) -> dict[str, str]:
    ids = {"host": namespace_of(engine_host, "self", kind)}
    for name, container in containers.items():
        container.reload()
        ids[name] = namespace_of(engine_host, container.attrs["State"]["Pid"], kind)
    return ids


@claim("SEC-1", cases=PRIVATE_KINDS, smoke="pid")
def test_namespace_is_private(case, resources, alpine_image, engine_host):
    """Each container MUST have its own pid, net, mnt, uts and ipc namespace.

    Starts two containers and reads, on the engine's host, the ``/proc/<State.Pid>/ns/<kind>``
    link of each and the host's own (``/proc/self/ns/<kind>`` of a host process). The three
    namespace inodes must all differ. Attaches the inode triple.
    """
    ids = _namespaces(engine_host, {"A": _sleeper(resources, alpine_image.ref),
                                    "B": _sleeper(resources, alpine_image.ref)}, case)
    evidence.as_json(f"{case} namespace inodes", ids)
    evidence.figure(f"{case} ns (host / A / B)", f"{ids['host']} / {ids['A']} / {ids['B']}", trend=False)
    for name in ("A", "B"):
        assert ids[name] != ids["host"], f"container {name} shares the host's {case} namespace ({ids[name]})"
    assert ids["A"] != ids["B"], f"containers A and B share one {case} namespace ({ids['A']})"


@claim("SEC-1", severity="minor")
def test_cgroup_namespace_is_private(resources, alpine_image, engine_host, engine):
    """Each container SHOULD have its own cgroup namespace (where the kernel has them).

    A finding of severity minor, not a silent pass: reads the ``cgroup`` namespace inode of
    two containers and of the host as for the other namespaces. When they are shared, it
    records the engine's reason (the containers' ``HostConfig.CgroupnsMode`` and the
    engine's cgroup version) and whether ``--cgroupns=private`` would have given a private
    one, then fails with that finding. Docker 20.10 defaults to ``host`` on cgroup v1 and
    to ``private`` on cgroup v2.
    """
    if not kernel_has(engine_host, "cgroup"):
        not_applicable("the engine's kernel has no cgroup namespaces "
                    "(/proc/self/ns/cgroup is absent on its host)")
    a, b = _sleeper(resources, alpine_image.ref), _sleeper(resources, alpine_image.ref)
    ids = _namespaces(engine_host, {"A": a, "B": b}, "cgroup")
    info = engine.info()
    mode = a.attrs["HostConfig"].get("CgroupnsMode") or "(not reported)"
    shared = ids["A"] == ids["host"] or ids["B"] == ids["host"] or ids["A"] == ids["B"]
    possible = None
    if shared:
        private = _sleeper(resources, alpine_image.ref, cgroupns="private")
        possible = _namespaces(engine_host, {"private": private}, "cgroup")["private"]
    record = {**ids, "HostConfig.CgroupnsMode": mode, "engine CgroupVersion": info.get("CgroupVersion"),
              "with --cgroupns=private": possible}
    evidence.as_json("cgroup namespace inodes", record)
    evidence.figure("cgroupns mode", mode)
    assert not shared, (
        f"finding: containers share the host's cgroup namespace ({ids['A']}, host {ids['host']}): the "
        f"engine runs them with CgroupnsMode={mode!r} by default on cgroup v{info.get('CgroupVersion')}; "
        f"--cgroupns=private gives {possible}")


def _files_probe(a_inspect: dict, secret: str) -> list[str]:
    """Every path at which B could reach A's file if A's filesystem leaked into B."""
    graph = a_inspect.get("GraphDriver", {}).get("Data") or {}
    host_paths = [f"{graph[key]}/tmp/{secret}" for key in ("UpperDir", "MergedDir") if graph.get(key)]
    return [f"/tmp/{secret}", f"/proc/{a_inspect['State']['Pid']}/root/tmp/{secret}", *host_paths]


@claim("SEC-1")
def test_neighbours_processes_are_invisible(resources, alpine_image):
    """A container MUST NOT see its neighbour's processes.

    A runs ``sleep <random>``; B lists every process it can see (``/proc/<pid>/cmdline``),
    and the listing must exit 0. No line may be A's command, and B's pid 1 must be B's own
    command.
    """
    marker = str(random.randint(10_000_000, 99_999_999))
    a = resources.container(alpine_image.ref, ["sleep", marker])
    b = run_to_exit(resources, alpine_image.ref, ["sh", "-c", "for p in /proc/[0-9]*; do "
                    "echo \"${p#/proc/} $(tr '\\0' ' ' < $p/cmdline)\"; done"], network_mode="none")
    evidence.as_json("processes B sees", {"A runs": f"sleep {marker} (host pid {a.attrs['State']['Pid']})",
                                          "B": b.as_dict()})
    seen = [line for line in b.checked("listing processes in B").splitlines() if line.strip()]
    leaked = [line for line in seen if f"sleep {marker}" in line]
    assert not leaked, f"container B sees its neighbour's process: {leaked}"
    init = next((line for line in seen if line.split()[0] == "1"), "(none)")
    assert init.startswith("1 sh -c for p in /proc"), \
        f"container B's pid 1 is not its own command but {init!r}: it sees processes outside itself"


@claim("SEC-1")
def test_neighbours_files_are_invisible(resources, alpine_image):
    """A container MUST NOT see its neighbour's files.

    A writes ``/tmp/<random>``; B looks for it at that path, at A's overlay directories on
    the host (its GraphDriver UpperDir and MergedDir) and under ``/proc/<A's pid>/root``,
    under every mount of a whole filesystem B has. B's probe must walk its root mount and
    run to its end; it must find the file nowhere.
    """
    secret = f"neighbour-secret-{uuid.uuid4().hex}"
    a = resources.container(alpine_image.ref,
                            ["sh", "-c", f"echo secret > /tmp/{secret} && echo ready && exec sleep 300"],
                            network_mode="none")
    wait_until(lambda: b"ready" in a.logs(), timeout=30, what="container A to write its file")
    a.reload()
    probes = _files_probe(a.attrs, secret)
    b = run_to_exit(resources, alpine_image.ref, ["sh", "-c", mount_walk.script(probes)], network_mode="none")
    evidence.as_json("files", {"A wrote": f"/tmp/{secret}", "paths B tried (under each of its mounts)": probes,
                               "B": b.as_dict()})
    seen = mount_walk.seen(b.checked("the probe in B"), what="the probe in B")
    assert not seen, f"container B sees its neighbour's file at {seen}"


@claim("SEC-1")
def test_neighbours_loopback_service_is_unreachable(resources, alpine_image):
    """A container MUST NOT reach a service its neighbour serves on its own loopback.

    A serves a secret on 127.0.0.1 (checked from inside A); B connects to 127.0.0.1 on the
    same port with ``nc``. B's probe must run (exit 0, printing nc's exit status) and must
    not get the secret.
    """
    port = free_tcp_port()
    secret = f"loopback-{uuid.uuid4().hex[:12]}"
    serve_secret(resources, alpine_image.ref, secret, port=port, listen="127.0.0.1")
    got = fetch(resources, alpine_image.ref, "127.0.0.1", port)
    evidence.as_json("loopback", {"A serves": f"127.0.0.1:{port} (checked from inside A)",
                                  "B got from 127.0.0.1": got})
    assert secret not in got, f"container B reached its neighbour's loopback service on 127.0.0.1:{port}"


@claim("SEC-1")
def test_user_networks_are_separate(resources, create_network, alpine_image):
    """Containers on two different user-defined networks MUST NOT reach each other.

    Creates networks X and Y; A on X serves a secret on port 8080 (checked from inside A);
    B on Y connects to A's address on X with a 2 s timeout and must not get the secret.
    """
    net_x, net_y = create_network(), create_network()
    secret = f"net-x-{uuid.uuid4().hex[:12]}"
    a = serve_secret(resources, alpine_image.ref, secret, network=net_x.name)
    address = address_on(a, net_x.name)
    got = fetch(resources, alpine_image.ref, address, 8080, network=net_y.name)
    evidence.as_json("user networks", {"A": f"{address}:8080 on {net_x.name}", "B network": net_y.name,
                                       "B got": got})
    assert secret not in got, \
        f"container B on network {net_y.name} reached A at {address}:8080 on network {net_x.name}"


@claim("SEC-1", severity="minor")
def test_default_bridge_separates_containers(resources, alpine_image, engine):
    """Containers on the default bridge SHOULD NOT reach each other (a finding, severity minor).

    Docker documents that containers on the default bridge can talk to each other unless
    the daemon runs with ``--icc=false``. A, given no network (so on the engine's default
    bridge, whatever the engine names it), serves a secret on port 8080 (checked from
    inside A); B, also given none, connects to A's address.
    If B gets through, the test fails as a minor finding that names the bridge's
    ``enable_icc`` option.
    """
    secret = f"bridge-{uuid.uuid4().hex[:12]}"
    server = serve_secret(resources, alpine_image.ref, secret)
    network = default_network(server)
    address = address_on(server, network)
    got = fetch(resources, alpine_image.ref, address, 8080)
    icc = (engine.api.inspect_network(network).get("Options") or {}).get("com.docker.network.bridge.enable_icc")
    reached = secret in got
    evidence.as_json("default bridge", {"A": f"{address}:8080 on {network}", "B got": got, "enable_icc": icc})
    evidence.figure("default bridge inter-container", "open" if reached else "closed")
    assert not reached, (f"finding: containers on the default bridge reach each other (B got A's reply "
                         f"from {address}:8080); the bridge has enable_icc={icc}")
