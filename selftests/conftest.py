"""Fixtures of the project's own tests: a real engine, a way to run the suite, the faulty engine.

The suite is always run as a user runs it, in a subprocess, with ``--engine`` pointing at
either the real engine or a faulty-engine proxy in front of it. Its verdicts are read
from the ``summary.json`` it writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import docker
import pytest

from fixtures.engine import sandbox
from fixtures.engine.target import Target, choose, negotiate, probe
from fixtures.images.provision import ALPINE, NGINX, provision
from fixtures.images.release import release
from fixtures.run.identity import RUN, RunIdentity
from fixtures.run.options import default_image_cache
from fixtures.run.rundir import RunDir
from fixtures.session.lifecycle import UNDOERS
from selftests.faulty_engine import FaultyEngine

PROJECT = Path(__file__).resolve().parents[1]
RUN_ROOT = Path("/var/tmp/docker-conformance")
# Everything the self-tests create themselves carries this label (never conformance.run,
# which belongs to suite runs).
SELFTEST_LABEL = "conformance.selftest.owner"
THOROUGH = os.environ.get("CONFORMANCE_SELFTEST_THOROUGH") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the ``thorough`` self-tests (slow drills, engines, the fleet's fuller drill) unless
    CONFORMANCE_SELFTEST_THOROUGH=1: they would take ./selftest past CI's budget."""
    if THOROUGH:
        return
    slow = [item for item in items if item.get_closest_marker("thorough")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item not in slow]


@pytest.fixture(scope="session")
def selftest_identity() -> RunIdentity:
    return RunIdentity.for_controller(f"selftest-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")


@pytest.fixture(scope="session")
def selftest_labels(selftest_identity) -> dict[str, str]:
    return {SELFTEST_LABEL: selftest_identity.run_id}


@pytest.fixture(scope="session")
def selftest_rundir(selftest_identity) -> Iterator[RunDir]:
    RUN_ROOT.mkdir(parents=True, exist_ok=True)
    run_dir = RunDir.create(RUN_ROOT, selftest_identity)
    yield run_dir
    problems = run_dir.undo(UNDOERS)
    assert not problems, f"self-test cleanup failed: {problems}"
    run_dir.remove()


@pytest.fixture(scope="session")
def real_engine(selftest_rundir) -> Target:
    """The engine the self-tests use: the user's (DOCKER_HOST or default socket), or a sandbox.

    CONFORMANCE_SELFTEST_ENGINE=sandbox forces the sandbox, as on a CI machine where no
    engine runs, even where one does.
    """
    forced = os.environ.get("CONFORMANCE_SELFTEST_ENGINE") == "sandbox"
    target = None if forced else choose(None, dict(os.environ))
    if target is not None:
        return target
    engine = sandbox.start(selftest_rundir, "selftest", log=lambda line: None)
    api, reason = probe(engine.url)
    assert api, f"the self-tests' sandbox engine does not answer: {reason}"
    return Target(engine.url, "sandbox", owned=True, api_version=negotiate(api))


@pytest.fixture(scope="session")
def real_client(real_engine) -> Iterator[docker.DockerClient]:
    with closing(docker.DockerClient(base_url=real_engine.url, version=real_engine.api_version,
                                     timeout=120)) as client:
        yield client


@pytest.fixture(scope="session")
def preloaded_images(real_client, selftest_labels) -> Iterator[dict]:
    """alpine:3.23 and nginx:latest on the real engine for the whole session.

    Suite runs then find them present (as on a prepared host) instead of importing them
    once per run; the images are removed at the end unless they were there before.
    """
    made = {name: provision(real_client, ref, recipe, archives=[], cache_dir=default_image_cache(),
                            labels=selftest_labels, log=lambda line: None)
            for name, ref, recipe in (("alpine", "alpine:3.23", ALPINE), ("nginx", "nginx:latest", NGINX))}
    yield made
    for image in made.values():
        release(real_client, image)


@dataclass
class SuiteRun:
    args: list[str]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    reports: Path
    summary: dict | None = field(default=None)

    def tests(self) -> dict[str, dict]:
        """nodeid -> test entry of summary.json."""
        return {t["nodeid"]: t for claim in (self.summary or {}).get("claims", []) for t in claim["tests"]}

    def outcomes(self, outcome: str) -> dict[str, str]:
        return {nodeid: t["message"] for nodeid, t in self.tests().items() if t["outcome"] == outcome}

    def verdicts(self) -> dict[str, str]:
        return {c["id"]: c["verdict"] for c in (self.summary or {}).get("claims", [])}

    def describe(self) -> str:
        return (f"suite exited {self.exit_code} in {self.seconds:.1f} s\n--- stdout (tail) ---\n"
                + "\n".join(self.stdout.splitlines()[-40:]) + "\n--- stderr ---\n" + self.stderr[-3000:])


class SuiteRunner:
    """Runs the conformance suite as a user does: ``./conformance ARGS``, in a subprocess."""

    def __init__(self, engine_url: str, base: Path):
        self.engine_url = engine_url
        self.base = base
        self.count = 0

    def __call__(self, *args: str, engine: str | None = None, html: bool = False,
                 env: dict[str, str] | None = None, timeout: float = 1200) -> SuiteRun:
        self.count += 1
        reports = self.base / f"run{self.count}"
        argv = [str(PROJECT / "conformance"), "--reports-dir", str(reports), "-q"]
        if engine != "":
            argv += ["--engine", engine or self.engine_url]
        if not html:
            argv.append("--no-html")
        argv += list(args)
        started = time.monotonic()
        proc = subprocess.run(argv, cwd=PROJECT, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})
        summary_file = reports / "summary.json"
        summary = json.loads(summary_file.read_text()) if summary_file.exists() else None
        return SuiteRun(argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started,
                        reports, summary)


@pytest.fixture(scope="session")
def suite(real_engine, preloaded_images, tmp_path_factory) -> SuiteRunner:
    return SuiteRunner(real_engine.url, tmp_path_factory.mktemp("suite-runs"))


@pytest.fixture
def faulty_engine(real_engine, tmp_path) -> Iterator:
    """``faulty_engine("pid-host", ...)`` starts a weakened engine in front of the real one.

    Returns the started ``FaultyEngine`` (``.url``); every one started stops after the test.
    """
    started: list[FaultyEngine] = []

    def start(*faults: str) -> FaultyEngine:
        log_path = str(tmp_path / f"faulty-engine-{len(started)}.log")
        engine = FaultyEngine(list(faults), upstream=real_engine.url, log_path=log_path).start()
        started.append(engine)
        return engine

    yield start
    for engine in started:
        engine.stop()


def leftovers(client: docker.DockerClient, run_id: str) -> dict[str, list[str]]:
    """What a suite run left on the engine under its own run label."""
    flt = {"label": [f"{RUN}={run_id}"]}
    return {
        "containers": [c["Id"][:12] for c in client.api.containers(all=True, filters=flt)],
        "images": [i["Id"][7:19] for i in client.api.images(all=True, filters=flt)],
        "volumes": [v["Name"] for v in (client.api.volumes(filters=flt) or {}).get("Volumes") or []],
        "networks": [n["Name"] for n in client.api.networks(filters=flt)],
    }


def remove_run(client: docker.DockerClient, run_id: str) -> None:
    """Remove, by id, what a suite run left under its label (after a control that fakes removal)."""
    flt = {"label": [f"{RUN}={run_id}"]}
    for c in client.api.containers(all=True, filters=flt):
        client.api.remove_container(c["Id"], force=True, v=True)
    for n in client.api.networks(filters=flt):
        client.api.remove_network(n["Id"])
    for v in (client.api.volumes(filters=flt) or {}).get("Volumes") or []:
        client.api.remove_volume(v["Name"], force=True)
    # Children before parents: an image with dependent child images cannot be removed.
    images = {i["Id"]: i.get("ParentId") for i in client.api.images(all=True, filters=flt)}
    while images:
        parents = set(images.values())
        leaves = [image_id for image_id in images if image_id not in parents]
        for image_id in leaves or list(images):
            try:
                client.api.remove_image(image_id, force=True)
            except docker.errors.NotFound:
                pass
            images.pop(image_id)
