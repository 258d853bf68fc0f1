"""The audit outputs from a summary, without an engine: compliance coverage, OSCAL (valid
against NIST's schema, and the schema really checks), SARIF (valid, every result located),
What to do, and the comparison of two runs. The signed results have their own file
(unit/test_reporting_attestation.py); an end-to-end run is in test_audit_evidence.py.
"""

from __future__ import annotations

import copy
import hashlib
import time

import pytest

from fixtures.ledger.claims import load
from fixtures.reporting import compare, coverage, oscal, sarif, schema_validation, summary
from fixtures.reporting.outcomes import TestOutcome as Outcome
from selftests.conftest import PROJECT

SEC4 = "suites/secure/test_default_isolation_findings.py::"
ICC = SEC4 + "test_default_bridge_keeps_containers_apart[SEC-4]"
SOCKET = SEC4 + "test_api_socket_is_not_open_to_everyone[SEC-4]"
SECCOMP = SEC4 + "test_system_calls_are_filtered_by_default[SEC-4]"
LIVE = SEC4 + "test_live_restore_is_enabled[SEC-4]"
HOST9 = "suites/host/test_storage.py::test_data_root_free_space[HOST-9]"
HOST7 = "suites/host/test_daemon_settings.py::test_tcp_listeners_require_tls[HOST-7]"
PID = "suites/secure/test_isolation_from_one_another.py::test_namespace_is_private[SEC-1-pid]"
SUITE = {"commit": "0" * 40, "describe": "f2c1038", "modified": False}


@pytest.fixture(scope="module")
def ledger():
    return load(PROJECT)


def outcome(nodeid: str, result: str = "passed", severity: str = "minor", **extra) -> Outcome:
    claim = nodeid.rsplit("[", 1)[1].split("-", 2)
    return Outcome(nodeid, f"{claim[0]}-{claim[1].rstrip(']')}", severity, result, finished=time.time(), **extra)


def make_summary(ledger, outcomes: list[Outcome], exit_code: int = 10) -> dict:
    return summary.build(ledger, outcomes, run={"id": "20260101T000000-abc", "profile": "audit", "gate": "major",
                                                 "accept_partial": False, "host": "build-7", "waivers": None},
                         facts={"engine": "Docker Engine 20.10.24", "engine.url": "unix:///run/docker.sock",
                                "api": "1.41", "kernel": "6.1", "os": "linux/x86_64", "os.distribution": "Debian"},
                         thresholds={"history_tolerance_pct": 20.0}, exit_code=exit_code,
                         exit_meaning="failures below the gate only", state={"line": "no change"})


@pytest.fixture
def failing(ledger) -> dict:
    return make_summary(ledger, [
        outcome(ICC, "failed", message="finding (minor): enable_icc=true", concerns="/etc/docker/daemon.json"),
        outcome(SOCKET, "passed", "major"), outcome(SECCOMP, "passed", "major"),
        outcome(LIVE, "failed", "advisory", message="finding (advisory): off",
                waiver={"state": "waived", "expires": "2099-12-31", "check": "SEC-4", "justification": "OPS-1"}),
        outcome(HOST7, "not applicable", "blocker", message="no tcp socket"),
        outcome(HOST9, "failed", "major", message="/var/lib/docker has 3.0 GB free",
                figures={"data-root free": {"value": 3.0, "unit": "GB", "better": "higher"}}),
        outcome(PID, "passed", "blocker")])


def test_coverage_counts_per_framework(failing):
    cis = failing["compliance"]["cis-docker-1.8.0"]
    status = {c["id"]: c["status"] for c in cis["controls"]}
    assert status["2.2"] == "fail" and status["2.16"] == "waived" and status["2.8"] == "not applicable"
    assert status["3.15"] == status["3.16"] == status["5.16"] == "pass"
    assert status["5.22"] == "pass"  # SEC-4's seccomp-profile ran; SEC-2's checks were not selected
    assert status["5.4"] == "not run"
    assert (cis["total"], cis["mapped"]) == (118, 20)
    assert cis["evidenced"] == 6 and cis["passed"] == 4 and cis["failed"] == 1
    assert "1.1.1" in cis["not_evidenced"] and "2.2" not in cis["not_evidenced"]


def test_partial_when_some_checks_of_a_control_did_not_run(ledger):
    data = make_summary(ledger, [outcome(ICC, "passed"),
                                 outcome("suites/secure/test_isolation_from_one_another.py::"
                                         "test_default_bridge_separates_containers[SEC-1]", "not run")])
    assert coverage.control_status(ledger, [], "cis-docker-1.6.0", "2.2")["status"] == "not run"
    assert {c["id"]: c["status"] for c in data["compliance"]["cis-docker-1.6.0"]["controls"]}["2.2"] == "partial"


def test_summary_md_ends_with_coverage_and_what_to_do(failing):
    text = summary.render_markdown(failing)
    assert text.index("## Compliance coverage") < text.index("## What to do")
    assert "| CIS Docker Benchmark v1.8.0 | 118 | 20 | 6 | 4 | 1 |" in text
    what = text[text.index("## What to do"):]
    assert 'Set "icc": false in daemon.json' in what and "in `/etc/docker/daemon.json`" in what
    assert "(advisory, waived)" in what and "data-root" in what
    assert [f["check"] for f in failing["what_to_do"]] == [
        "test_default_bridge_keeps_containers_apart[SEC-4]", "test_live_restore_is_enabled[SEC-4]",
        "test_data_root_free_space[HOST-9]"]
    assert all(f["do"] and f["impact"] for f in failing["what_to_do"])


def test_oscal_document_validates_and_maps_verdicts_honestly(failing, ledger):
    doc = oscal.build(failing, ledger, {ICC: [{"name": "icc setting", "href": "allure-results/a.json",
                                                "sha256": "ab" * 32}]}, SUITE, time.time())
    assert schema_validation.oscal_problems(doc) == []
    result = doc["assessment-results"]["results"][0]
    assert len(result["observations"]) == 7
    icc = next(o for o in result["observations"] if o["title"].endswith("test_default_bridge_keeps_containers_apart[SEC-4]"))
    assert icc["methods"] == ["TEST"] and {s["type"] for s in icc["subjects"]} == {"component", "inventory-item"}
    assert any(e["href"] == "allure-results/a.json" for e in icc["relevant-evidence"])
    claims = {f["target"]["target-id"]: f["target"]["status"] for f in result["findings"]
              if f["target"]["target-id"] in ("SEC-4", "HOST-7", "HOST-9", "SEC-1", "ENG-1")}
    assert claims["SEC-1"] == {"state": "satisfied", "reason": "pass"}
    assert claims["SEC-4"] == claims["HOST-9"] == {"state": "not-satisfied", "reason": "fail"}
    assert claims["HOST-7"] == claims["ENG-1"] == {"state": "not-satisfied", "reason": "other"}  # n/a, not run
    controls = {f["target"]["target-id"] for f in result["findings"] if "_" in f["target"]["target-id"]}
    assert "cis-docker-1.8.0_2.10" in controls and "nist-sp-800-190_4.4.3" in controls
    selections = result["reviewed-controls"]["control-selections"]
    assert len(selections) == 4 and all("exclude-controls" in s for s in selections)


@pytest.mark.parametrize("break_it, where", [
    (lambda r: r["findings"][0]["target"]["status"].__setitem__("state", "passed"), "state"),
    (lambda r: r["findings"][0]["target"].__setitem__("target-id", "SEC 1"), "target-id"),
    (lambda r: r.__setitem__("start", "2026-01-01T00:00:00"), "start"),
    (lambda r: r.__setitem__("extra", 1), "extra"),
], ids=["state", "token", "timezone", "unknown-key"])
def test_oscal_schema_catches_what_it_must(failing, ledger, break_it, where):
    doc = oscal.build(failing, ledger, {}, SUITE, time.time())
    broken = copy.deepcopy(doc)
    break_it(broken["assessment-results"]["results"][0])
    problems = schema_validation.oscal_problems(broken)
    assert problems and any(where in p for p in problems), problems


def test_sarif_log_validates_with_a_location_for_every_result(failing, ledger):
    log = sarif.build(failing, ledger, PROJECT, SUITE)
    assert schema_validation.sarif_problems(log) == []
    run = log["runs"][0]
    assert len(run["tool"]["driver"]["rules"]) == 7
    results = {r["ruleId"]: r for r in run["results"]}
    assert set(results) == {ICC, LIVE, HOST9}
    assert results[ICC]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///etc/docker/daemon.json"
    host9 = results[HOST9]["locations"][0]["physicalLocation"]
    assert host9["artifactLocation"]["uri"] == "suites/host/test_storage.py" and host9["region"]["startLine"] > 1
    assert results[LIVE]["suppressions"][0]["status"] == "accepted" and results[LIVE]["level"] == "note"
    rule = run["tool"]["driver"]["rules"][results[ICC]["ruleIndex"]]
    assert 'Set "icc": false' in rule["help"]["text"] and "CIS Docker Benchmark v1.8.0 2.2" in rule["help"]["text"]


def test_sarif_checks_find_a_result_without_a_location(failing, ledger):
    log = sarif.build(failing, ledger, PROJECT, SUITE)
    del log["runs"][0]["results"][0]["locations"]
    assert any("no location" in p for p in schema_validation.sarif_problems(log))
    log["runs"][0]["results"][0]["level"] = "critical"
    assert any("critical" in p for p in schema_validation.sarif_problems(log))


def test_compare_reports_new_fixed_and_moved(failing, ledger):
    before = make_summary(ledger, [outcome(ICC, "failed", message="x"), outcome(HOST9, "passed", "major",
                                   figures={"data-root free": {"value": 30.0, "unit": "GB", "better": "higher"}}),
                                   outcome(PID, "failed", "blocker", message="shared")])
    diff = compare.compare(before, failing)
    assert [n["nodeid"] for n in diff["new_failures"]] == [HOST9]
    assert [n["nodeid"] for n in diff["fixed"]] == [PID]
    assert [n["nodeid"] for n in diff["still_failing"]] == [ICC]
    assert [n["nodeid"] for n in diff["not_comparable"]] == [LIVE]  # did not run before
    assert {"claim": "HOST-9", "before": "pass", "after": "fail"} in diff["verdicts"]
    assert [(m["figure"], m["assessment"]) for m in diff["figures"]] == [("data-root free", "regression")]
    same = compare.compare(failing, failing)
    assert not (same["verdicts"] or same["new_failures"] or same["fixed"] or same["figures"] or same["scope"])


def test_compare_cli_exit_codes(failing, ledger, tmp_path, capsys):
    import json
    before = make_summary(ledger, [outcome(HOST9, "passed", "major")])
    (tmp_path / "a.json").write_text(json.dumps(before))
    (tmp_path / "b.json").write_text(json.dumps(failing))
    assert compare.main([str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    assert compare.main([str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--fail-on-new"]) == 1
    assert compare.main([str(tmp_path / "b.json"), str(tmp_path / "a.json"), "--fail-on-new"]) == 0
    (tmp_path / "c.json").write_text("{}")
    assert compare.main([str(tmp_path / "a.json"), str(tmp_path / "c.json")]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"conformance-compare: {tmp_path / 'c.json'} is not a conformance run's summary.json (no run "
                   "and claims)"]


@pytest.mark.parametrize("name, sha256", [
    ("oscal_assessment-results_schema-1.1.3.json", "d9e34757f0c12aff61f52b821f0b8f83ba0ba75b3a149a202b08ba82f82bc4c3"),
    ("sarif-schema-2.1.0.json", "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"),
])
def test_vendored_schemas_are_the_published_ones(name, sha256):
    assert hashlib.sha256((schema_validation.SCHEMAS / name).read_bytes()).hexdigest() == sha256


def test_a_run_with_no_tests_still_gives_valid_documents(ledger):
    empty = make_summary(ledger, [], exit_code=5)
    assert schema_validation.oscal_problems(oscal.build(empty, ledger, {}, SUITE, time.time())) == []
    assert schema_validation.sarif_problems(sarif.build(empty, ledger, PROJECT, SUITE)) == []
