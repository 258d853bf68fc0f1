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
from fixtures.engine.events import daemon_now_ns, events_as_evidence
from fixtures.ledger.marks import claim
from fixtures.network.published import published_host
from fixtures.run.ports import free_tcp_port

SERVER_ANSWERS_S = 30  # a bound on waiting for nginx to answer, not a threshold


def _signal_number(name: str | None) -> str:
    """The number of a STOPSIGNAL, as nginx logs it (SIGTERM when none is set)."""
    if not name:
        return str(int(signal.SIGTERM))
    return name if name.isdigit() else str(int(signal.Signals["SIG" + name.upper().removeprefix("SIG")]))


def _signals_logged(log: str) -> list[str]:
    """The shutdown signals nginx says it received, as numbers ("signal 3 (SIGQUIT) received from
    1, shutting down"; SIGTERM's line ends "exiting"). nginx logs them at notice level, which
    the official image's config keeps and Debian's does not."""
    return re.findall(r"signal (\d+) \(SIG\w+\) received(?: from \d+)?, (?:shutting down|exiting)", log)


@claim("START-1", smoke=True)
def test_nginx_serves_and_stops_cleanly(labelled_cli, engine, nginx_image, engine_target):
    """A real nginx MUST run detached with a published port, serve its welcome page to the
    host over HTTP, stop cleanly and be removed.

    ``docker run -d -p HOST:80 NGINX`` with the real CLI; an HTTP GET from the host to
    that port MUST answer 200 with the "Welcome to nginx!" page and a ``Server: nginx``
    header. ``docker container stop`` MUST then make nginx shut itself down: it exits 0
    (a SIGKILL shows as exit code 137), with no emergency, alert or critical line in its
    log; where nginx logs the signal it received (at notice level, as the official image
    does), that signal MUST be the image's stop signal (nginx's images set SIGQUIT, a
    graceful shutdown). The engine's events are attached as extra evidence.
    ``docker container rm`` MUST then remove it.
    """
    port = free_tcp_port()
    host = published_host(engine_target.url)
    evidence.figure("image", nginx_image.ref, trend=False)  # run-unique when this run imported it
    evidence.figure("image source", nginx_image.source)
    container = labelled_cli.create("run", "-d", "-p", f"{port}:80", nginx_image.ref).check().stdout.strip()
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
    stopped = labelled_cli("container", "stop", container)
    state = wait_until(lambda: _exited(engine, container), timeout=SERVER_ANSWERS_S, what="nginx to exit after stop")
    events = events_as_evidence(engine, since, container=container)
    log = engine.api.logs(container).decode(errors="replace")
    logged = _signals_logged(log)
    evidence.figure("stop signal", stop_signal or "SIGTERM (default)")
    evidence.figure("docker container stop took", round(stopped.duration_s, 3), "s", noise=0.2)
    evidence.figure("signals nginx logged", ", ".join(logged) or "none (its log level hides them)")
    evidence.as_json("stop", {"State": state, "engine events (extra evidence)": events})
    evidence.text("nginx log", log or "(empty)")
    stopped.check()
    assert state["ExitCode"] != 128 + 9, \
        "nginx was killed (exit code 137, SIGKILL) instead of shutting down on the stop signal"
    assert state["ExitCode"] == 0, f"nginx exited {state['ExitCode']}, not 0 from a clean shutdown"
    assert not logged or logged[0] == _signal_number(stop_signal), \
        f"nginx logged receiving signal(s) {logged}, not first the image's stop signal {stop_signal or 'SIGTERM'}"
    bad = [line for line in log.splitlines() if re.search(r"\[(emerg|alert|crit)\]", line)]
    assert not bad, f"nginx logged failures: {bad[:3]}"

    removed = labelled_cli("container", "rm", container)
    remaining = engine.api.containers(all=True, filters={"id": [container]})
    removed.check()
    assert not remaining, f"`docker container rm` succeeded, but nginx's container {container[:12]} is still there"


def _exited(engine, container: str) -> dict | None:
    state = engine.api.inspect_container(container)["State"]
    return state if state["Status"] == "exited" else None
