"""START-1: "Start with an nginx server".

Document: "如何开始" (how to start), which points to running an nginx server. The image is
``--nginx-image`` (default nginx:latest: pulled, or built offline from Debian's nginx-light).
"""

from __future__ import annotations

import re
import signal

import requests

from fixtures.core import evidence
from fixtures.core.waiting import wait_until
from fixtures.engine.cli_errors import error_line
from fixtures.engine.events import daemon_now_ns, events_between
from fixtures.ledger.marks import claim
from fixtures.network.published import published_host
from fixtures.resources.cli_created import adopt_test_containers
from fixtures.run.ports import free_tcp_port

SERVER_ANSWERS_S = 30  # a bound on waiting for nginx to answer, not a threshold


def _signal_number(name: str | None) -> str:
    """The number the daemon's kill event shows for a STOPSIGNAL (SIGTERM when none is set)."""
    if not name:
        return str(int(signal.SIGTERM))
    return name if name.isdigit() else str(int(signal.Signals["SIG" + name.upper().removeprefix("SIG")]))


@claim("START-1", smoke=True)
def test_nginx_serves_and_stops_cleanly(docker_cli, engine, resources, nginx_image, engine_target):
    """A real nginx MUST run detached with a published port, serve its welcome page to the
    host over HTTP, stop cleanly and be removed.

    ``docker run -d -p HOST:80 NGINX`` with the real CLI; an HTTP GET from the host to
    that port MUST answer 200 with the "Welcome to nginx!" page and a ``Server: nginx``
    header. ``docker container stop`` MUST then deliver the image's stop signal (the
    daemon's events show it; nginx's images set SIGQUIT, a graceful shutdown), with no
    SIGKILL, and nginx MUST exit 0 with no emergency or alert in its log.
    ``docker container rm`` MUST then remove it.
    """
    port = free_tcp_port()
    host = published_host(engine_target.url)
    evidence.figure("image", nginx_image.ref, trend=False)  # run-unique when this run imported it
    evidence.figure("image source", nginx_image.source)
    started = docker_cli("run", "-d", *resources.label_flags(), "-p", f"{port}:80", nginx_image.ref)
    adopt_test_containers(resources)
    assert started.ok, f"`docker run -d -p {port}:80 {nginx_image.ref}` failed: {error_line(started.stderr)}"
    container = started.stdout.strip()
    bindings = (engine.api.inspect_container(container)["NetworkSettings"]["Ports"] or {}).get("80/tcp") or []
    assert str(port) in [b.get("HostPort") for b in bindings], \
        f"nginx's port 80 is not published on host port {port}: {bindings}"

    page = wait_until(lambda: requests.get(f"http://{host}:{port}/", timeout=5), timeout=SERVER_ANSWERS_S,
                      what=f"nginx to answer on {host}:{port}")
    server = page.headers.get("Server", "")
    title = re.search(r"<title>(.*?)</title>", page.text)
    evidence.figure("Server header", server)
    evidence.as_json("GET /", {"status": page.status_code, "headers": dict(page.headers), "title": title and title[1]})
    assert page.status_code == 200, f"nginx answered {page.status_code}"
    assert "Welcome to nginx!" in page.text, f"the page is not nginx's welcome page: {page.text[:200]!r}"
    assert server.startswith("nginx"), f"the Server header is {server!r}, not nginx"

    stop_signal = engine.api.inspect_image(nginx_image.image_id)["Config"].get("StopSignal")
    since = daemon_now_ns(engine)
    stopped = docker_cli("container", "stop", container)
    engine.api.wait(container, timeout=60)
    events = events_between(engine, since, daemon_now_ns(engine), container=container)
    state = engine.api.inspect_container(container)["State"]
    log = engine.api.logs(container).decode(errors="replace")
    signals = [e.attributes.get("signal") for e in events if e.action == "kill"]
    evidence.figure("stop signal", stop_signal or "SIGTERM (default)")
    evidence.figure("docker container stop took", round(stopped.duration_s, 3), "s", noise=0.2)
    evidence.as_json("stop", {"events": [e.as_dict() for e in events], "State": state})
    evidence.text("nginx log", log or "(empty)")
    assert stopped.ok, f"`docker container stop` failed: {error_line(stopped.stderr)}"
    assert signals and signals[0] == _signal_number(stop_signal), \
        f"stop sent signals {signals}, not first the image's stop signal {stop_signal or 'SIGTERM'}"
    assert "9" not in signals, f"nginx had to be killed (SIGKILL) instead of stopping: signals {signals}"
    assert state["ExitCode"] == 0, f"nginx exited {state['ExitCode']}, not 0"
    bad = [line for line in log.splitlines() if re.search(r"\[(emerg|alert|crit)\]", line)]
    assert not bad, f"nginx logged failures: {bad[:3]}"

    removed = docker_cli("container", "rm", container)
    remaining = engine.api.containers(all=True, filters={"id": [container]})
    assert removed.ok and not remaining, f"`docker container rm` did not remove nginx: {error_line(removed.stderr)}"
