"""A simulated fleet on this one machine: N dockerd "hosts", each a sandbox engine in a network
namespace of its own (``fixtures/engine/own_netns.py``), on a veth pair to a bridge of the fleet's
own, with its own address, data-root, exec-root, pidfile and bridge, listening on
``tcp://ADDRESS:2376`` with TLS (a CA and certificates made for the fleet, ``certs.py``).

The fleet also has a registry on its bridge's address (what a real fleet's engines would
reach: the run's own registry listens on loopback, which a namespace's engine cannot reach),
given to runs with ``--registry`` and trusted by the engines as an insecure registry, and a
targets file naming every host. The run's images are put on every engine first, so the runs
find them present, as on prepared hosts.

Everything is written down in a run directory of its own and undone at the end, even after a
crash (the next run of the suite reaps a dead self-test's run directory): engines,
namespaces, veths, the bridge, the registry, files.
"""

from __future__ import annotations

import concurrent.futures
import os
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import docker
import yaml

from fixtures.engine import own_netns, sandbox
from fixtures.engine.target import connect
from fixtures.host import snapshot as host_snapshot
from fixtures.images.provision import ALPINE, NGINX, provision
from fixtures.registry import server as registry_server
from fixtures.registry.server import PASSWORD_ENV, USER_ENV
from fixtures.run.identity import RunIdentity
from fixtures.run.options import default_image_cache
from fixtures.run.rundir import RunDir
from fixtures.session.lifecycle import UNDOERS
from selftests.fleet.certs import FleetCA

RUN_ROOT = Path("/var/tmp/docker-conformance")
LABEL = "conformance.selftest.owner"


@dataclass
class FleetHost:
    name: str
    engine: sandbox.SandboxEngine
    namespace: own_netns.Netns
    url: str  # tcp://ADDRESS:2376, TLS

    def client(self, tls) -> docker.DockerClient:
        return connect(self.url, tls=tls)


@dataclass
class SimulatedFleet:
    run_dir: RunDir
    bridge: str
    hosts: dict[str, FleetHost]
    client_tls: dict[str, str]  # ca, cert, key for the targets file
    cert_path: Path  # the same as a DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem)
    registry: registry_server.Registry
    targets_file: Path
    extra: dict = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """The environment a run over this fleet needs: the registry's credentials."""
        return {USER_ENV: self.registry.username, PASSWORD_ENV: self.registry.password}

    def run_args(self) -> list[str]:
        return ["--targets", str(self.targets_file), "--registry", self.registry.address]

    def single_env(self, name: str) -> dict[str, str]:
        """A CI-matrix job's environment for one host, as any docker client takes it."""
        return {**self.env(), "DOCKER_HOST": self.hosts[name].url, "DOCKER_TLS_VERIFY": "1",
                "DOCKER_CERT_PATH": str(self.cert_path)}

    def targets(self, names: list[str] | None = None, path: Path | None = None) -> Path:
        """A targets file naming ``names`` (default: every host)."""
        path = path or self.targets_file
        # Their machine is this one (in a namespace of its own): its kernel, files and processes
        # are read here, as testinfra's local:// does.
        entries = [{"name": n, "url": self.hosts[n].url, "tls": dict(self.client_tls), "hosts": "local://"}
                   for n in (names or list(self.hosts))]
        path.write_text(yaml.safe_dump({"targets": entries}, sort_keys=False), encoding="utf-8")
        return path

    def kill(self, name: str) -> None:
        """SIGKILL a host's dockerd (a host lost mid-run)."""
        os.kill(self.hosts[name].engine.pid, 9)

    def restart(self, name: str) -> None:
        """Start a host's dockerd again, as it was (after ``kill``)."""
        host = self.hosts[name]
        undo = UNDOERS["sandbox-processes"]
        undo({"exec_root": _exec_root(host.engine), "root": str(host.engine.root), "block": "",
              "netns": host.namespace.name})
        host.engine.pid = sandbox.launch(self.run_dir, host.engine.name, host.engine.argv)


def _exec_root(engine: sandbox.SandboxEngine) -> str:
    return engine.argv[engine.argv.index("--exec-root") + 1]


def _preload(url: str, labels: dict[str, str]) -> None:
    client = connect(url, timeout=300)
    try:
        for ref, recipe in (("alpine:3.23", ALPINE), ("nginx:latest", NGINX)):
            provision(client, ref, recipe, archives=[], cache_dir=default_image_cache(), labels=labels,
                      log=lambda line: None, engine_key=url)
    finally:
        client.close()


@contextmanager
def simulated_fleet(names: list[str], daemon_configs: dict[str, dict] | None = None,
                    preload: bool = True) -> Iterator[SimulatedFleet]:
    """The fleet, for the block; ``daemon_configs`` makes a host different (its daemon.json)."""
    identity = RunIdentity.for_controller(f"selftest-fleet-{time.strftime('%H%M%S')}-{os.getpid()}"
                                          f"-{secrets.token_hex(2)}")
    RUN_ROOT.mkdir(parents=True, exist_ok=True)
    run_dir = RunDir.create(RUN_ROOT, identity)
    try:
        yield _build(run_dir, names, daemon_configs or {}, preload)
    finally:
        problems = run_dir.undo(UNDOERS)
        assert not problems, f"the simulated fleet's cleanup failed: {problems}"
        run_dir.remove()


def _build(run_dir: RunDir, names: list[str], daemon_configs: dict[str, dict], preload: bool) -> SimulatedFleet:
    bridge = "dcf" + own_netns.names_for(run_dir.identity.run_id, "bridge")[0].removeprefix("dcf-")
    subnet, _block = sandbox.make_bridge(run_dir, bridge, "engine")
    gateway = str(next(subnet.hosts()))
    ca = FleetCA(run_dir.sub("tls"))
    client_tls = ca.issue("client")
    cert_path = run_dir.sub("tls", "client")
    for name, source in (("ca.pem", client_tls["ca"]), ("cert.pem", client_tls["cert"]),
                         ("key.pem", client_tls["key"])):
        (cert_path / name).symlink_to(source)
    registry = registry_server.start(run_dir, host=gateway)
    labels = {LABEL: run_dir.identity.run_id}

    def host(index: int, name: str) -> FleetHost:
        space = own_netns.create(run_dir, name, bridge, subnet, index + 1)
        tls = ca.issue(name, server_ip=space.address)
        config = {"insecure-registries": [registry.address], **daemon_configs.get(name, {})}
        engine = sandbox.start(run_dir, f"fleet-{name}", netns=space, tls_server=tls, daemon_config=config,
                               log=lambda line: None)
        if preload:
            _preload(engine.url, labels)
        return FleetHost(name, engine, space, engine.tcp_url)

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(names)) as pool:
        made = list(pool.map(lambda pair: host(*pair), enumerate(names)))
    fleet = SimulatedFleet(run_dir, bridge, {h.name: h for h in made}, client_tls, cert_path, registry,
                           run_dir.path / "fleet.yaml")
    fleet.targets()
    return fleet


def ownership(fleet: SimulatedFleet) -> host_snapshot.Ownership:
    """What on this host is the fleet's, read from its records (before they are undone)."""
    return host_snapshot.Ownership.of(fleet.run_dir.path, fleet.run_dir.records(), host_snapshot.take())
