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

import pytest
from docker.errors import NotFound

from fixtures.core import evidence
from fixtures.engine.facts import engine_name
from fixtures.ledger.marks import claim

# The image's own content and config, not the files each engine provides by design
# (/etc/hostname, /etc/hosts, /etc/resolv.conf): those differ between engines on purpose
# and are reported as findings instead.
PROGRAM = ("set -e; cat /etc/alpine-release /app/artifact; echo \"$GREETING\"; pwd; id -u; "
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
        if not loaded:
            pytest.fail(f"the second engine ({origin}) loaded the {len(archive)}-byte archive but names no image "
                        "it loaded")
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
    return f"{engine_name(version)} {version.get('Version')}"


@claim("STD-3")
def test_ported_image_keeps_its_layers(engine, second_engine, ported_image):
    """An image saved on one engine and loaded on another MUST keep its layers: the same diff_ids.

    Builds an image FROM the Alpine base on the engine under test, saves it (``docker
    save``), loads the archive on the second engine, and compares the two engines'
    ``RootFS.Layers``, in order.
    """
    second, origin = second_engine
    evidence.figure("second engine", f"{_engine_name(second)} ({origin})")
    mine = engine.api.inspect_image(ported_image["target_id"])["RootFS"]["Layers"]
    theirs = second.api.inspect_image(ported_image["second_id"])["RootFS"]["Layers"]
    evidence.as_json("layer diff_ids", {"engine under test": mine, "second engine": theirs})
    evidence.figure("archive", ported_image["archive_bytes"], "bytes")
    assert mine == theirs, f"layers differ after save/load: {len(mine)} vs {len(theirs)} diff_ids"


def _both_runs(engine, second, ported_image, resources) -> tuple[tuple, tuple]:
    """The ported image run to exit on both engines, with the findings of how the engines differ."""
    here = _run_on(engine, ported_image["target_id"], resources.labels)
    there = _run_on(second, ported_image["second_id"], resources.labels)
    evidence.as_json("both runs", {
        "engine under test": {"exit": here[0], "output": here[1].decode(errors="replace"),
                              "config": {k: here[2].get(k) for k in CONFIG_FIELDS}},
        "second engine": {"exit": there[0], "output": there[1].decode(errors="replace"),
                          "config": {k: there[2].get(k) for k in CONFIG_FIELDS}}})
    _attach_engine_differences((engine, ported_image["target_id"]), (second, ported_image["second_id"]),
                               resources.labels)
    return here, there


@claim("STD-3")
def test_ported_image_runs_with_the_same_config(engine, second_engine, ported_image, resources):
    """A ported image MUST run with the same Env, Cmd, Entrypoint, WorkingDir and User on both engines.

    Runs the image (saved on the engine under test, loaded on the second engine) on both,
    with no network, and compares the container config each engine gave it. Entries an
    engine adds to Env by design (PATH, HOSTNAME, TERM, HOME, ``container=``) are left out;
    the image's own MUST match. Differences the image does not decide (capabilities,
    runtime, files the engine provides) are attached as findings.
    """
    second, origin = second_engine
    evidence.figure("second engine", f"{_engine_name(second)} ({origin})")
    here, there = _both_runs(engine, second, ported_image, resources)
    differ = [k for k in CONFIG_FIELDS if _normal(k, here[2].get(k)) != _normal(k, there[2].get(k))]
    assert not differ, (f"the second engine runs the image with a different {', '.join(differ)}: "
                        + "; ".join(f"{k}: {here[2].get(k)} vs {there[2].get(k)}" for k in differ))


@claim("STD-3", smoke=True)
def test_ported_image_runs_on_both_engines(engine, second_engine, ported_image, resources):
    """A ported image MUST run to exit 0 on the engine that built it and on the one it was loaded on.

    Runs the image's program (its own files, environment and user) with no network on both
    engines; both MUST exit 0. Differences the image does not decide are attached as findings.
    """
    second, origin = second_engine
    evidence.figure("second engine", f"{_engine_name(second)} ({origin})")
    here, there = _both_runs(engine, second, ported_image, resources)
    assert (here[0], there[0]) == (0, 0), \
        (f"exit codes: engine under test {here[0]}, second engine {there[0]} "
         f"(second engine output: {there[1][-200:]!r})")


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
            code = container.wait(timeout=60)["StatusCode"]
            status = container.logs().decode(errors="replace").strip()
        finally:
            container.remove(force=True)
        # A probe that failed is reported as such (its exit and output), never as "nothing there".
        rows[name] = {"engine": _engine_name(client), "default runtime": info.get("DefaultRuntime"),
                      "security options": info.get("SecurityOptions"), "probe exit": code, "in-container": status}
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
