"""The gate and the waivers, end to end on the real engine.

A deterministic major failure comes from a weakened setting: HOST-9 (major) with a
data-root free-space minimum no disk meets. The gate decides the exit code from it; a valid
waiver turns it into "waived" in every report; an expired waiver, or one for another host,
waives nothing (the expired waiver is the negative control of waiving).
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest

from fixtures.core.exitcodes import Exit

TEST = "suites/host/test_storage.py::test_data_root_free_space"
NODE = f"{TEST}[HOST-9]"
FAILING = (TEST, "--profile", "audit", "--threshold", "host_data_root_min_free_gb=1000000")
JUSTIFICATION = "the build farm's disks are sized by the storage team, ticket OPS-1234"


def _waivers(tmp_path, **entry) -> str:
    path = tmp_path / "waivers.yaml"
    fields = {"check": "HOST-9", "justification": JUSTIFICATION, "expires": "2099-12-31", **entry}
    path.write_text("waivers:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items()) + "\n")
    return str(path)


def _junit_case(run) -> ET.Element:
    cases = [c for c in ET.parse(run.reports / "junit.xml").getroot().iter("testcase")
             if c.get("name") == "test_data_root_free_space[HOST-9]"]
    assert len(cases) == 1, run.describe()
    return cases[0]


def _allure_result(run) -> dict:
    results = [json.loads(p.read_text()) for p in (run.reports / "allure-results").glob("*-result.json")]
    mine = [r for r in results if r["name"].endswith("[HOST-9]")]
    assert len(mine) == 1, run.describe()
    return mine[0]


@pytest.mark.parametrize("gate, exit_code", [("major", Exit.GATE_FAILED), ("minor", Exit.GATE_FAILED),
                                             ("blocker", Exit.BELOW_GATE)])
def test_gate_decides_the_exit_code_of_a_major_failure(suite, gate, exit_code):
    run = suite(*FAILING, "--gate", gate)
    assert run.exit_code == exit_code, run.describe()
    assert run.verdicts()["HOST-9"] == "fail"
    side = "at_or_above" if exit_code == Exit.GATE_FAILED else "below"
    assert run.summary["gate"][side] == [NODE], run.summary["gate"]


@pytest.mark.parametrize("check", ["HOST-9", TEST, NODE], ids=["claim", "test", "node"])
def test_valid_waiver_shows_as_waived_in_every_report(suite, tmp_path, check):
    run = suite(*FAILING, "--waivers", _waivers(tmp_path, check=f"'{check}'"))
    assert run.exit_code == Exit.PASSED, run.describe()
    assert run.verdicts()["HOST-9"] == "waived"
    test = run.tests()[NODE]
    assert test["outcome"] == "failed" and "GB free" in test["message"], test
    assert test["waiver"]["justification"] == JUSTIFICATION and test["waiver"]["check"] == check
    summary_md = (run.reports / "summary.md").read_text()
    assert f"**waived** until 2099-12-31 ({check}): {JUSTIFICATION}" in summary_md
    assert run.summary["gate"]["waived"] == [NODE] and run.summary["gate"]["at_or_above"] == []
    skipped = _junit_case(run).find("skipped")
    assert skipped is not None and skipped.get("type") == "pytest.xfail", ET.tostring(_junit_case(run))
    assert JUSTIFICATION in skipped.get("message")
    allure = _allure_result(run)
    assert allure["status"] == "skipped"
    assert allure["statusDetails"]["message"].startswith(f"XFAIL waived until 2099-12-31 ({check}): {JUSTIFICATION}")
    assert {"name": "tag", "value": "waived"} in allure["labels"]


def test_expired_waiver_does_not_waive(suite, tmp_path):
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    run = suite(*FAILING, "--waivers", _waivers(tmp_path, expires=yesterday))
    assert run.exit_code == Exit.GATE_FAILED, run.describe()
    assert run.verdicts()["HOST-9"] == "fail"
    test = run.tests()[NODE]
    assert test["waiver"] is None and test["expired_waiver"]["expires"] == yesterday, test
    assert f"waiver **expired** {yesterday} (HOST-9), does not waive" in (run.reports / "summary.md").read_text()
    assert run.summary["gate"]["expired_waivers"] == [NODE]
    assert _junit_case(run).find("failure") is not None


def test_waiver_for_another_host_does_not_waive(suite, tmp_path):
    run = suite(*FAILING, "--waivers", _waivers(tmp_path, host="some-other-host"))
    assert run.exit_code == Exit.GATE_FAILED, run.describe()
    test = run.tests()[NODE]
    assert test["waiver"] is None and test["expired_waiver"] is None, test


@pytest.mark.parametrize("text, fragment", [
    ("waivers: [\n", "not YAML"),
    ("- check: HOST-9\n", "expected a top-level 'waivers:' list"),
    ("waivers:\n  - check: HOST-9\n    expires: 2099-12-31\n", "lacks justification"),
    ("waivers:\n  - check: HOST-9\n    justification: x\n    expires: someday\n", "is not a date"),
    ("waivers:\n  - check: HOST-999\n    justification: x\n    expires: 2099-12-31\n", "HOST-999 is not a claim"),
    ("waivers:\n  - check: suites/nowhere.py::test_x\n    justification: x\n    expires: 2099-12-31\n",
     "neither a claim ID nor a test"),
    ("waivers:\n  - check: HOST-9\n    justification: x\n    expires: 2099-12-31\n    owner: me\n",
     "unknown field owner"),
    ("waivers:\n  - check: HOST-9\n    justification: '  '\n    expires: 2099-12-31\n", "non-empty"),
], ids=["not-yaml", "no-list", "no-justification", "bad-date", "unknown-claim", "unknown-test",
        "unknown-field", "empty-justification"])
def test_malformed_waivers_file_is_a_usage_error(suite, tmp_path, text, fragment):
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    run = suite("--waivers", str(path))
    assert run.exit_code == Exit.USAGE, run.describe()
    errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and fragment in errors[0] and "Traceback" not in run.stderr, run.describe()
    assert run.summary is None, "no test may run with a malformed waivers file"


def test_missing_waivers_file_is_a_usage_error(suite, tmp_path):
    run = suite("--waivers", str(tmp_path / "absent.yaml"))
    assert run.exit_code == Exit.USAGE and "absent.yaml does not exist" in run.stderr, run.describe()
