"""CMD-8: ``docker container rm <hash>`` removes a container, and refuses a running one.

Document: the command list ("docker container rm <hash>  # Remove specified container
from this machine").
"""

from __future__ import annotations

from fixtures.core import evidence
from fixtures.engine.cli_table import parse_table
from fixtures.inspection import objects
from fixtures.ledger.marks import claim


def _in_ls_all(cli, container: str) -> bool:
    listing = cli("container", "ls", "-a").check()
    return container[:12] in {row["CONTAINER ID"] for row in parse_table(listing.stdout)}


def _state(engine, container: str) -> dict | None:
    """The container's State, or None when it is gone."""
    return engine.api.inspect_container(container)["State"] if objects.exists(engine, "container", container) else None


@claim("CMD-8", smoke=True)
def test_rm_removes_a_stopped_container(labelled_cli, engine, resources, alpine_image):
    """``docker container rm <hash>`` MUST remove a stopped container.

    An exited container of this test, listed by ``docker container ls -a``, is removed by
    the command as written: it must succeed, inspect must then answer 404, and ``ls -a``
    must no longer list it.
    """
    labelled_cli.create("run", alpine_image.ref, "true").check("the stopped container")
    (container,) = resources.containers()  # an attached run prints no id: found by its labels
    listed_before = _in_ls_all(labelled_cli, container)
    result = labelled_cli("container", "rm", container)
    gone = not objects.exists(engine, "container", container)
    listed_after = _in_ls_all(labelled_cli, container)
    evidence.as_json("rm of a stopped container", {"listed before": listed_before, "exit code": result.exit_code,
                                                   "stdout": result.stdout.strip(), "gone": gone,
                                                   "listed after": listed_after})
    assert listed_before, "the stopped container was not in `ls -a` before rm"
    result.check()
    assert gone and not listed_after, \
        f"container {container[:12]} is still there after rm (inspect: {not gone}, ls -a: {listed_after})"


@claim("CMD-8")
def test_rm_refuses_a_running_container_without_force(labelled_cli, engine, alpine_image):
    """``docker container rm <hash>`` MUST refuse to remove a running container without ``-f``.

    On a running container of this test, the command as written must fail (a non-zero
    exit) and the container must still run afterwards. The refusal's wording is the
    engine's own and is recorded, not matched. ``rm -f`` must then remove it.
    """
    container = labelled_cli.create("run", "-d", alpine_image.ref, "sleep", "300") \
        .check("the running container").stdout.strip()
    refused = labelled_cli("container", "rm", container)
    after = _state(engine, container)
    evidence.as_json("rm of a running container", {"exit code": refused.exit_code, "stderr": refused.stderr.strip(),
                                                   "State after": after})
    assert not refused.ok, f"`docker container rm` removed the running container {container[:12]} without -f"
    assert after and after["Running"], f"the running container was stopped or removed by a refused rm: {after}"
    forced = labelled_cli("container", "rm", "-f", container)
    assert forced.ok and not objects.exists(engine, "container", container), \
        f"`docker container rm -f` did not remove the running container: {forced.error()}"
