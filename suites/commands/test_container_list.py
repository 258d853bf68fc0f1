"""CMD-4 and CMD-5: ``docker container ls`` lists running containers only; ``-a`` lists all.

Document: the command list ("docker container ls  # List all running containers";
"docker container ls -a  # List all containers, even those not running").
"""

from __future__ import annotations

import pytest

from fixtures.core import evidence
from fixtures.engine.cli_table import parse_table
from fixtures.ledger.marks import claim

# What `docker container ls` shows for a container the engine counts as running: up (maybe
# paused), restarting, or running while a forced removal is under way.
RUNNING_STATUS = ("Up ", "Restarting ", "Removal In Progress")


@pytest.fixture
def three_states(labelled_cli, alpine_image, engine) -> dict[str, str]:
    """One container of this test in each state: running, exited and created (via the CLI)."""
    # By the ids the commands print: the listing itself is what these tests doubt.
    ids = {"running": labelled_cli.create("run", "-d", alpine_image.ref, "sleep", "300"),
           "exited": labelled_cli.create("run", "-d", alpine_image.ref, "true"),
           "created": labelled_cli.create("container", "create", alpine_image.ref, "true")}
    ids = {what: result.check(f"making the {what} container").stdout.strip() for what, result in ids.items()}
    engine.api.wait(ids["exited"], timeout=60)
    states = {k: engine.api.inspect_container(v)["State"]["Status"] for k, v in ids.items()}
    assert states == {"running": "running", "exited": "exited", "created": "created"}, states
    return ids


def _listed(result) -> dict[str, str]:
    """CONTAINER ID (12 characters) -> STATUS, from the CLI's table."""
    return {row["CONTAINER ID"]: row["STATUS"] for row in parse_table(result.check().stdout)}


@claim("CMD-4", smoke=True)
def test_ls_lists_running_only(docker_cli, three_states):
    """``docker container ls`` MUST list running containers, and only those.

    Makes one container of this test in each state (running, exited, created), runs the
    command as written, and reads its table: the running one is listed, the exited and
    created ones are not, and every row listed (anyone's) has a running STATUS (``Up``,
    ``Restarting``, or ``Removal In Progress`` for one being force-removed), never
    ``Exited``, ``Created`` or ``Dead``.
    """
    listed = _listed(docker_cli("container", "ls"))
    mine = {state: container[:12] in listed for state, container in three_states.items()}
    evidence.as_json("listed", {"this test's containers listed": mine, "rows": listed})
    assert mine["running"], f"the running container {three_states['running'][:12]} is not listed"
    assert not mine["exited"], f"the exited container {three_states['exited'][:12]} is listed"
    assert not mine["created"], f"the created container {three_states['created'][:12]} is listed"
    not_running = {k: v for k, v in listed.items() if not v.startswith(RUNNING_STATUS)}
    assert not not_running, f"`docker container ls` lists containers that are not running: {not_running}"


@claim("CMD-5", smoke=True)
def test_ls_all_lists_stopped_too(docker_cli, three_states):
    """``docker container ls -a`` MUST list all containers, including stopped ones.

    Makes one container of this test in each state (running, exited, created), runs the
    command as written, and checks that all three are listed with the STATUS of their
    state: ``Up ...``, ``Exited (0) ...`` and ``Created``.
    """
    listed = _listed(docker_cli("container", "ls", "-a"))
    mine = {state: listed.get(container[:12]) for state, container in three_states.items()}
    evidence.as_json("this test's containers in `ls -a`", mine)
    missing = [state for state, status in mine.items() if status is None]
    assert not missing, f"`docker container ls -a` does not list the {', '.join(missing)} container(s)"
    assert mine["running"].startswith("Up "), f"the running container shows {mine['running']!r}"
    assert mine["exited"].startswith("Exited (0)"), f"the exited container shows {mine['exited']!r}"
    assert mine["created"] == "Created", f"the created container shows {mine['created']!r}"
