"""ISO-2: containers reduce conflicts between teams running different software on the same
infrastructure.

Document: "将软件打包成标准化的单元进行开发，发货和部署": containers help reduce conflicts
between teams running different software on the same infrastructure.

Two "teams" ship images of the same program at different versions, with the same
configuration file path holding different content, and run them at the same time.
"""

from __future__ import annotations

import random
import re
import socket
import uuid

import pytest

from fixtures.core import evidence
from fixtures.core.waiting import Unrecoverable, WaitTimeout, wait_until
from fixtures.inspection.probe import ProbeFailed, exec_output
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
    tracker = Tracker.for_shared_fixture(engine, run.identity, request.node.nodeid)
    # No build cache: each xdist worker builds these, and images that share cached parent
    # layers race when two workers remove them at once ("unrecognized image ID").
    try:
        yield {team: tracker.build(dockerfile_text=TEAM_DOCKERFILE,
                                   buildargs={"BASE": alpine_image.ref, "TEAM": team, "VERSION": version},
                                   nocache=True)[0].id
               for team, version in TEAMS.items()}
    finally:
        tracker.cleanup()


def _serving(resources, image: str, team: str, engine_url: str):
    container = resources.container(image, ["nc", "-lk", "-p", "80", "-e", "cat", "/etc/app.conf"],
                                    ports={"80/tcp": (bind_address(engine_url), None)})

    def answers_itself():
        container.reload()
        if container.status != "running":
            raise Unrecoverable(f"team {team} stopped ({container.status}, exit "
                                f"{container.attrs['State']['ExitCode']}): {container.logs().decode().strip()}")
        return f"team={team}" in exec_output(container, "nc -w 1 127.0.0.1 80", what=f"team {team} asking itself")

    try:
        wait_until(answers_itself, timeout=20, what=f"team {team} to serve on its port 80")
    except Unrecoverable as exc:
        raise AssertionError(f"team {team} cannot listen on port 80 while the other team does: {exc}") from None
    return container


def _fetch(address: str, port: int) -> str:
    with socket.create_connection((address, port), timeout=5) as conn:
        return conn.makefile().read().strip()


def _sleepers(resources, team_images, command=("sleep", "300")) -> dict:
    return {team: resources.container(team_images[team], list(command), network_mode="none") for team in TEAMS}


@claim("ISO-2", smoke=True)
def test_both_teams_serve_the_same_port(resources, team_images, engine_target):
    """Two teams' containers MUST both listen on the same in-container port at once.

    Team A and team B ship images with ``/etc/app.conf`` (``team=A`` / ``team=B``); each
    runs a server on port 80 inside that answers with that file, each published on a host
    port of its own. Each published port must answer with its own team's file.
    """
    teams = {team: _serving(resources, team_images[team], team, engine_target.url) for team in TEAMS}
    address = published_host(engine_target.url)
    answers = {team: _fetch(address, host_port(c, "80/tcp")) for team, c in teams.items()}
    evidence.as_json("port 80 of each team, through its published port", answers)
    for team, answer in answers.items():
        assert answer == f"team={team}", f"team {team}'s port 80 answered {answer!r}"


@claim("ISO-2")
def test_same_path_holds_each_teams_file(resources, team_images):
    """The same file path MUST hold each team's own content, and one team's edit MUST NOT
    reach the other.

    Both teams run at once; each reads ``/etc/app.conf`` (``team=A`` / ``team=B``), then A
    overwrites its copy and both read again: B must still read ``team=B``. Every read and
    the edit are execs whose exit status is checked.
    """
    teams = _sleepers(resources, team_images)
    before = {team: exec_output(c, "cat /etc/app.conf", what=f"team {team} reading /etc/app.conf")
              for team, c in teams.items()}
    exec_output(teams["A"], "echo 'team=A edited' > /etc/app.conf", what="team A editing /etc/app.conf")
    after = {team: exec_output(c, "cat /etc/app.conf", what=f"team {team} reading /etc/app.conf again")
             for team, c in teams.items()}
    evidence.as_json("/etc/app.conf", {"before A's edit": before, "after A's edit": after})
    assert before == {"A": "team=A", "B": "team=B"}, f"each team does not read its own /etc/app.conf: {before}"
    assert after["A"] == "team=A edited", f"team A's edit did not take: {after['A']!r}"
    assert after["B"] == "team=B", f"team A's edit of /etc/app.conf reached team B: {after['B']!r}"


@claim("ISO-2")
def test_each_team_runs_its_own_version(resources, team_images):
    """Two versions of the same program MUST run side by side, each team its own.

    Both teams run at once and call ``app`` (an exec whose exit status is checked): A's
    must print ``app 1.0``, B's ``app 2.0``.
    """
    teams = _sleepers(resources, team_images)
    ran = {team: exec_output(c, "app", what=f"team {team} running app") for team, c in teams.items()}
    evidence.as_json("app version per team", ran)
    assert ran == {team: f"app {version}" for team, version in TEAMS.items()}, \
        f"the teams do not each run their own version of app: {ran}"


# pkill's exit status: 0 some process matched (and was signalled), 1 none matched.
PKILL_MATCHED, PKILL_NONE = 0, 1
B_SETTLES_S = 10


@claim("ISO-2")
def test_one_team_cannot_disturb_the_other(resources, team_images):
    """Neither team MUST be able to stop the other's program or see the other's files.

    Team B runs ``sleep <random>``. Team A (an exec whose exit status is checked) writes a
    file in its /tmp and tries ``pkill -f`` on B's exact command line. pkill must find
    nothing (exit 1; any other answer than 0 or 1 means the probe failed). If it found B's
    process, the check fails, after waiting up to 10 s for B's state to settle so the
    evidence shows what became of B. Then B (an exec whose exit status is checked) must
    still run, with the same process, and must not see A's file.
    """
    marker = str(random.randint(10_000_000, 99_999_999))
    scratch = f"/tmp/team-a-scratch-{uuid.uuid4().hex[:12]}"
    b = resources.container(team_images["B"], ["sleep", marker], network_mode="none")
    a = resources.container(team_images["A"], ["sleep", "300"], network_mode="none")
    b_pid = b.attrs["State"]["Pid"]
    # The pattern "slee[p] N" matches B's "sleep N" but not the shell that runs pkill.
    attempt = exec_output(a, f"echo scratch > {scratch} || exit 3; pkill -f 'slee[p] {marker}'; echo \"pkill=$?\"",
                          what="team A writing a file and trying to stop team B")
    answered = re.search(r"pkill=(\d+)$", attempt)
    pkill = int(answered.group(1)) if answered else None
    evidence.as_json("team A against team B", {"A": attempt, "B": f"sleep {marker} (host pid {b_pid})"})
    if pkill not in (PKILL_MATCHED, PKILL_NONE):
        raise ProbeFailed(f"team A's pkill did not run as a probe (answer {attempt!r})")
    if pkill == PKILL_MATCHED:
        b_state = _settled_state(b)
        evidence.as_json("team B after A's pkill", b_state)
        gone = b_state["Status"] != "running"
        assert not gone, (f"team A killed team B's process (sleep {marker}): pkill matched it, and B is now "
                          f"{b_state['Status']} (exit {b_state['ExitCode']})")
        assert pkill != PKILL_MATCHED, \
            f"team A reached team B's process (sleep {marker}): pkill matched and signalled it"
    b_sees = exec_output(b, f"[ -e {scratch} ] && echo SEEN || echo ABSENT", what="team B looking for team A's file")
    b.reload()
    evidence.as_json("team B", {"status": b.status, "host pid": b.attrs["State"]["Pid"], "A's file": b_sees})
    assert b.status == "running" and b.attrs["State"]["Pid"] == b_pid, \
        f"team B's process (sleep {marker}) did not survive team A: B is {b.status}, host pid {b_pid} -> {b.attrs['State']['Pid']}"
    assert b_sees == "ABSENT", f"team B sees team A's file {scratch}"


def _settled_state(container) -> dict:
    """The container's state once it is no longer running, or as it is after ``B_SETTLES_S``."""
    def stopped():
        container.reload()
        return container.status != "running"

    try:
        wait_until(stopped, timeout=B_SETTLES_S, what=f"container {container.id[:12]} to stop")
    except WaitTimeout:
        pass  # it still runs: the evidence says so, and the check fails on pkill's match alone
    return container.attrs["State"]
