"""STD-3 (and PKG-2 across engines): an image moves between engines and runs the same.

Document: "标准" (standard): "Docker容器基于开放标准" — containers are based on open
standards; "无论环境如何，集装箱化的软件都可以运行" — containerised software runs the same
whatever the environment.

The image is built on the engine under test, saved there (``docker save``), loaded on a
second engine (``--second-engine``, else a private Podman service), and run on both.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil

import docker
import pytest
from docker.errors import NotFound

from fixtures.core import evidence
from fixtures.core.applicability import not_run
from fixtures.engine import podman
from fixtures.engine.target import negotiate, probe
from fixtures.ledger.marks import claim
from fixtures.run.once import once_per_run
from fixtures.run.options import settings

# The image's own content and config, not the files each engine provides by design
# (/etc/hostname, /etc/hosts, /etc/resolv.conf): those differ between engines on purpose
# and are reported as findings instead.
PROGRAM = ("cat /etc/alpine-release /app/artifact; echo \"$GREETING\"; pwd; id -u; "
           "sha256sum /bin/busybox /lib/ld-musl-*.so.1 | cut -c1-64; "
           "ls /etc | grep -vxE 'hostname|hosts|resolv.conf' | sort | sha256sum")
DOCKERFILE = """\
FROM {base}
ENV GREETING=portable
WORKDIR /app
RUN echo built-once > /app/artifact && chown -R 1234 /app
USER 1234
CMD {command}
"""
CONFIG_FIELDS = ("Env", "Cmd", "Entrypoint", "WorkingDir", "User")


@pytest.fixture(scope="session")
def second_engine(pytestconfig, run):
    """The docker SDK client of the second engine, and how it was obtained."""
    url = settings(pytestconfig).second_engine
    origin = "--second-engine"
    if not url:
        if not shutil.which("podman"):
            not_run("no second engine: pass --second-engine URL, or install podman for a "
                        "private Podman service")
        started = once_per_run(run, "podman", lambda: podman.start(run.run_dir),
                               expected=(podman.PodmanUnavailable, podman.PodmanNotInstalled, OSError))
        url, origin = started["url"], f"private Podman {started['version']} service"
    api, reason = probe(url)
    if api is None:
        pytest.fail(f"the second engine {url} does not answer: {reason}")
    client = docker.DockerClient(base_url=url, version=negotiate(api), timeout=120)
    yield client, origin
    client.close()


@pytest.fixture(scope="session")
def ported_image(engine, second_engine, alpine_image, run):
    """A labelled image built on the engine under test and loaded, by save/load, on the second."""
    second, origin = second_engine
    dockerfile = DOCKERFILE.format(base=alpine_image.ref, command=json.dumps(["sh", "-c", PROGRAM]))
    labels = run.identity.labels("session:portability")
    image, _ = engine.images.build(fileobj=io.BytesIO(dockerfile.encode()), labels=labels, rm=True,
                                   forcerm=True)
    try:
        archive = b"".join(engine.api.get_image(image.id))
        loaded = second.images.load(archive)
        loaded_id = loaded[0].id
        try:
            yield {"target_id": image.id, "second_id": loaded_id, "origin": origin,
                   "archive_bytes": len(archive)}
        finally:
            _remove_image(second, loaded_id)
    finally:
        # The second engine may be the same engine behind another socket: the image may be gone.
        _remove_image(engine, image.id)


def _remove_image(client, image_id: str) -> None:
    try:
        client.api.remove_image(image_id, force=True)
    except NotFound:
        pass


def _run_on(client, image_id: str, resources_labels: dict) -> tuple[int, bytes, dict]:
    container = client.containers.create(image_id, network_mode="none", labels=resources_labels)
    try:
        container.start()
        code = container.wait(timeout=60)["StatusCode"]
        output = container.logs(stdout=True, stderr=True)
        config = client.api.inspect_container(container.id)["Config"]
        return code, output, config
    finally:
        try:
            container.remove(force=True, v=True)
        except NotFound:
            pass


def _engine_name(client) -> str:
    version = client.version()
    names = [c.get("Name", "") for c in version.get("Components") or []]
    product = "Podman" if any("podman" in n.lower() for n in names) else "Docker Engine"
    return f"{product} {version.get('Version')}"


@claim("STD-3", cases=["layers", "config", "runs"], smoke="runs")
def test_image_ports_between_engines(case, engine, second_engine, ported_image, resources):
    """An image saved on one engine and loaded on another MUST run with the same result.

    ``layers``: the loaded image has the same layer digests (diff_ids) as the original.
    ``config``: a container of it gets the same Env, Cmd, Entrypoint, WorkingDir and User on
    both engines. ``runs``: it runs to exit 0 on both. Differences between the engines that
    the image does not decide (capabilities, runtime, image naming) are attached as findings.
    """
    second, origin = second_engine
    evidence.figure("second engine", f"{_engine_name(second)} ({origin})")
    if case == "layers":
        mine = engine.api.inspect_image(ported_image["target_id"])["RootFS"]["Layers"]
        theirs = second.api.inspect_image(ported_image["second_id"])["RootFS"]["Layers"]
        evidence.as_json("layer diff_ids", {"engine under test": mine, "second engine": theirs})
        evidence.figure("archive", ported_image["archive_bytes"], "bytes")
        assert mine == theirs, f"layers differ after save/load: {len(mine)} vs {len(theirs)} diff_ids"
        return
    here = _run_on(engine, ported_image["target_id"], resources.labels)
    there = _run_on(second, ported_image["second_id"], resources.labels)
    evidence.as_json("both runs", {
        "engine under test": {"exit": here[0], "output": here[1].decode(errors="replace"),
                              "config": {k: here[2].get(k) for k in CONFIG_FIELDS}},
        "second engine": {"exit": there[0], "output": there[1].decode(errors="replace"),
                          "config": {k: there[2].get(k) for k in CONFIG_FIELDS}}})
    _attach_engine_differences((engine, ported_image["target_id"]), (second, ported_image["second_id"]),
                               resources.labels)
    if case == "runs":
        assert (here[0], there[0]) == (0, 0), f"exit codes: engine under test {here[0]}, second {there[0]}"
    else:
        differ = [k for k in CONFIG_FIELDS if _normal(k, here[2].get(k)) != _normal(k, there[2].get(k))]
        assert not differ, (f"the second engine runs the image with a different {', '.join(differ)}: "
                            + "; ".join(f"{k}: {here[2].get(k)} vs {there[2].get(k)}" for k in differ))


def _normal(field: str, value):
    # Engines may add their own PATH or container entries to Env; the image's must match.
    if field == "Env":
        return sorted(v for v in value or [] if not v.startswith(("PATH=", "container=", "HOSTNAME=",
                                                                     "TERM=", "HOME=")))
    return value or None


def _attach_engine_differences(here, there, labels: dict) -> None:
    """Findings: what the two engines do differently for the same image (reported, not judged)."""
    probe_cmd = ["sh", "-c", "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; "
                             "ls -d /etc/hostname /etc/hosts /etc/resolv.conf /run/.containerenv /.dockerenv 2>&1"]
    rows = {}
    for name, (client, image_id) in (("engine under test", here), ("second engine", there)):
        info = client.info()
        container = client.containers.create(image_id, probe_cmd, network_mode="none", labels=labels)
        try:
            container.start()
            container.wait(timeout=60)
            status = container.logs().decode(errors="replace").strip()
        finally:
            container.remove(force=True)
        rows[name] = {"engine": _engine_name(client), "default runtime": info.get("DefaultRuntime"),
                      "security options": info.get("SecurityOptions"), "in-container": status}
    evidence.as_json("engine differences (findings)", rows)


@claim("PKG-2", cases=["second-engine"])
def test_same_output_on_every_engine(case, engine, second_engine, ported_image, resources):
    """One image MUST give byte-identical output on every target engine, compared by digest.

    Runs the ported image's program (checksums of its binaries and /etc listing, its own
    files, environment and user) with no network on the engine under test and on the second
    engine, and compares the sha256 of the two outputs.
    """
    second, origin = second_engine
    here = _run_on(engine, ported_image["target_id"], resources.labels)
    there = _run_on(second, ported_image["second_id"], resources.labels)
    digests = {"engine under test": hashlib.sha256(here[1]).hexdigest(),
               "second engine": hashlib.sha256(there[1]).hexdigest()}
    evidence.as_json("output digests", {**digests, "second engine is": f"{_engine_name(second)} ({origin})",
                                        "output here": here[1].decode(errors="replace"),
                                        "output there": there[1].decode(errors="replace")})
    evidence.figure("output sha256", digests["engine under test"][:16])
    assert here[0] == 0, f"the program failed on the engine under test: {here[1][-300:]!r}"
    assert digests["engine under test"] == digests["second engine"], (
        f"outputs differ between engines: {digests} (second engine output: {there[1][-200:]!r})")
