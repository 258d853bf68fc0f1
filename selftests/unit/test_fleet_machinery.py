"""The fleet's machinery without engines: targets files, node ids with the target, the worst
exit code, the fleet's summary (matrix, figures side by side, the odd host), the scheduler's
work units, and the merge's rewriting of a run's results as a fleet host's."""

from __future__ import annotations

import json

import pytest

from fixtures.core.exitcodes import Exit, worst
from fixtures.engine import targets
from fixtures.engine.target import Target
from fixtures.registry.reach import unreachable_from
from fixtures.reporting import fleet_summary, merge
from fixtures.session import fleet


def test_engines_named_from_their_urls_and_kept_apart():
    specs = targets.from_engines(["unix:///run/podman/podman.sock", "tcp://10.0.0.7:2376", "sandbox", "sandbox",
                                  "b7=ssh://ops@build-7"])
    assert [s.name for s in specs] == ["podman", "10.0.0.7", "sandbox", "sandbox-2", "b7"]
    assert specs[-1].url == "ssh://ops@build-7"
    assert targets.resolve((), None) == ([targets.TargetSpec("default", None, "default")], False)
    assert targets.resolve(("unix:///x.sock",), None)[1] is False
    assert targets.resolve(("a=unix:///x.sock", "b=unix:///y.sock"), None)[1] is True


def test_targets_file_with_tls_hosts_and_waivers(tmp_path):
    for name in ("ca.pem", "cert.pem", "key.pem", "w.yaml"):
        (tmp_path / name).write_text("x")
    path = tmp_path / "fleet.yaml"
    path.write_text("targets:\n  - name: build-7\n    url: tcp://10.0.0.7:2376\n"
                    "    tls: {ca: ca.pem, cert: cert.pem, key: key.pem}\n    hosts: ssh://ops@build-7\n"
                    "    waivers: w.yaml\n  - name: local\n    url: unix:///var/run/docker.sock\n")
    specs, in_fleet = targets.resolve((), path)
    assert in_fleet and [s.name for s in specs] == ["build-7", "local"]
    assert specs[0].tls.ca == str(tmp_path / "ca.pem") and specs[0].hosts == "ssh://ops@build-7"
    assert specs[0].waivers == tmp_path / "w.yaml" and specs[1].tls is None
    with pytest.raises(targets.TargetsError, match="not both"):
        targets.resolve(("unix:///x.sock",), path)


def test_one_target_in_a_file_is_still_a_fleet(tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text("targets:\n  - name: solo\n    url: unix:///x.sock\n")
    assert targets.resolve((), path)[1] is True


def test_node_ids_carry_the_target():
    nodeid = "suites/x.py::test_y[SEC-1-pid@build-7]"
    assert fleet.nodeid_target(nodeid) == "build-7"
    assert fleet.base_nodeid(nodeid) == "suites/x.py::test_y[SEC-1-pid]"
    assert fleet.with_target("suites/x.py::test_y[SEC-1-pid]", "build-7") == nodeid
    assert fleet.nodeid_target("suites/x.py::test_y[SEC-1-pid]") is None


def test_the_worst_exit_code_of_the_hosts():
    assert worst([0, 10, 1]) == Exit.GATE_FAILED
    assert worst([0, 1, 13]) == Exit.HOST_STATE_VIOLATED
    assert worst([1, 14, 11]) == Exit.ENGINE_LOST
    assert worst([0, 11]) == Exit.ENGINE_UNREACHABLE
    assert worst([]) == Exit.PASSED


def test_the_run_registry_is_not_reached_from_another_machine():
    owned = {"address": "127.0.0.1:5000", "owned": True}
    assert unreachable_from(owned, Target("unix:///x.sock", "--engine", False, "1.41")) == ""
    assert unreachable_from(owned, Target("tcp://127.0.0.1:2375", "--engine", False, "1.41")) == ""
    why = unreachable_from(owned, Target("tcp://10.0.0.7:2376", "--targets", False, "1.41"))
    assert "loopback" in why and "--registry" in why
    assert unreachable_from({"address": "10.0.0.1:5000", "owned": False},
                            Target("tcp://10.0.0.7:2376", "--targets", False, "1.41")) == ""


def test_machines_of_targets():
    assert Target("unix:///x.sock", "", False, "1.41").machine == "local"
    assert Target("tcp://127.0.0.1:2375", "", False, "1.41").machine == "local"
    assert Target("tcp://10.0.0.7:2376", "", False, "1.41").machine == "10.0.0.7"
    assert Target("ssh://ops@build-7", "", False, "1.41").machine == "build-7"


def _host(verdicts: dict[str, str], figures: dict[str, dict] | None = None, code: int = 0) -> dict:
    return {"run": {"id": "r", "profile": "smoke", "gate": "major"}, "engine": {"engine": "Docker"},
            "exit_code": code, "exit_meaning": "x", "totals": {}, "state": {"line": "ok"},
            "claims": [{"id": cid, "chapter": "c", "severity": "major", "claim": "...", "verdict": verdict,
                        "tests": [], "figures": (figures or {}).get(cid, {})} for cid, verdict in verdicts.items()]}


def test_fleet_summary_matrix_and_the_odd_host():
    start = lambda ms: {"LW-2": {"start p50": {"value": ms, "unit": "ms"}, "spawns": {"value": ms, "unit": ""}}}
    hosts = {"a": _host({"LW-1": "pass", "LW-2": "pass"}, start(300)),
             "b": _host({"LW-1": "pass", "LW-2": "pass"}, start(320)),
             "c": _host({"LW-1": "fail", "LW-2": "pass"}, start(900), code=1)}
    data = fleet_summary.build(hosts, run={"id": "r", "profile": "smoke", "gate": "major"}, meaning={1: "failed"})
    assert data["exit_code"] == 1 and data["exit_meaning"] == "failed"
    rows = {row["id"]: row for row in data["matrix"]}
    assert rows["LW-1"]["agree"] is False and rows["LW-2"]["agree"] is True
    figures = {f["figure"]: f for f in data["figures"]}
    assert figures["start p50"]["odd"] == ["c"] and figures["spawns"]["odd"] == []  # no unit: not judged
    text = fleet_summary.render_markdown(data)
    assert "| **LW-1** | major | PASS | PASS | FAIL | **no** |" in text and "**900 ms**" in text


def test_scheduler_deals_each_targets_tests_to_its_own_workers():
    from fixtures.session.scheduling import units

    ids = [f"t.py::test_{i}[X-1@{t}]" for t in ("a", "b") for i in range(4)]
    made = units(ids, workers=4, targets=2)
    assert [made[n] for n in ids] == ["a#0", "a#1", "a#0", "a#1", "b#0", "b#1", "b#0", "b#1"]
    assert set(units(ids, workers=1, targets=2).values()) == {"a#0", "b#0"}  # fewer workers than targets


def test_merge_rewrites_a_runs_results_as_a_fleet_hosts(tmp_path):
    result = {"name": "test_y[SEC-1]", "historyId": "h", "parameters": [{"name": "claim_id", "value": "'SEC-1'"}],
              "labels": [{"name": "parentSuite", "value": "suites.secure"},
                         {"name": "nodeid", "value": "suites/x.py::test_y[SEC-1]"}]}
    made = merge._result(json.loads(json.dumps(result)), "b7")
    assert made["name"] == "test_y[SEC-1@b7]" and made["historyId"] != "h"
    assert {"name": "parentSuite", "value": "b7"} in made["labels"]
    assert {"name": "nodeid", "value": "suites/x.py::test_y[SEC-1@b7]"} in made["labels"]
    assert [p["name"] for p in made["parameters"]] == ["claim_id", "conformance_target"]
    summary = _host({"LW-1": "pass"})
    summary["claims"][0]["tests"] = [{"nodeid": "suites/x.py::test_y[LW-1]"}]
    assert merge._as_host(summary, "b7")["claims"][0]["tests"][0]["nodeid"] == "suites/x.py::test_y[LW-1@b7]"


def test_merge_refuses_what_is_not_a_run(tmp_path, capsys):
    assert merge.main(["--reports-dir", str(tmp_path / "out"), str(tmp_path)]) == 4
    assert "no summary.json" in capsys.readouterr().err


def test_an_unreachable_host_does_not_make_every_claim_differ():
    hosts = {"a": _host({"LW-1": "pass", "LW-2": "pass"}), "c": _host({"LW-1": "fail", "LW-2": "pass"}, code=1),
             "gone": _host({"LW-1": "not run", "LW-2": "not run"}, code=11)}
    data = fleet_summary.build(hosts, run={"id": "r"}, meaning={}, unreachable={"gone": "unreachable: no answer"})
    assert [row["id"] for row in data["matrix"] if not row["agree"]] == ["LW-1"]
    assert data["exit_code"] == 11
