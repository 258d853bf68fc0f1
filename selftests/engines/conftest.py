"""Fixtures that start the other engines the self-tests run the suite against.

Their run directory is not under the suite's run root: it holds cleanup records of kinds
the suite does not know (a user, a device's mode), which the suite's reaper of crashed runs
must never be left to trip over. The self-tests reap their own crashed sessions instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from fixtures.core.waiting import WaitTimeout
from fixtures.engine import podman, sandbox
from fixtures.run.identity import RunIdentity
from fixtures.run.rundir import RunDir, stale_runs
from fixtures.session.lifecycle import UNDOERS as SUITE_UNDOERS
from selftests.conftest import SuiteRunner
from selftests.engines import rootless

ENGINES_ROOT = Path("/var/tmp/docker-conformance-selftest-engines")
UNDOERS = {**SUITE_UNDOERS, "user": rootless.remove_user, "mode": rootless.restore_mode}


def _reap_crashed_sessions(current: str) -> None:
    for path in stale_runs(ENGINES_ROOT, current):
        stale = RunDir.attach(path, RunIdentity.for_controller(path.name))
        problems = stale.undo(UNDOERS)
        assert not problems, f"could not clean up the crashed self-test session {path.name}: {problems}"
        stale.remove()


@pytest.fixture(scope="session")
def engines_rundir(selftest_identity: RunIdentity) -> Iterator[RunDir]:
    ENGINES_ROOT.mkdir(parents=True, exist_ok=True)
    _reap_crashed_sessions(selftest_identity.run_id)
    run_dir = RunDir.create(ENGINES_ROOT, selftest_identity)
    yield run_dir
    problems = run_dir.undo(UNDOERS)
    assert not problems, f"the engines' cleanup failed: {problems}"
    run_dir.remove()


def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("the self-tests' engines need root (as CI runs them)")


@pytest.fixture(scope="session")
def podman_engine(engines_rundir: RunDir) -> str:
    """A private Podman service (its own storage and configuration) as an engine under test.

    The run's registry listens on loopback over plain HTTP; this service's own
    registries.conf lists localhost as insecure, as an operator would for a local registry.
    """
    _needs_root()
    try:
        started = podman.start(engines_rundir, "podman-under-test", insecure_registries=("localhost",))
    except (podman.PodmanNotInstalled, podman.PodmanUnavailable) as exc:
        pytest.fail(f"the private Podman service: {exc}")
    return started["url"]


@pytest.fixture(scope="session")
def rootless_engine(engines_rundir: RunDir, selftest_identity: RunIdentity) -> str:
    _needs_root()
    name = f"dcf-rl-{os.getpid()}"
    try:
        return rootless.start(engines_rundir, name).url
    except (rootless.RootlessUnavailable, WaitTimeout) as exc:
        pytest.fail(f"the rootless dockerd: {exc}")


def crun_config(default: bool) -> dict:
    path = shutil.which("crun")
    if not path:
        pytest.fail("crun is not installed (tools/setup selftest installs it)")
    config = {"runtimes": {"crun": {"path": path}}}
    return {**config, "default-runtime": "crun"} if default else config


@pytest.fixture(scope="session")
def crun_default_engine(engines_rundir: RunDir) -> str:
    """A dockerd whose default runtime is crun (its own socket, data-root and bridge)."""
    _needs_root()
    return sandbox.start(engines_rundir, "crun", log=lambda line: None, daemon_config=crun_config(True)).url


@pytest.fixture(scope="session")
def crun_added_engine(engines_rundir: RunDir) -> str:
    """A dockerd with runc as its default and crun as an added runtime (``--runtime crun``)."""
    _needs_root()
    return sandbox.start(engines_rundir, "crunadd", log=lambda line: None, daemon_config=crun_config(False)).url


@pytest.fixture(scope="session")
def runc_engine(engines_rundir: RunDir) -> str:
    """A dockerd like ``crun_default_engine`` but on runc: the same daemon, the other runtime."""
    _needs_root()
    return sandbox.start(engines_rundir, "runc", log=lambda line: None).url


@pytest.fixture(scope="session")
def engine_suite(tmp_path_factory) -> SuiteRunner:
    """``./conformance`` against a given engine (``engine_suite(..., engine=url)``)."""
    return SuiteRunner("", tmp_path_factory.mktemp("engine-runs"))
