"""CMD-2 and CMD-3: ``docker run -p 4000:80 friendlyname``, attached and detached (``-d``).

Document: the command list ("docker run -p 4000:80 friendlyname  # Run 'friendlyname'
mapping port 4000 to 80"; "docker run -d -p 4000:80 friendlyname  # Same thing, but in
detached mode").
"""

from __future__ import annotations

import re
import subprocess

import requests

from fixtures.core import evidence
from fixtures.core.waiting import Unrecoverable, wait_until
from fixtures.engine.cli_attached import AttachedCommand
from fixtures.images.friendlyname import CONTEXT
from fixtures.ledger.marks import claim
from fixtures.network.named_port import named_host_port
from fixtures.network.published import published_host
from fixtures.resources.cli_created import adopt_test_containers

DOCUMENT_PORT = 4000
# Bounds for waiting on the engine, not thresholds: the app answers within a second.
APP_ANSWERS_S = 30


def _page(host: str, port: int) -> requests.Response:
    return requests.get(f"http://{host}:{port}/", timeout=5)


def _published(engine, container_id: str) -> dict:
    return engine.api.inspect_container(container_id)["NetworkSettings"]["Ports"] or {}


def _assert_port_4000(ports: dict, host_port: int) -> None:
    bindings = ports.get("80/tcp") or []
    assert any(b.get("HostPort") == str(host_port) for b in bindings), \
        f"container port 80 is not published on host port {host_port}: NetworkSettings.Ports = {ports}"


def _assert_app_page(response: requests.Response, where: str) -> None:
    expected = (CONTEXT / "index.html").read_bytes()
    assert response.status_code == 200 and response.content == expected, \
        f"{where} answered {response.status_code} with {response.content[:100]!r}, not the app's page"


@claim("CMD-2", smoke=True)
def test_run_maps_host_port_4000(friendlyname, docker_cli, engine, resources, run, engine_target):
    """``docker run -p 4000:80 friendlyname`` MUST run the app with host port 4000 mapped to
    container port 80, so that HTTP to the host's port 4000 reaches the app.

    Runs the command attached, as written, with the real CLI. While it runs: the engine
    reports container port 80/tcp published on host port 4000, and an HTTP GET to port
    4000 on the engine's host returns the app's page, byte for byte. Then the container is
    stopped through the engine, and the attached command must return with the app's exit
    code (0). Port 4000 is held under a host-wide lock; if it is taken on the host, a free
    port is used and the evidence says so. (An attached run prints the app's output, not
    the container's id: the container is found, and adopted, by this test's labels.)
    """
    host = published_host(engine_target.url)
    with named_host_port(run.run_dir.path.parent, DOCUMENT_PORT, engine, engine_target.is_local,
                         engine_target.machine) as port:
        evidence.figure("host port", port.describe())
        args = ("run", *resources.label_flags(), "-p", f"{port.port}:80", friendlyname.name)
        with AttachedCommand(docker_cli, *args) as attached:

            def container_created() -> str | None:
                ids = adopt_test_containers(resources)
                if not ids and not attached.running():
                    raise Unrecoverable(f"`docker run` ended early: {attached.finish(5).error()}")
                return ids[0] if ids else None

            container_id = wait_until(container_created, timeout=APP_ANSWERS_S,
                                      what="docker run to create the container")
            wait_until(lambda: engine.api.inspect_container(container_id)["State"]["Running"],
                       timeout=APP_ANSWERS_S, what="the container to run")
            ports = _published(engine, container_id)
            evidence.as_json("NetworkSettings.Ports", ports)
            _assert_port_4000(ports, port.port)
            response = wait_until(lambda: _page(host, port.port), timeout=APP_ANSWERS_S,
                                  what=f"HTTP on {host}:{port.port}")
            attached_while_serving = attached.running()
            engine.api.stop(container_id, timeout=10)
            result = attached.finish(timeout=30)
    _assert_app_page(response, f"http://{host}:{port.port}/")
    assert attached_while_serving, "`docker run` without -d returned while the app was still running"
    assert result.exit_code == 0, \
        f"the attached `docker run` returned {result.exit_code}, not the app's exit code 0: {result.error()}"


@claim("CMD-3", smoke=True)
def test_run_detached_returns_at_once(friendlyname, labelled_cli, engine, resources, run, engine_target,
                                      thresholds):
    """``docker run -d -p 4000:80 friendlyname`` MUST return the new container's id at once
    while the container keeps running, with the same port mapping.

    Runs the command as written with the real CLI and times it. It must return within
    ``detached_run_max_s`` seconds, print one full container id, and at that moment the
    engine must report that container running with 80/tcp on host port 4000. An HTTP GET
    to port 4000 must then return the app's page, and the container must still be running
    afterwards (detached, not ended with the command).
    """
    host = published_host(engine_target.url)
    limit = thresholds.detached_run_max_s
    with named_host_port(run.run_dir.path.parent, DOCUMENT_PORT, engine, engine_target.is_local,
                         engine_target.machine) as port:
        evidence.figure("host port", port.describe())
        try:
            result = labelled_cli.create("run", "-d", "-p", f"{port.port}:80", friendlyname.name,
                                         timeout=max(60.0, 4 * limit))
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"`docker run -d` did not return within {exc.timeout:.0f} s: "
                                 "it did not detach") from None
        created = resources.containers()
        printed = result.check().stdout.strip()
        state = engine.api.inspect_container(printed)["State"] if printed in created else {}
        ports = _published(engine, printed) if state else {}
        evidence.figure("docker run -d returned after", round(result.duration_s, 3), "s", noise=0.2)
        evidence.as_json("at return", {"stdout": printed, "State": state, "Ports": ports})
        assert re.fullmatch(r"[0-9a-f]{64}", printed), f"`docker run -d` printed {printed!r}, not a container id"
        assert created == [printed], f"the printed id is not the container the command created: {created}"
        assert result.duration_s <= limit, \
            f"`docker run -d` took {result.duration_s:.2f} s to return, over detached_run_max_s = {limit} s"
        assert state.get("Running"), f"the container was not running when `docker run -d` returned: {state}"
        _assert_port_4000(ports, port.port)
        response = wait_until(lambda: _page(host, port.port), timeout=APP_ANSWERS_S,
                              what=f"HTTP on {host}:{port.port}")
        still = engine.api.inspect_container(printed)["State"]
        engine.api.stop(printed, timeout=10)
    _assert_app_page(response, f"http://{host}:{port.port}/")
    assert still["Running"], f"the detached container stopped after serving: {still}"
