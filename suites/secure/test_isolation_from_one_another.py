"""SEC-1: containers isolate applications from one another.

Document: "安全" (secure): containers isolate applications from one another.
"""

from __future__ import annotations

import random
import uuid

from fixtures.core import evidence
from fixtures.core.applicability import not_applicable
from fixtures.core.waiting import wait_until
from fixtures.inspection.namespaces import KINDS, kernel_has, namespace_of
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


def check_processes(resources, image, engine):
    marker = str(random.randint(10_000_000, 99_999_999))
    a = resources.container(image, ["sleep", marker])
    b = run_to_exit(resources, image, ["sh", "-c", "for p in /proc/[0-9]*; do "
                                       "echo \"${p#/proc/} $(tr '\\0' ' ' < $p/cmdline)\"; done"],
                    network_mode="none")
    seen = [line for line in b.output.splitlines() if line.strip()]
    evidence.as_json("processes B sees", {"A runs": f"sleep {marker} (host pid {a.attrs['State']['Pid']})",
                                          "B sees": seen})
    assert b.exit_code == 0, f"listing processes in B failed: {b.output}"
    leaked = [line for line in seen if f"sleep {marker}" in line]
    assert not leaked, f"container B sees its neighbour's process: {leaked}"
    init = next((line for line in seen if line.split()[0] == "1"), "(none)")
    assert init.startswith("1 sh -c for p in /proc"), \
        f"container B's pid 1 is not its own command but {init!r}: it sees processes outside itself"


def check_files(resources, image, engine):
    secret = f"neighbour-secret-{uuid.uuid4().hex}"
    a = resources.container(image, ["sh", "-c", f"echo secret > /tmp/{secret} && echo ready && exec sleep 300"],
                            network_mode="none")
    wait_until(lambda: b"ready" in a.logs(), timeout=30, what="container A to write its file")
    a.reload()
    probes = _files_probe(a.attrs, secret)
    script = ("for m in $(awk '$4 == \"/\" {print $5}' /proc/self/mountinfo | sort -u); do "
              "for p in " + " ".join(probes) + "; do [ -e \"${m%/}$p\" ] && echo \"SEEN ${m%/}$p\"; done; done; true")
    b = run_to_exit(resources, image, ["sh", "-c", script], network_mode="none")
    evidence.as_json("files", {"A wrote": f"/tmp/{secret}", "paths B tried (under each of its mounts)": probes,
                               "B output": b.output})
    seen = [line[5:] for line in b.output.splitlines() if line.startswith("SEEN ")]
    assert b.exit_code == 0, f"the probe in B failed: {b.output}"
    assert not seen, f"container B sees its neighbour's file at {seen}"


def check_loopback(resources, image, engine):
    port = free_tcp_port()
    secret = f"loopback-{uuid.uuid4().hex[:12]}"
    a = resources.container(image, ["nc", "-lk", "-s", "127.0.0.1", "-p", str(port), "-e", "echo", secret])

    def a_answers_itself():
        code, out = a.exec_run(["nc", "-w", "1", "127.0.0.1", str(port)])
        return secret in out.decode(errors="replace")

    wait_until(a_answers_itself, timeout=20, what=f"container A's loopback service on port {port}")
    b = run_to_exit(resources, image, ["sh", "-c", f"nc -w 2 127.0.0.1 {port}; echo rc=$?"])
    evidence.as_json("loopback", {"A serves": f"127.0.0.1:{port} (checked from inside A)",
                                  "B connects to 127.0.0.1": b.output})
    assert secret not in b.output, f"container B reached its neighbour's loopback service on 127.0.0.1:{port}"


CHECKS = {"processes": check_processes, "files": check_files, "loopback": check_loopback}


@claim("SEC-1", cases=list(CHECKS))
def test_neighbour_is_invisible(case, resources, alpine_image, engine):
    """A container MUST NOT see its neighbour's processes, files or loopback services.

    ``processes``: A runs ``sleep <random>``; B lists every process it can see (from /proc)
    and must find only its own. ``files``: A writes ``/tmp/<random>``; B looks for it at
    that path, at A's overlay directories on the host and under ``/proc/<A's pid>/root``,
    under every mount it has. ``loopback``: A serves on 127.0.0.1 (checked from inside A);
    B connects to 127.0.0.1 on the same port and must not reach it.
    """
    CHECKS[case](resources, alpine_image.ref, engine)


def _listener(resources, image: str, secret: str, **kwargs):
    container = resources.container(image, ["nc", "-lk", "-p", "8080", "-e", "echo", secret], **kwargs)

    def answers_itself():
        code, out = container.exec_run(["nc", "-w", "1", "127.0.0.1", "8080"])
        return secret in out.decode(errors="replace")

    wait_until(answers_itself, timeout=20, what="the listener to answer on its own port 8080")
    container.reload()
    return container


def _address_on(container, network: str) -> str:
    networks = container.attrs["NetworkSettings"]["Networks"] or {}
    address = (networks.get(network) or {}).get("IPAddress")
    assert address, (f"container {container.id[:12]} has no address on network {network!r} "
                     f"(NetworkMode={container.attrs['HostConfig']['NetworkMode']}, networks {sorted(networks)})")
    return address


@claim("SEC-1")
def test_user_networks_are_separate(resources, create_network, alpine_image):
    """Containers on two different user-defined networks MUST NOT reach each other.

    Creates networks X and Y; A on X serves a secret on port 8080 (checked from inside A);
    B on Y connects to A's address on X with a 2 s timeout and must not get the secret.
    """
    net_x, net_y = create_network(), create_network()
    secret = f"net-x-{uuid.uuid4().hex[:12]}"
    a = _listener(resources, alpine_image.ref, secret, network=net_x.name)
    address = _address_on(a, net_x.name)
    b = run_to_exit(resources, alpine_image.ref, ["sh", "-c", f"nc -w 2 {address} 8080; echo rc=$?"],
                    network=net_y.name)
    evidence.as_json("user networks", {"A": f"{address}:8080 on {net_x.name}", "B network": net_y.name,
                                       "B output": b.output})
    assert secret not in b.output, \
        f"container B on network {net_y.name} reached A at {address}:8080 on network {net_x.name}"


@claim("SEC-1", severity="minor")
def test_default_bridge_separates_containers(resources, alpine_image, engine):
    """Containers on the default bridge SHOULD NOT reach each other (a finding, severity minor).

    Docker documents that containers on the default bridge can talk to each other unless
    the daemon runs with ``--icc=false``. A on the default bridge serves a secret on port
    8080; B, also on the default bridge, connects to A's address. If B gets through, the
    test fails as a minor finding that names the bridge's ``enable_icc`` option.
    """
    secret = f"bridge-{uuid.uuid4().hex[:12]}"
    a = _listener(resources, alpine_image.ref, secret)
    address = _address_on(a, "bridge")
    b = run_to_exit(resources, alpine_image.ref, ["sh", "-c", f"nc -w 2 {address} 8080; echo rc=$?"])
    icc = engine.api.inspect_network("bridge")["Options"].get("com.docker.network.bridge.enable_icc")
    reached = secret in b.output
    evidence.as_json("default bridge", {"A": f"{address}:8080", "B output": b.output, "enable_icc": icc})
    evidence.figure("default bridge inter-container", "open" if reached else "closed")
    assert not reached, (f"finding: containers on the default bridge reach each other (B got A's reply "
                         f"from {address}:8080); the bridge has enable_icc={icc}")
