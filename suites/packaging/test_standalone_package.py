"""PKG-1: an image is a standalone executable package holding everything needed to run.

Document: "将软件打包成标准化的单元进行开发，发货和部署": an image is a lightweight,
standalone, executable package of software that includes everything needed to run it:
code, runtime, system tools, system libraries, settings.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

from fixtures.core import evidence
from fixtures.core.waiting import wait_until
from fixtures.inspection import mountinfo
from fixtures.inspection.probe import completed
from fixtures.inspection.environment import ENGINE_PROVIDED, SHELL_PROVIDED
from fixtures.inspection.run_to_exit import run_to_exit, sh
from fixtures.ledger.marks import claim
from fixtures.network.published import host_port, published_host
from fixtures.resources.tracker import Tracker

CONFIGURED = Path(__file__).parent / "contexts" / "configured"
WORK = "seq 1 200000 | sha256sum | cut -c1-64; echo standalone | gzip -c | gunzip -c; env"


@claim("PKG-1", smoke=True)
def test_runs_on_its_own(resources, alpine_image):
    """A container MUST do real work from its image alone: no network, no mounts, no
    environment given.

    Runs the Alpine base with ``--network none``, no mounts and no environment: it hashes
    200000 generated lines (compared with the digest computed here) and round-trips text
    through gzip. Its mounts (from inspect) must be none and its environment only what the
    image and the engine provide.
    """
    finished = sh(resources, alpine_image.ref, WORK)
    expected = hashlib.sha256("".join(f"{i}\n" for i in range(1, 200001)).encode()).hexdigest()
    inspect = finished.container.attrs
    evidence.as_json("standalone run", {**finished.as_dict(), "expected digest": expected,
                                        "Mounts": inspect["Mounts"], "NetworkMode": inspect["HostConfig"]["NetworkMode"]})
    lines = finished.checked("the work").splitlines() + ["", ""]
    env_names = sorted(line.split("=", 1)[0] for line in lines[2:] if "=" in line)
    assert lines[0] == expected, f"the digest computed inside is {lines[0]!r}, not {expected}"
    assert lines[1] == "standalone", f"gzip round trip gave {lines[1]!r}"
    assert not inspect["Mounts"], f"the container has mounts: {inspect['Mounts']}"
    assert set(env_names) <= set(ENGINE_PROVIDED) | set(SHELL_PROVIDED), f"unexpected environment: {env_names}"


@pytest.fixture(scope="module")
def configured_image(request, engine, run, alpine_image) -> str:
    """An image with Env, Entrypoint, Cmd, WorkingDir, User and ExposedPorts set; read only."""
    tracker = Tracker.for_shared_fixture(engine, run.identity, request.node.nodeid)
    # No build cache: each xdist worker builds this, and images that share cached parent
    # layers race when two workers remove them at once ("unrecognized image ID").
    try:
        image, _ = tracker.build(CONFIGURED, buildargs={"BASE": alpine_image.ref}, nocache=True)
        yield image.id
    finally:
        tracker.cleanup()


EXPECTED = {"env": "env=from-the-image", "entrypoint": "entrypoint=show-config", "cmd": "args=from-the-image-cmd",
            "workdir": "workdir=/srv/pkg", "user": "user=4321:4321"}


@claim("PKG-1", cases=list(EXPECTED))
def test_image_config_is_honoured(case, resources, configured_image, engine):
    """Each field of an image's config MUST be honoured when it runs.

    Builds an image whose config sets ``ENV PKG_GREETING``, ``ENTRYPOINT`` (a script that
    prints what it got), ``CMD``, ``WORKDIR /srv/pkg`` and ``USER 4321:4321``, and runs it
    with no overrides: the run must exit 0 and the script must report the ``case`` field's
    value.
    """
    config = engine.api.inspect_image(configured_image)["Config"]
    evidence.as_json("image config", config)
    finished = run_to_exit(resources, configured_image, None, network_mode="none")
    evidence.as_json("run", finished.as_dict())
    printed = finished.checked("the image's entrypoint").splitlines()
    assert EXPECTED[case] in printed, \
        f"the image's {case} is not honoured: expected {EXPECTED[case]!r}, the run printed {finished.output!r}"


@claim("PKG-1")
def test_exposed_port_is_published(resources, configured_image, engine, engine_target):
    """A port the image EXPOSEs MUST be published by ``-P`` and reach the image's server.

    Runs the image of the config check (``EXPOSE 8080``) with ``-P`` (publish all) and the
    argument ``serve``: the engine must publish 8080 on a host port, and the script's
    server must answer through it.
    """
    evidence.as_json("image ExposedPorts", engine.api.inspect_image(configured_image)["Config"].get("ExposedPorts"))
    container = resources.container(configured_image, ["serve"], publish_all_ports=True)
    port = host_port(container, "8080/tcp")
    address = published_host(engine_target.url)

    def answer():
        with socket.create_connection((address, port), timeout=5) as conn:
            return conn.makefile().read().strip()

    got = wait_until(answer, timeout=20, what=f"the image's exposed port 8080 at {address}:{port}")
    evidence.as_json("exposed port", {"Ports": container.attrs["NetworkSettings"]["Ports"], "answer": got})
    assert got == "exposed-port-answers", f"the exposed port 8080 answered {got!r}"


def _main_binary(engine, image: str) -> str:
    config = engine.api.inspect_image(image)["Config"]
    return ((config.get("Entrypoint") or []) + (config.get("Cmd") or []))[0]


@claim("PKG-1", cases=["alpine", "nginx"])
def test_libraries_resolve_inside(case, resources, engine, alpine_image, nginx_image):
    """The dynamic libraries of an image's main binary MUST resolve from inside the image.

    For the Alpine base (musl) and the nginx image (glibc), finds the main binary of the
    image's config, lists its libraries with the image's own loader (``ldd``, run inside),
    and checks that none is missing, that each resolved library lies on the container's
    root filesystem (no mount of the host's brings it in), and that the binary runs.
    """
    image = {"alpine": alpine_image, "nginx": nginx_image}[case].ref
    binary = _main_binary(engine, image)
    version_flag = "-v" if case == "nginx" else "-c true"
    finished = sh(resources, image, f"b=$(command -v {binary}) || exit 3; echo \"binary=$b\"; ldd \"$b\" 2>&1; "
                                    f"echo '--- mounts'; cat /proc/self/mountinfo || exit 4; echo '--- runs'; "
                                    f"\"$b\" {version_flag} >/dev/null 2>&1; echo rc=$?; echo '--- end'")
    output = completed(finished.checked(f"listing the libraries of {binary}"), "--- end",
                       what=f"listing the libraries of {binary}")
    listing, _, rest = output.partition("--- mounts")
    mounts_text, _, ran = rest.partition("--- runs")
    mounts = mountinfo.parse(mounts_text)
    libraries = {}
    for line in listing.splitlines()[1:]:
        if line.strip().startswith(("linux-vdso", "linux-gate")):
            continue  # the kernel's own virtual library, in every process
        name, arrow, target = line.strip().partition("=>")
        libraries[name.strip()] = target.split("(")[0].strip() if arrow else name.split("(")[0].strip()

    def mount_of(path: str) -> str:
        return max((m.mount_point for m in mounts if path == m.mount_point or
                    path.startswith(m.mount_point.rstrip("/") + "/")), key=len, default="?")

    placed = {name: {"path": path, "mount": mount_of(path)} for name, path in libraries.items()}
    evidence.as_json(f"libraries of {binary}", {"ldd": listing.strip(), "resolved": placed, "runs": ran.strip()})
    evidence.figure(f"{case} libraries", len(libraries))
    missing = [name for name, path in libraries.items() if "not found" in path or not path.startswith("/")]
    assert libraries, f"ldd listed no libraries for {binary}: {listing.strip()}"
    assert not missing, f"libraries of {binary} do not resolve inside the image: {missing}"
    outside = {name: p["mount"] for name, p in placed.items() if p["mount"] != "/"}
    assert not outside, f"libraries of {binary} come from mounts, not the image's root filesystem: {outside}"
    assert ran.strip() == "rc=0", f"{binary} {version_flag} does not run: {ran.strip()}"
