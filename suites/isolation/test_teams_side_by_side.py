"""ISO-2: containers reduce conflicts between teams running different software on the same
infrastructure.

Document: "将软件打包成标准化的单元进行开发，发货和部署": containers help reduce conflicts
between teams running different software on the same infrastructure.

Two "teams" ship images of the same program at different versions, with the same
configuration file path holding different content, and run them at the same time.
"""

from __future__ import annotations

import random
import socket
import uuid

import pytest
from docker.errors import APIError

from fixtures.core import evidence
from fixtures.core.waiting import Unrecoverable, wait_until
from fixtures.ledger.marks import claim
from fixtures.network.published import bind_address, host_port, published_host
from fixtures.resources.tracker import Tracker

TEAM_DOCKERFILE = """\
ARG BASE
FROM ${BASE}
ARG TEAM
ARG VERSION
RUN printf 'team=%s\\n' "$TEAM" > /etc/app.conf \\
 && printf '#!/bin/sh\\necho "app %s"\\n' "$VERSION" > /usr/local/bin/app \\
 && chmod +x /usr/local/bin/app
"""
TEAMS = {"A": "1.0", "B": "2.0"}


@pytest.fixture(scope="module")
def team_images(request, engine, run, alpine_image):
    """One image per team, built once for this module, only read by its tests."""
    tracker = Tracker(engine, run.identity, request.node.nodeid)
    # No build cache: each xdist worker builds these, and images that share cached parent
    # layers race when two workers remove them at once ("unrecognized image ID").
    try:
        yield {team: tracker.build(dockerfile_text=TEAM_DOCKERFILE,
                                   buildargs={"BASE": alpine_image.ref, "TEAM": team, "VERSION": version},
                                   nocache=True)[0].id
               for team, version in TEAMS.items()}
    finally:
        tracker.cleanup()


def _exec(container, script: str) -> str:
    return container.exec_run(["sh", "-c", script]).output.decode(errors="replace").strip()


def _serving(resources, image: str, team: str, engine_url: str):
    container = resources.container(image, ["nc", "-lk", "-p", "80", "-e", "cat", "/etc/app.conf"],
                                    ports={"80/tcp": (bind_address(engine_url), None)})

    def answers_itself():
        container.reload()
        if container.status != "running":
            raise Unrecoverable(f"team {team} stopped ({container.status}, exit "
                                f"{container.attrs['State']['ExitCode']}): {container.logs().decode().strip()}")
        return f"team={team}" in _exec(container, "nc -w 1 127.0.0.1 80")

    try:
        wait_until(answers_itself, timeout=20, what=f"team {team} to serve on its port 80")
    except Unrecoverable as exc:
        raise AssertionError(f"team {team} cannot listen on port 80 while the other team does: {exc}") from None
    return container


def _fetch(address: str, port: int) -> str:
    with socket.create_connection((address, port), timeout=5) as conn:
        return conn.makefile().read().strip()


def same_port(resources, images, engine_url):
    teams = {team: _serving(resources, images[team], team, engine_url) for team in TEAMS}
    address = published_host(engine_url)
    answers = {team: _fetch(address, host_port(c, "80/tcp")) for team, c in teams.items()}
    evidence.as_json("port 80 of each team, through its published port", answers)
    for team, answer in answers.items():
        assert answer == f"team={team}", f"team {team}'s port 80 answered {answer!r}"


def same_path(resources, images, engine_url):
    teams = {team: resources.container(images[team], ["sleep", "300"], network_mode="none") for team in TEAMS}
    before = {team: _exec(c, "cat /etc/app.conf") for team, c in teams.items()}
    _exec(teams["A"], "echo 'team=A edited' > /etc/app.conf")
    after = {team: _exec(c, "cat /etc/app.conf") for team, c in teams.items()}
    evidence.as_json("/etc/app.conf", {"before A's edit": before, "after A's edit": after})
    assert before == {"A": "team=A", "B": "team=B"}, f"each team does not read its own /etc/app.conf: {before}"
    assert after["B"] == "team=B", f"team A's edit of /etc/app.conf reached team B: {after['B']!r}"


def versions(resources, images, engine_url):
    teams = {team: resources.container(images[team], ["sleep", "300"], network_mode="none") for team in TEAMS}
    ran = {team: _exec(c, "app") for team, c in teams.items()}
    evidence.as_json("app version per team", ran)
    assert ran == {team: f"app {version}" for team, version in TEAMS.items()}, \
        f"the teams do not each run their own version of app: {ran}"


def no_disturbance(resources, images, engine_url):
    marker = str(random.randint(10_000_000, 99_999_999))
    scratch = f"/tmp/team-a-scratch-{uuid.uuid4().hex[:12]}"
    b = resources.container(images["B"], ["sleep", marker], network_mode="none")
    a = resources.container(images["A"], ["sleep", "300"], network_mode="none")
    # Team A leaves a file, and tries to stop team B's program by its unique command line
    # (the pattern "slee[p] N" matches B's "sleep N" but not the shell that runs pkill).
    attempt = _exec(a, f"echo scratch > {scratch}; pkill -f 'slee[p] {marker}'; echo pkill=$?")
    b.reload()
    try:
        b_sees = _exec(b, f"ls {scratch} 2>/dev/null; true") if b.status == "running" else "(not running)"
    except APIError as exc:
        # B died between the reload and the exec: the engine refuses the exec (409), and
        # B's state catches up; either way B is no longer running.
        if exc.status_code != 409:
            raise
        b.reload()
        b_sees = f"(not running: {exc.explanation})"
    evidence.as_json("team A against team B", {"A": attempt, "B status": b.status,
                                               "B exit code": b.attrs["State"]["ExitCode"], "B sees A's file": b_sees})
    assert b.status == "running", f"team A killed team B's process (sleep {marker}): B is {b.status}"
    assert scratch not in b_sees, f"team B sees team A's file {scratch}"


CASES = {"same-port": same_port, "same-path": same_path, "versions": versions, "no-disturbance": no_disturbance}


@claim("ISO-2", cases=list(CASES), smoke="same-port")
def test_two_teams_coexist(case, resources, team_images, engine_target):
    """Two teams' containers MUST run side by side without conflict.

    Team A and team B ship images with ``/etc/app.conf`` (``team=A`` / ``team=B``) and
    ``app`` at versions 1.0 and 2.0, and run at the same time. ``same-port``: both listen
    on port 80 inside and each published port answers with its own team's file.
    ``same-path``: each reads its own ``/etc/app.conf``, and A's edit does not reach B.
    ``versions``: each runs its own ``app`` version. ``no-disturbance``: A's attempt to kill
    B's program by name fails, and a file A writes is not visible to B.
    """
    CASES[case](resources, team_images, engine_target.url)
