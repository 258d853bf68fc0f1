"""ARCH-1: the client asks the daemon; the daemon pulls from a registry; the daemon may be remote.

Document: "Docker体系结构" (the architecture figure: Client, DOCKER_HOST with its daemon,
containers and images, and a Registry the daemon pulls from).
"""

from __future__ import annotations

from docker.errors import ImageNotFound

from fixtures.core import evidence
from fixtures.core.applicability import not_run
from fixtures.engine import ssh_loopback
from fixtures.engine.events import daemon_now_ns, events_as_evidence, events_between
from fixtures.ledger.marks import claim
from fixtures.registry.access_log import offset, requests_since
from fixtures.registry.pushed import push_then_remove


@claim("ARCH-1", smoke=True)
def test_daemon_pulls_from_registry(registry_cli, labelled_cli, engine, resources, registry, alpine_image):
    """When the client runs an image the engine lacks, the daemon MUST pull it from the registry.

    Pushes an image of this test to the registry and removes it from the engine, then
    runs ``docker run REGISTRY/user/repo:tag`` with the real CLI (logged in: its config is the
    worker's, which ``registry_cli`` logged in). The container MUST run the pulled image,
    the engine MUST then hold it, and the registry's access log MUST show the manifest and
    blobs of that repository fetched, none of them by the CLI itself (its own User-Agent is
    ``Docker-Client/...``): dockerd fetches as ``docker/<engine version> ...
    UpstreamClient(<the CLI>)``, Podman as ``containers/...``. The daemon's events are
    attached; they decide only with an external ``--registry``, where there is no access log
    (Podman's compatible API reports no pull event, and the log is the registry's own record).
    """
    pushed = push_then_remove(registry_cli, engine, resources, registry, alpine_image.ref, "arch")
    ref, repo, nonce = pushed.ref, pushed.repo, pushed.nonce

    log_start, since = offset(registry.log_path), daemon_now_ns(engine)
    result = labelled_cli.create("run", ref)
    until = daemon_now_ns(engine)
    try:
        held = engine.images.get(ref).id
        resources.adopt_image(held)
    except ImageNotFound:
        held = None
    events = events_as_evidence(engine, since, type="image")
    fetched = requests_since(registry.log_path, log_start, repo) if registry.log_path else []
    evidence.as_json("client -> daemon -> registry", {
        "client": result.describe(), "daemon events": events, "image held by the engine": held,
        "registry access log": [r.as_dict() for r in fetched] if registry.log_path
        else "(an external registry: no access log)"})
    evidence.figure("registry requests for the pull", len(fetched) if registry.log_path else "no access log")
    result.check()
    assert result.stdout.strip() == nonce, f"`docker run {ref}` did not run the pulled image: {result.stdout.strip()!r}"
    assert held == pushed.image_id, f"the engine holds {held} as {ref}, not the pushed image {pushed.image_id[:19]}"
    if not registry.log_path:
        pulls = [e for e in events_between(engine, since, until, type="image") if e.action == "pull" and e.actor_id == ref]
        assert pulls, f"the daemon's events show no pull of {ref}: {events}"
        return
    manifests = [r for r in fetched if r.method == "GET" and "/manifests/" in r.path and r.status == 200]
    blobs = [r for r in fetched if r.method == "GET" and "/blobs/" in r.path and r.status == 200]
    assert manifests and blobs, f"the registry's log shows no manifest and blob fetch of {repo}"
    by_cli = [r.agent for r in fetched if r.agent.startswith("Docker-Client/")]
    assert not by_cli, f"the CLI, not the daemon, made registry requests for the pull: {by_cli[:2]}"
    engine_version = engine.version()["Version"]
    if any(r.agent.startswith("docker/") for r in fetched):  # dockerd names the client it pulls for
        not_daemon = [r.agent for r in fetched if not r.agent.startswith(f"docker/{engine_version}")]
        assert not not_daemon, f"registry requests not made by the daemon (docker/{engine_version}): {not_daemon[:2]}"
        assert all("UpstreamClient(" in r.agent for r in fetched), \
            "the daemon's registry requests do not name the client they were made for"


def _check_remote_daemon(labelled_cli, image: str, daemon, marker: str, transport: str,
                         env: dict[str, str]) -> None:
    """The CLI with ``env`` (its ``DOCKER_HOST`` a ``transport``:// URL) reaches ``daemon`` (a
    client over that daemon's own socket): it reports the same data root, it sees the volume
    ``marker`` made there for this check (an engine's ID is no proof: Podman makes a new one
    for every ``/info``), and it runs a container there."""
    url = env["DOCKER_HOST"]
    root = daemon.info()["DockerRootDir"]
    info = labelled_cli("info", "--format", "{{.DockerRootDir}}", env=env)
    seen = labelled_cli("volume", "inspect", "--format", "{{.Name}}", marker, env=env)
    echoed = labelled_cli.create("run", "--rm", image, "echo", f"over-{transport}", env=env)
    evidence.figure(f"remote daemon ({transport})", url, trend=False)
    evidence.as_json(f"over {transport}", {"DOCKER_HOST": url, "data root (own socket)": root,
                                           f"docker info over {transport}": info.stdout.strip(),
                                           f"marker volume {marker} over {transport}": seen.stdout.strip()
                                           or seen.error(), "run": echoed.stdout.strip()})
    info.check(f"`docker info` with DOCKER_HOST={url}")
    assert info.stdout.strip() == root and seen.ok and seen.stdout.strip() == marker, \
        f"DOCKER_HOST={url} reached a daemon with data root {info.stdout.strip()} that does not know volume " \
        f"{marker}: not the daemon at its own socket (data root {root})"
    echoed.check(f"`docker run` with DOCKER_HOST={url}")
    assert echoed.stdout.strip() == f"over-{transport}", \
        f"`docker run` over {url} printed {echoed.stdout.strip()!r}, not the container's answer"


@claim("ARCH-1")
def test_remote_daemon_over_tcp(request, labelled_cli, engine, engine_target, resources, alpine_image):
    """A daemon MUST be reachable as a remote daemon through ``DOCKER_HOST=tcp://``.

    Uses the engine under test when it is a ``tcp://`` engine; otherwise a second daemon
    the run starts on 127.0.0.1 (its own socket, data-root and bridge). A volume is made on
    that daemon through its own socket. The real CLI with only ``DOCKER_HOST=tcp://...``
    set MUST reach that daemon: ``docker info`` reports its data root, ``docker volume
    inspect`` finds that volume, and ``docker run --rm`` runs a container there that answers.
    """
    if engine_target.scheme == "tcp":
        url, client, image = engine_target.url, engine, alpine_image.ref
        marker = resources.volume().name
    else:
        owned = request.getfixturevalue("owned_engine")
        image = owned.copy_image(engine, alpine_image.ref, alpine_image.common_name)
        url, client = owned.tcp_url, owned.client
        marker = client.volumes.create(resources.unique_name("marker"), labels=resources.labels).name
        request.addfinalizer(lambda: client.api.remove_volume(marker, force=True))
    _check_remote_daemon(labelled_cli, image, client, marker, "tcp", {"DOCKER_HOST": url})


@claim("ARCH-1")
def test_remote_daemon_over_ssh(request, run, labelled_cli, engine, engine_target, resources, alpine_image):
    """A daemon MUST be reachable as a remote daemon through ``DOCKER_HOST=ssh://``.

    Uses the engine under test when it is an ``ssh://`` engine. Otherwise the run starts
    an ssh daemon (OpenSSH) on 127.0.0.1 with keys of its own, whose one authorized key may
    only run ``docker system dial-stdio`` to the engine under test. A volume is made on the
    engine through the API. The real CLI with ``DOCKER_HOST=ssh://root@127.0.0.1:PORT``
    MUST reach that engine: ``docker info`` reports its data root, ``docker volume
    inspect`` finds that volume, and ``docker run --rm`` runs a container that answers.
    Without sshd on this machine the check is not run, and says so (the claim says "ssh
    where available": it is optional in the ledger).
    """
    env = {"DOCKER_HOST": engine_target.url}
    if engine_target.scheme != "ssh":
        try:
            ssh = ssh_loopback.start(run.run_dir, f"arch1-{run.identity.worker}", engine_target.url)
        except ssh_loopback.SshUnavailable as exc:
            not_run(f"no ssh daemon can run here: {exc}")
        request.addfinalizer(lambda: ssh_loopback.stop(run.run_dir, ssh))
        env = {"DOCKER_HOST": ssh.url, "PATH": ssh.path}
    _check_remote_daemon(labelled_cli, alpine_image.ref, engine, resources.volume().name, "ssh", env)
