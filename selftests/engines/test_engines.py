"""The claims on the other engines users run: a private Podman service, a rootless dockerd,
and dockerd with crun as its default runtime.

Podman and the rootless dockerd are validated by one run over both
(``./conformance --engine podman=... --engine rootless-dockerd=... -n 4``): one report whose
summary opens with a claims x engines matrix, each engine's own verdicts under
``hosts/<name>/``. Every ``./selftest`` runs the smoke profile so (one check per claim, about
3 minutes); the thorough mode (``CONFORMANCE_SELFTEST_THOROUGH=1``) runs the full profile
(about 8 minutes, over CI's budget beside the rest) and the same dockerd on runc and on crun
(two more full runs, about 6 minutes).

Each engine is held to ``expected.yaml``: every failure and error must be one it lists (a
real difference of the engine, documented in ``docs/engines.md``, or a suite bug whose fix
is pending) or, on Podman, one of the engine's own races under concurrent use, by its
message; anything else fails this test. Whatever the verdicts, the run must leave each
engine as it found it (no state violated, nothing left under its label), and the checks
that need the registry must have run: an engine the self-tests configured to reach it never
reports them as "not run".
"""

from __future__ import annotations

from contextlib import closing

import docker
import pytest

from fixtures.session.fleet import base_nodeid
from selftests.conftest import leftovers
from selftests.engines.expected import hold, known, races

# The tests that need the registry (names as collected; a name that matches no test of the
# run fails the self-test, so that a rename cannot leave them unchecked).
REGISTRY_CHECKS = ("test_login_with_good_credentials[", "test_login_refuses_bad_credentials[",
                   "test_push_uploads_to_registry[", "test_run_pulls_when_absent[",
                   "test_daemon_pulls_from_registry[", "test_registry_serves_a_standard_manifest[",
                   "test_registry_serves_a_standard_config[", "test_push_sends_only_new_layers[",
                   "test_pull_fetches_only_new_layers[")
ENGINES = {"podman": "podman_engine", "rootless-dockerd": "rootless_engine"}
THOROUGH = {"dockerd-crun": "crun_default_engine", "dockerd-runc": "runc_engine"}
# xdist workers per engine of the run over Podman and the rootless dockerd (3 were no faster
# than 2: the timing measurements have the machine to themselves, and the others wait).
WORKERS_PER_ENGINE = 2


def _full_run(engine_suite, url: str):
    run = engine_suite("-n", "2", engine=url)
    assert run.summary, f"the run wrote no summary.json:\n{run.describe()}"
    return run


def _held_to_expectations(name: str, url: str, tests: dict[str, dict], run_id: str, state: dict, run, *,
                          complete: bool = True) -> None:
    """``tests``: node id (without ``@target``) -> the engine's test entries; ``complete``: the
    run was of the full profile."""
    held = hold(tests, known(name), complete=complete, raced_by=races(name))
    if held.fixed:
        print(f"{name}: listed in expected.yaml but no longer failing: {', '.join(held.fixed)}")
    for nodeid, message in held.raced.items():
        print(f"{name}: {nodeid} met the engine's own race: {message[:200]}")
    assert not held.new and not held.stale, \
        f"{name}: {held.describe()}\nexpected.yaml names tests the run does not have: {held.stale}\n{run.describe()}"
    assert not state.get("violated"), f"{name}: {state.get('line')}"
    with closing(docker.DockerClient(base_url=url, version="auto", timeout=60)) as client:
        left = leftovers(client, run_id)
    assert not any(left.values()), f"{name}: the run left {left}"
    absent = [check for check in REGISTRY_CHECKS if not any(check in nodeid for nodeid in tests)]
    assert not complete or not absent, f"{name}: REGISTRY_CHECKS names tests the run does not have: {absent}"
    unchecked = {nodeid: t["message"] for nodeid, t in tests.items()
                 if t["outcome"] == "not run" and any(check in nodeid for check in REGISTRY_CHECKS)}
    assert not unchecked, f"{name}: the registry checks did not run: {unchecked}"


def _held_alone(name: str, url: str, run) -> None:
    _held_to_expectations(name, url, run.tests(), run.summary["run"]["id"], run.summary["state"], run)


@pytest.mark.engine
@pytest.mark.parametrize("profile", ["smoke", pytest.param("full", marks=pytest.mark.thorough)])
def test_podman_and_rootless_fail_only_where_expected(profile, request, engine_suite):
    urls = {name: request.getfixturevalue(fixture) for name, fixture in ENGINES.items()}
    targets = [arg for name, url in urls.items() for arg in ("--engine", f"{name}={url}")]
    run = engine_suite("-n", str(WORKERS_PER_ENGINE * len(urls)), "--profile", profile, *targets, engine="")
    assert run.summary and "per_host" in run.summary, f"the run wrote no fleet summary.json:\n{run.describe()}"
    summary_md = (run.reports / "summary.md").read_text(encoding="utf-8")
    header = "| Claim | Severity | " + " | ".join(f"`{name}`" for name in urls) + " |"
    assert header in summary_md, f"summary.md has no claims x engines matrix ({header!r})"
    for name, url in urls.items():
        host = run.summary["per_host"][name]
        tests = {base_nodeid(t["nodeid"]): t for claim in host["claims"] for t in claim["tests"]}
        _held_to_expectations(name, url, tests, host["run"]["id"], host["state"], run, complete=profile == "full")


@pytest.mark.engine
@pytest.mark.thorough
def test_dockerd_passes_the_same_claims_on_runc_and_on_crun(request, engine_suite):
    """The same dockerd, once with runc and once with crun as its default runtime, gives every
    claim the same verdict."""
    runs = {}
    for name, fixture in THOROUGH.items():
        url = request.getfixturevalue(fixture)
        runs[name] = _full_run(engine_suite, url)
        _held_alone(name, url, runs[name])
    crun, runc = runs["dockerd-crun"].verdicts(), runs["dockerd-runc"].verdicts()
    differing = {claim: (runc[claim], crun.get(claim)) for claim in runc if crun.get(claim) != runc[claim]}
    assert not differing, f"claims whose verdict differs between runc and crun (runc, crun): {differing}"
