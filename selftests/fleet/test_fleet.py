"""A fleet validated in one run, and by a CI matrix and a merge, on a simulated fleet.

Dockerd "hosts" (``simulated.py``: each in a network namespace of its own, on tcp:// with
TLS): two (``a`` and ``c``) by default, three (``a``, ``b``, ``c``) in the thorough mode. Host
``c`` runs a runtime that shows containers a guest kernel's view
(``controls/runtimes/guest-kernel-view``), so it, and only it, differs. On that fleet:

1. one run over the fleet gives each host its verdicts, and the matrix shows ``c``, and only
   ``c``, differing (LW-1: the kernel containers see); a target that never answered is one
   "unreachable" row;
2. the CI-matrix way (one run per host, then ``./conformance-merge``) gives the same matrix;
3. (thorough) a host killed mid-run is reported lost within the bound, and the others
   complete;
4. nothing is left behind: no daemon, namespace, veth, bridge, iptables rule, mount, process,
   file or labelled object.

By default the runs select a few claims (``FEW``), to keep ./selftest within CI's budget; the
thorough mode runs the whole smoke profile over three hosts.

Timing checks (the quiet tests: LW-2's start latency, LW-3's idle cost) are left out of the
comparisons between runs: on a machine shared with other work their verdicts may differ
from one run to the next, on any host. Their figures are still shown side by side.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest
import yaml

from fixtures.core.exitcodes import worst
from fixtures.engine.target import Tls, connect
from fixtures.host import snapshot as host_snapshot
from fixtures.reporting import schema_validation
from fixtures.run.identity import RUN
from fixtures.session.engine_watch import BOUND
from fixtures.session.fleet import base_nodeid, nodeid_target
from selftests.conftest import PROJECT, THOROUGH
from selftests.controls.weakened_daemon import runtime
from selftests.fleet.simulated import ownership, simulated_fleet

pytestmark = pytest.mark.engine
HOSTS = ["a", "b", "c"] if THOROUGH else ["a", "c"]
ODD = "c"
TIMING = {"LW-2", "LW-3", "ALP-1"}  # verdicts on measured time and cost: compared by figure, not verdict
# The CI-matrix comparison's claims by default: the odd host's, a registry round trip, a
# published port, a plain one (-k matches claim ids in node ids; none is a prefix of another).
FEW = ["LW-1", "STD-1", "ISO-2", "PKG-1"]
CLAIMS = None if THOROUGH else FEW  # what the runs select: None, the whole smoke profile
_RESULTS: dict = {}


class FleetBox:
    """The fleet for the module, closed by the last test (which then checks what is left)."""

    def __init__(self):
        self.before = host_snapshot.take()
        self._context = simulated_fleet(HOSTS, {ODD: runtime("guest-kernel-view")})
        self.fleet = self._context.__enter__()
        self.own = None
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.own = ownership(self.fleet)
            self._context.__exit__(None, None, None)


@pytest.fixture(scope="module")
def box():
    made = FleetBox()
    yield made
    made.close()


def _conformance(args: list[str], reports: Path, env: dict[str, str], timeout: float = 1500):
    argv = [str(PROJECT / "conformance"), "--reports-dir", str(reports), "-q", "--no-html", *args]
    return subprocess.Popen(argv, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})


def _finish(proc: subprocess.Popen, timeout: float = 1500) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _summary(reports: Path) -> dict:
    return json.loads((reports / "summary.json").read_text(encoding="utf-8"))


def _matrix(fleet: dict, claims: set[str] | None = None) -> dict[str, dict[str, str]]:
    return {row["id"]: row["verdicts"] for row in fleet["matrix"]
            if row["id"] not in TIMING and (claims is None or row["id"] in claims)}


def _selection(claims: list[str] | None) -> list[str]:
    return ["-k", " or ".join(claims)] if claims else []


def _as_odd(verdict_elsewhere: str, odd: str) -> dict[str, str]:
    return {name: odd if name == ODD else verdict_elsewhere for name in HOSTS}


def _describe(code: int, out: str, err: str) -> str:
    return f"exit {code}\n--- stdout ---\n{out[-5000:]}\n--- stderr ---\n{err[-3000:]}"


def test_one_run_over_the_fleet_gives_each_host_its_verdicts(box, tmp_path):
    """The smoke profile (a few of its claims by default) over the fleet in one run, with a
    target that does not answer: each host's verdicts, each node id naming its host, every
    report per host, the matrix showing the odd host alone, the silent one as one row."""
    fleet, reports = box.fleet, tmp_path / "fleet"
    targets = yaml.safe_load(fleet.targets(path=tmp_path / "fleet.yaml").read_text())
    nowhere = fleet.registry.address.split(":")[0].rsplit(".", 1)[0] + ".250"  # on the fleet's bridge, nothing there
    targets["targets"].append({**targets["targets"][0], "name": "gone", "url": f"tcp://{nowhere}:2376"})
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(targets))
    started = time.monotonic()
    code, out, err = _finish(_conformance(["--targets", str(tmp_path / "fleet.yaml"), "--registry",
                                           fleet.registry.address, "--profile", "smoke",
                                           "-n", str(2 * len(HOSTS)), *_selection(CLAIMS)], reports, fleet.env()))
    _RESULTS["one run seconds"] = seconds = time.monotonic() - started
    print(f"fleet: one run over {len(HOSTS)} hosts and an unreachable one took {seconds:.0f} s")
    data = _summary(reports)
    hosts = {h["name"]: h for h in data["hosts"]}
    assert list(hosts) == [*HOSTS, "gone"], _describe(code, out, err)
    # The silent target: one "unreachable" row, its tests not run, and the run's exit code its.
    assert hosts["gone"]["exit_code"] == 11 and hosts["gone"]["unreachable"].startswith("unreachable"), hosts["gone"]
    gone_tests = [t for row in data["per_host"]["gone"]["claims"] for t in row["tests"]]
    assert gone_tests and all(t["outcome"] == "not run" for t in gone_tests), gone_tests
    assert code == data["exit_code"] == worst(h["exit_code"] for h in hosts.values()) == 11, _describe(code, out, err)
    assert all(hosts[name]["exit_code"] in (0, 1, 10) for name in HOSTS), hosts
    _RESULTS["one run"] = {**data, "matrix": [{**row, "verdicts": {n: v for n, v in row["verdicts"].items() if n in HOSTS}}
                                              for row in data["matrix"]]}
    # Every test ran once per host, its node id naming the host.
    ids = {name: {base_nodeid(t["nodeid"]) for row in data["per_host"][name]["claims"] for t in row["tests"]}
           for name in HOSTS}
    assert all(ids[name] == ids[HOSTS[0]] for name in HOSTS) and len(ids[HOSTS[0]]) >= (40 if THOROUGH else 4), ids
    assert all(nodeid_target(t["nodeid"]) == name for name, summary in data["per_host"].items()
               for row in summary["claims"] for t in row["tests"])
    # The odd host, and only it, differs.
    matrix = _matrix(_RESULTS["one run"])
    assert matrix["LW-1"] == _as_odd("pass", "fail"), matrix["LW-1"]
    differ = {claim: verdicts for claim, verdicts in matrix.items() if len(set(verdicts.values())) > 1}
    assert all(len({v[n] for n in HOSTS if n != ODD}) == 1 and v[ODD] != v[HOSTS[0]] for v in differ.values()), differ
    assert "LW-1" in [row["id"] for row in data["matrix"] if not row["agree"]]
    # Each host's own reports, state diff and run history.
    for name in HOSTS:
        folder = reports / "hosts" / name
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["run"]["target"] == name and (folder / "summary.md").is_file()
        state = json.loads((folder / "state-diff.json").read_text())
        assert state["engine"] == fleet.hosts[name].url and not any(state["leaked"].values()), state
        assert summary["state"]["violated"] is False, summary["state"]
        assert (reports / "history" / "summaries" / f"{summary['run']['id']}@{name}.json").is_file()
    text = (reports / "summary.md").read_text()
    assert "## Claims × hosts" in text
    assert ("## Key figures side by side" in text) == bool(data["figures"]), data["figures"]  # a few claims: maybe none
    # JUnit and Allure carry the host.
    junit = (reports / "junit.xml").read_text()
    assert all(f"@{name}]" in junit and f"docker-conformance claims@{name}" in junit for name in HOSTS)
    suites = set()
    for path in (reports / "allure-results").glob("*-result.json"):
        labels = json.loads(path.read_text())["labels"]
        suites |= {label["value"] for label in labels if label["name"] == "parentSuite"}
    assert set(HOSTS) <= suites <= {*HOSTS, "gone"}, suites
    # The audit files: one OSCAL result and one SARIF run per host, valid; all signed.
    oscal = json.loads((reports / "assessment-results.oscal.json").read_text())
    assert len(oscal["assessment-results"]["results"]) == len(HOSTS) + 1
    assert schema_validation.oscal_problems(oscal) == []
    sarif = json.loads((reports / "conformance.sarif").read_text())
    assert len(sarif["runs"]) == len(HOSTS) + 1 and schema_validation.sarif_problems(sarif) == []
    verified = subprocess.run([str(PROJECT / "conformance-verify"), str(reports)], capture_output=True, text=True)
    assert verified.returncode == 0 and "hosts/c/summary.json" in verified.stdout, verified.stdout + verified.stderr


@pytest.mark.thorough
def test_a_host_lost_mid_run_is_one_verdict(box, tmp_path):
    """Host b's dockerd is SIGKILLed once the run works on it: b is reported lost within the
    bound, its remaining tests not run; a and c complete."""
    fleet, reports = box.fleet, tmp_path / "lost"
    selection = "PKG or ISO or SEC-1 or SEC-2 or ENG or CMD-4 or CMD-5 or CMD-8 or DATA"
    proc = _conformance([*fleet.run_args(), "--profile", "smoke", "-n", "6", "-k", selection], reports, fleet.env())
    killed_at = _kill_once_busy(box, "b", proc)
    code, out, err = _finish(proc)
    after_kill = time.monotonic() - killed_at
    # Back, as an operator would bring it: the next run on it reaps what the lost run left.
    fleet.restart("b")
    reaped = _finish(_conformance(["-k", "test_ping_answers_over_the_socket", "--hosts", "local://"],
                                  tmp_path / "reap", fleet.single_env("b")))
    assert reaped[0] == 0 and "crashed" in reaped[2], _describe(*reaped)
    data = _summary(reports)
    hosts = {h["name"]: h for h in data["hosts"]}
    assert code == data["exit_code"] == 14, _describe(code, out, err)
    assert after_kill <= BOUND, f"the run ended {after_kill:.0f} s after the kill (bound {BOUND} s)"
    assert hosts["b"]["exit_code"] == 14 and "engine lost" in hosts["b"]["availability"], hosts["b"]
    b_tests = [t for row in data["per_host"]["b"]["claims"] for t in row["tests"]]
    assert any("engine lost" in t["message"] or "stopped answering" in t["message"] for t in b_tests), b_tests
    for name in ("a", "c"):
        tests = [t for row in data["per_host"][name]["claims"] for t in row["tests"]]
        assert hosts[name]["exit_code"] in (0, 1, 10), hosts[name]
        assert tests and all(t["outcome"] in ("passed", "failed") for t in tests), (name, tests)
        assert data["per_host"][name]["state"]["violated"] is False, data["per_host"][name]["state"]
    _RESULTS["lost after kill s"] = round(after_kill, 1)
    print(f"fleet: b lost, run over {after_kill:.1f} s after the kill (bound {BOUND} s)")


def _kill_once_busy(box, name: str, proc: subprocess.Popen) -> float:
    """SIGKILL host ``name``'s dockerd once a test of the run has made a container there."""
    fleet = box.fleet
    tls = fleet.client_tls
    deadline = time.monotonic() + 600
    with closing(connect(fleet.hosts[name].url, tls=Tls(tls["ca"], tls["cert"], tls["key"]), timeout=10)) as client:
        while time.monotonic() < deadline and proc.poll() is None:
            if client.api.containers(all=True, filters={"label": [f"{RUN}"]}):
                break
            time.sleep(0.2)
    fleet.kill(name)
    return time.monotonic()


def _ci_matrix(box, tmp_path: Path, claims: list[str] | None) -> dict:
    """One run per host at once, as a CI matrix's jobs, each with DOCKER_HOST and TLS as for
    any docker client; then the merge."""
    fleet = box.fleet
    jobs = {name: _conformance(["--profile", "smoke", "-n", "2", "--registry", fleet.registry.address,
                                "--hosts", "local://", *_selection(claims)], tmp_path / name, fleet.single_env(name))
            for name in HOSTS}
    finished = {name: _finish(proc) for name, proc in jobs.items()}
    for name, (code, out, err) in finished.items():
        assert code in (0, 1, 10), f"{name}: " + _describe(code, out, err)
        assert "@" not in "".join(t["nodeid"] for row in _summary(tmp_path / name)["claims"] for t in row["tests"])
    merged = tmp_path / "merged"
    done = subprocess.run([str(PROJECT / "conformance-merge"), "--reports-dir", str(merged), "--no-html",
                           *(f"{name}={tmp_path / name}" for name in HOSTS)], capture_output=True, text=True)
    data = _summary(merged)
    assert done.returncode == data["exit_code"] == worst(c for c, _, _ in finished.values()), done.stdout + done.stderr
    verified = subprocess.run([str(PROJECT / "conformance-verify"), str(merged)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    junit = (merged / "junit.xml").read_text()
    assert all(f"docker-conformance@{name}" in junit and f"@{name}]" in junit for name in HOSTS)
    suites = set()
    for path in (merged / "allure-results").glob("*-result.json"):
        suites |= {label["value"] for label in json.loads(path.read_text())["labels"] if label["name"] == "parentSuite"}
    assert suites == set(HOSTS), suites
    return data


def _compare_with_one_run(merged: dict, claims: list[str] | None) -> None:
    one_run = _RESULTS.get("one run")
    if one_run is None:
        pytest.skip("the one-run fleet test did not run in this session: nothing to compare with")
    wanted = set(claims) if claims else None
    assert _matrix(merged, wanted) == _matrix(one_run, wanted), (_matrix(merged, wanted), _matrix(one_run, wanted))
    assert _matrix(merged, wanted)["LW-1"] == _as_odd("pass", "fail")


def test_ci_matrix_and_merge_give_the_same_matrix(box, tmp_path):
    """Separate runs (one per host, at once, as a CI matrix's jobs) merged give the matrix of
    the one run, claim by claim (a few claims by default; the whole smoke profile in the
    thorough mode)."""
    started = time.monotonic()
    merged = _ci_matrix(box, tmp_path, CLAIMS)
    print(f"fleet: CI matrix of {len(HOSTS)} concurrent runs and the merge took {time.monotonic() - started:.0f} s")
    _compare_with_one_run(merged, CLAIMS)


def test_nothing_is_left_behind(box):
    """After the runs: no object with a run's label on any host; after the fleet: no daemon,
    namespace, veth, bridge, iptables rule, mount, process or file of it on this machine."""
    fleet = box.fleet
    tls = fleet.client_tls
    for name, host in fleet.hosts.items():
        with closing(connect(host.url, tls=Tls(tls["ca"], tls["cert"], tls["key"]), timeout=30)) as client:
            flt = {"label": [RUN]}
            found = {"containers": client.api.containers(all=True, filters=flt),
                     "images": client.api.images(all=True, filters=flt),
                     "volumes": (client.api.volumes(filters=flt) or {}).get("Volumes") or [],
                     "networks": client.api.networks(filters=flt)}
            assert not any(found.values()), f"{name}: {found}"
    root = fleet.run_dir.path
    box.close()
    after = host_snapshot.take()
    diff = host_snapshot.diff(box.before, after, box.own)
    assert not any(diff["left"].values()), diff["left"]
    assert not root.exists(), f"{root} is still there"
