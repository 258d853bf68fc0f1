"""CMD-8: ``docker container rm <hash>`` removes a container, and refuses a running one.

Document: the command list ("docker container rm <hash>  # Remove specified container
from this machine").
"""

from __future__ import annotations

from fixtures.core import evidence
from fixtures.engine.cli_errors import error_line
from fixtures.engine.cli_table import parse_table
from fixtures.inspection import objects
from fixtures.ledger.marks import claim
from fixtures.resources.cli_created import adopt_test_containers


def _in_ls_all(docker_cli, container: str) -> bool:
    listing = docker_cli("container", "ls", "-a")
    assert listing.ok, listing.stderr
    return container[:12] in {row["CONTAINER ID"] for row in parse_table(listing.stdout)}


def case_stopped(docker_cli, engine, resources, image: str) -> None:
    made = docker_cli("run", *resources.label_flags(), image, "true")
    (container,) = adopt_test_containers(resources)
    assert made.ok, f"could not make the stopped container: {error_line(made.stderr)}"
    listed_before = _in_ls_all(docker_cli, container)
    result = docker_cli("container", "rm", container)
    gone = not objects.exists(engine, "container", container)
    listed_after = _in_ls_all(docker_cli, container)
    evidence.as_json("rm of a stopped container", {"listed before": listed_before, "exit code": result.exit_code,
                                                   "stdout": result.stdout.strip(), "gone": gone,
                                                   "listed after": listed_after})
    assert listed_before, "the stopped container was not in `ls -a` before rm"
    assert result.ok, f"`docker container rm` exited {result.exit_code}: {error_line(result.stderr)}"
    assert gone and not listed_after, \
        f"container {container[:12]} is still there after rm (inspect: {not gone}, ls -a: {listed_after})"


def case_running_refused(docker_cli, engine, resources, image: str) -> None:
    made = docker_cli("run", "-d", *resources.label_flags(), image, "sleep", "300")
    (container,) = adopt_test_containers(resources)
    assert made.ok, f"could not start the running container: {error_line(made.stderr)}"
    refused = docker_cli("container", "rm", container)
    state = engine.api.inspect_container(container)["State"] if objects.exists(engine, "container", container) else None
    evidence.as_json("rm of a running container", {"exit code": refused.exit_code,
                                                   "stderr": refused.stderr.strip(), "State after": state})
    assert not refused.ok, f"`docker container rm` removed the running container {container[:12]} without -f"
    assert state and state["Running"], f"the running container was stopped or removed by a refused rm: {state}"
    assert "running" in refused.stderr.lower() and "force" in refused.stderr.lower(), \
        f"the refusal does not say the container is running and -f is needed: {error_line(refused.stderr)}"
    forced = docker_cli("container", "rm", "-f", container)
    assert forced.ok and not objects.exists(engine, "container", container), \
        f"`docker container rm -f` did not remove the running container: {error_line(forced.stderr)}"


@claim("CMD-8", cases={"stopped": case_stopped, "running-refused": case_running_refused}, smoke="stopped")
def test_container_rm(case, docker_cli, engine, resources, alpine_image):
    """``docker container rm <hash>`` MUST remove the container, and MUST refuse to remove a
    running one without ``-f``.

    ``stopped``: an exited container, listed by ``docker container ls -a``, is removed by
    the command as written; afterwards inspect answers 404 and ``ls -a`` no longer lists
    it. ``running-refused``: the command as written on a running container MUST fail with
    an error saying it is running and needs force, and the container MUST still run;
    ``rm -f`` then removes it.
    """
    case(docker_cli, engine, resources, alpine_image.ref)
