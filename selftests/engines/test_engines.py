"""The full profile on the other engines users run: a private Podman service, a rootless
dockerd, and dockerd with crun as its default runtime.

Each run is held to ``expected.yaml``: every failure and error must be one it lists (a real
difference of the engine, documented in ``docs/engines.md``, or a suite bug whose fix is
pending); a new one fails this test. Whatever the verdicts, the run must leave the engine as
it found it (no exit 13, nothing left under its label), and the checks that need the
registry must have run: an engine the self-tests configured to reach it never reports them
as "not run".

All of it is in the thorough mode (``CONFORMANCE_SELFTEST_THOROUGH=1``): the Podman and
rootless runs take 4-6 minutes each here, dockerd on crun against the same dockerd on runc
two more full runs, and ``./selftest`` must stay within CI's budget. (A private Podman
service is still a second engine in every ``./selftest``: the full runs' STD-3 and PKG-2.)
"""

from __future__ import annotations

from contextlib import closing

import docker
import pytest

from fixtures.core.exitcodes import Exit
from selftests.conftest import leftovers
from selftests.engines.expected import hold, known

# The tests that need the registry (names as collected; a name that matches no test of the
# run fails the self-test, so that a rename cannot leave them unchecked).
REGISTRY_CHECKS = ("test_login_with_good_credentials[", "test_login_refuses_bad_credentials[",
                   "test_push_uploads_to_registry[", "test_run_pulls_when_absent[",
                   "test_daemon_pulls_from_registry[", "test_registry_serves_a_standard_manifest[",
                   "test_registry_serves_a_standard_config[", "test_push_sends_only_new_layers[",
                   "test_pull_fetches_only_new_layers[")
ENGINES = {"podman": "podman_engine", "rootless-dockerd": "rootless_engine"}
THOROUGH = {"dockerd-crun": "crun_default_engine", "dockerd-runc": "runc_engine"}


def _full_run(engine_suite, url: str):
    run = engine_suite("-n", "2", engine=url)
    assert run.summary, f"the run wrote no summary.json:\n{run.describe()}"
    return run


def _held_to_expectations(name: str, url: str, run) -> None:
    held = hold(run.tests(), known(name))
    if held.fixed:
        print(f"{name}: listed in expected.yaml but no longer failing: {', '.join(held.fixed)}")
    assert not held.new and not held.stale, \
        f"{name}: {held.describe()}\nexpected.yaml names tests the run does not have: {held.stale}\n{run.describe()}"
    assert run.exit_code != Exit.HOST_STATE_VIOLATED, f"{name}: {run.summary['state']['line']}"
    with closing(docker.DockerClient(base_url=url, version="auto", timeout=60)) as client:
        left = leftovers(client, run.summary["run"]["id"])
    assert not any(left.values()), f"{name}: the run left {left}"
    absent = [check for check in REGISTRY_CHECKS if not any(check in nodeid for nodeid in run.tests())]
    assert not absent, f"{name}: REGISTRY_CHECKS names tests the run does not have: {absent}"
    unchecked = {nodeid: t["message"] for nodeid, t in run.tests().items()
                 if t["outcome"] == "not run" and any(check in nodeid for check in REGISTRY_CHECKS)}
    assert not unchecked, f"{name}: the registry checks did not run: {unchecked}"


@pytest.mark.engine
@pytest.mark.thorough
@pytest.mark.parametrize("name", sorted(ENGINES))
def test_full_profile_fails_only_where_expected(name, request, engine_suite):
    url = request.getfixturevalue(ENGINES[name])
    _held_to_expectations(name, url, _full_run(engine_suite, url))


@pytest.mark.engine
@pytest.mark.thorough
def test_dockerd_passes_the_same_claims_on_runc_and_on_crun(request, engine_suite):
    """The same dockerd, once with runc and once with crun as its default runtime, gives every
    claim the same verdict."""
    runs = {}
    for name, fixture in THOROUGH.items():
        url = request.getfixturevalue(fixture)
        runs[name] = _full_run(engine_suite, url)
        _held_to_expectations(name, url, runs[name])
    crun, runc = runs["dockerd-crun"].verdicts(), runs["dockerd-runc"].verdicts()
    differing = {claim: (runc[claim], crun.get(claim)) for claim in runc if crun.get(claim) != runc[claim]}
    assert not differing, f"claims whose verdict differs between runc and crun (runc, crun): {differing}"
