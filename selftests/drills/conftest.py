"""Drills for the suite itself: it must be the most trustworthy thing on the host, most of
all where the engine misbehaves.

Each drill does something a bad day does (SIGKILL, a runtime that cannot start anything, an
engine restarted or gone, a full disk, two runs at once, a registry password, a user
without root) and holds the suite to it, with a clear pass or fail and figures: what was
left behind, how long until a verdict, how many secrets were found. The figures are in the
test's JUnit properties, in ``reports/drills/<drill>.json`` and in the terminal summary.

Drills marked ``thorough`` run only with ``CONFORMANCE_SELFTEST_THOROUGH=1`` (they would
take ``./selftest`` past its CI budget); the README lists them with their wall times.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from fixtures.core.waiting import wait_until
from fixtures.engine import sandbox
from fixtures.engine.target import connect
from fixtures.run.identity import RunIdentity, process_start_ticks
from fixtures.run.rundir import RunDir
from fixtures.session.lifecycle import UNDOERS
from selftests.conftest import PROJECT, RUN_ROOT

FIGURES_DIR = PROJECT / "reports" / "drills"
_FIGURES = pytest.StashKey[dict]()


@pytest.fixture
def figures(request: pytest.FixtureRequest):
    """``figures["leftovers"] = 0``: the drill's figures, for its report and the summary."""
    found: dict = {}
    started = time.monotonic()
    yield found
    found["wall time s"] = round(time.monotonic() - started, 1)
    request.node.stash[_FIGURES] = found
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    (FIGURES_DIR / f"{_plain(request.node.name)}.json").write_text(json.dumps(found, indent=2, default=str))


def _plain(name: str) -> str:
    # No brackets in a path: Allure reads a results dir's path as a glob pattern.
    return name.replace("[", "-").replace("]", "")


@pytest.fixture
def drill_dir(request: pytest.FixtureRequest) -> Path:
    """Where this drill keeps its runs' reports and output: ``reports/drills/<drill>/``, kept
    after the self-tests for a reader (pytest's own tmp dirs rotate away)."""
    path = FIGURES_DIR / _plain(request.node.name)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when == "teardown" and _FIGURES in item.stash:
        report.user_properties.extend((f"drill.{k}", v) for k, v in item.stash[_FIGURES].items())


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    lines = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            shown = [f"{k[6:]}={v}" for k, v in getattr(report, "user_properties", []) if k.startswith("drill.")]
            if getattr(report, "when", "") == "teardown" and shown:
                lines.append(f"{report.nodeid.split('::')[-1]}: {', '.join(shown)}")
    if lines:
        terminalreporter.section("drill figures")
        for line in lines:
            terminalreporter.line(line)


@dataclass
class DrillEngine:
    """A private dockerd for one drill: free to break, kill or fill."""

    engine: sandbox.SandboxEngine
    run_dir: RunDir

    @property
    def url(self) -> str:
        return self.engine.url

    def client(self) -> docker.DockerClient:
        return connect(self.url, timeout=60)

    def contents(self) -> dict[str, set[str]]:
        """Every object on the engine, by kind."""
        with closing(self.client()) as client:
            api = client.api
            return {"containers": {c["Id"] for c in api.containers(all=True)},
                    "images": {i["Id"] for i in api.images(all=True)},
                    "volumes": {v["Name"] for v in (api.volumes() or {}).get("Volumes") or []},
                    "networks": {n["Id"] for n in api.networks()}}

    def alive(self) -> bool:
        return process_start_ticks(self.engine.pid) is not None

    def kill(self) -> float:
        """SIGKILL the dockerd (its containerd dies with it); returns when it was killed."""
        at = time.time()
        os.kill(self.engine.pid, signal.SIGKILL)
        wait_until(lambda: not self.alive() or _zombie(self.engine.pid), timeout=10, what="the drill's dockerd to die")
        return at

    def wedge(self) -> float:
        """SIGSTOP the dockerd: its socket still accepts connections, nothing answers them."""
        at = time.time()
        os.kill(self.engine.pid, signal.SIGSTOP)
        return at

    def unwedge(self) -> None:
        if self.alive():
            os.kill(self.engine.pid, signal.SIGCONT)

    def restart(self) -> tuple[float, float]:
        """Stop the dockerd as a service manager does (SIGTERM, then wait), start it again the
        same way; returns (stopped at, answering again at)."""
        at = time.time()
        os.kill(self.engine.pid, signal.SIGTERM)
        wait_until(lambda: not self.alive() or _zombie(self.engine.pid), timeout=60, what="the drill's dockerd to stop")
        pid = sandbox.launch(self.run_dir, self.engine.name, self.engine.argv)
        self.engine = sandbox.SandboxEngine(**{**self.engine.__dict__, "pid": pid})
        return at, time.time()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture
def drill_engine():
    """``drill_engine(daemon_config=..., data_root=...)``: a private dockerd, gone after the drill
    with everything it added to the host (its own run directory and cleanup records)."""
    started: list[RunDir] = []

    def start(*, daemon_config: dict | None = None, data_root=None) -> DrillEngine:
        """``data_root(run_dir) -> Path`` makes the engine's storage (recorded in ``run_dir``)."""
        identity = RunIdentity.for_controller(f"selftest-drill-{os.getpid()}-{secrets.token_hex(3)}")
        run_dir = RunDir.create(RUN_ROOT, identity)
        started.append(run_dir)
        engine = sandbox.start(run_dir, "d", daemon_config=daemon_config,
                               data_root=data_root(run_dir) if data_root else None, log=lambda line: None)
        return DrillEngine(engine, run_dir)

    yield start
    problems = []
    for run_dir in started:
        problems += run_dir.undo(UNDOERS)
        if not problems:
            run_dir.remove()
    assert not problems, f"a drill engine could not be cleaned up: {problems}"


@pytest.fixture
def users_objects(real_client, preloaded_images, selftest_labels):
    """A container, an image, a volume and a network of "the user" on the real engine; the
    drill checks they are untouched (``untouched()`` lists what changed)."""
    api = real_client.api
    built = api.build(fileobj=__import__("io").BytesIO(b"FROM alpine:3.23\nRUN echo mine > /mine\n"),
                      labels=selftest_labels, rm=True, decode=True)
    image = [line["aux"]["ID"] for line in built if "aux" in line][-1]
    api.tag(image, "users-own/drill", "v1")
    volume = api.create_volume(labels=selftest_labels)["Name"]
    network = api.create_network(f"users-own-drill-{secrets.token_hex(3)}", labels=selftest_labels)["Id"]
    container = api.create_container("users-own/drill:v1", ["sleep", "3600"], labels=selftest_labels,
                                     host_config=api.create_host_config(binds=[f"{volume}:/data"]))["Id"]
    api.start(container)

    def untouched() -> list[str]:
        changed = []
        try:
            if not api.inspect_container(container)["State"]["Running"]:
                changed.append("the user's container stopped")
            if "users-own/drill:v1" not in api.inspect_image(image)["RepoTags"]:
                changed.append("the user's image lost its tag")
            api.inspect_volume(volume)
            api.inspect_network(network)
        except docker.errors.NotFound as exc:
            changed.append(f"removed: {exc.explanation}")
        return changed

    yield untouched
    api.remove_container(container, force=True, v=True)
    api.remove_network(network)
    api.remove_volume(volume, force=True)
    api.remove_image(image, force=True)
