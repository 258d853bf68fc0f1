"""Audit evidence end to end: two real runs of the suite, checked as an auditor would.

Run A checks SEC-4's daemon defaults and HOST-9 (the audit profile, so that findings and a
host check are in it) with the HTML report and a signing key of the user's; run B is the
same with HOST-9's free-space minimum out of any disk's reach, so that exactly one check
fails in B that passed in A. Then:

- A's signed results verify (with the user's key pinned), and a one-byte edit to any signed
  file, or to an Allure attachment the OSCAL file vouches for, is caught and named;
- the OSCAL file validates against NIST's schema, the SARIF file against SARIF 2.1.0;
- ./conformance-compare reports exactly the one difference, and --fail-on-new gates on it;
- summary.md ends with compliance coverage and What to do, and the Allure stories are English.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from fixtures.reporting import attestation, schema_validation
from selftests.conftest import PROJECT

pytestmark = pytest.mark.engine

CHECKS = ("-k", "SEC-4 or HOST-9", "--profile", "audit")
HOST9 = "suites/host/test_storage.py::test_data_root_free_space[HOST-9]"


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory):
    key = ed25519.Ed25519PrivateKey.generate()
    where = tmp_path_factory.mktemp("key")
    (where / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    (where / "key.pub.pem").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return where


@pytest.fixture(scope="module")
def run_a(suite, signing_key):
    run = suite(*CHECKS, "--threshold", "host_data_root_min_free_gb=0", "--signing-key",
                str(signing_key / "key.pem"), html=True)
    assert run.summary and run.tests()[HOST9]["outcome"] == "passed", run.describe()
    return run


@pytest.fixture(scope="module")
def run_b(suite):
    run = suite(*CHECKS, "--threshold", "host_data_root_min_free_gb=1000000")
    assert run.summary and run.tests()[HOST9]["outcome"] == "failed", run.describe()
    return run


def tool(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PROJECT / name), *args], capture_output=True, text=True, timeout=300)


def test_signed_results_verify_with_the_users_key(run_a, signing_key):
    done = tool("conformance-verify", str(run_a.reports), "--key", str(signing_key / "key.pub.pem"))
    assert done.returncode == 0, done.stderr
    signed = [s["name"] for s in attestation.payload_of(run_a.reports)["subject"]]
    assert signed == list(attestation.SUBJECTS), "every report file of a run with HTML is signed"
    assert f"verified: {len(signed)} files" in done.stdout and "Allure attachments match" in done.stdout
    assert (run_a.reports / attestation.PUBLIC_KEY).read_bytes() == (signing_key / "key.pub.pem").read_bytes()


def test_a_run_without_html_signs_what_it_wrote(run_b):
    """An earlier run's report.html may lie in the folder; a run that made none must not sign it."""
    signed = [s["name"] for s in attestation.payload_of(run_b.reports)["subject"]]
    assert signed == [n for n in attestation.SUBJECTS if n != "report.html"]
    done = tool("conformance-verify", str(run_b.reports))
    assert done.returncode == 0 and "key from attestation.pub.pem" in done.stdout, done.stderr


def test_one_byte_edit_to_any_signed_file_is_caught_and_named(run_a, tmp_path):
    for name in attestation.SUBJECTS:
        copy = tmp_path / name.replace(".", "-")
        copy.mkdir()
        for kept in (*attestation.SUBJECTS, attestation.ENVELOPE, attestation.PUBLIC_KEY):
            shutil.copy(run_a.reports / kept, copy / kept)
        data = bytearray((copy / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (copy / name).write_bytes(bytes(data))
        done = tool("conformance-verify", str(copy))
        assert done.returncode == 21, (name, done.stdout, done.stderr)
        assert done.stderr.strip().splitlines() == [
            f"conformance-verify: {name} was changed after the run: its sha256 is not the signed one"]


def test_edited_evidence_attachment_is_caught(run_a, tmp_path):
    copy = tmp_path / "reports"
    shutil.copytree(run_a.reports, copy, ignore=shutil.ignore_patterns("html", "history"))
    document = json.loads((copy / "assessment-results.oscal.json").read_text())
    evidence = [e["href"] for o in document["assessment-results"]["results"][0]["observations"]
                for e in o["relevant-evidence"] if e["href"].startswith("allure-results/")]
    assert evidence, "the OSCAL file names no Allure attachment"
    with (copy / evidence[0]).open("ab") as handle:
        handle.write(b" ")
    done = tool("conformance-verify", str(copy))
    assert done.returncode == 21 and f"{evidence[0]} was changed after the run" in done.stderr, done.stderr


def test_oscal_assessment_results_validate(run_a):
    document = json.loads((run_a.reports / "assessment-results.oscal.json").read_text())
    assert schema_validation.oscal_problems(document) == []
    result = document["assessment-results"]["results"][0]
    assert len(result["observations"]) == len(run_a.tests())
    assert all(o["methods"] == ["TEST"] and o["collected"] for o in result["observations"])
    claims = [f for f in result["findings"] if "_" not in f["target"]["target-id"]]
    assert [f["target"]["target-id"] for f in claims] == list(run_a.verdicts())


def test_sarif_validates_with_a_location_for_each_failure(run_b):
    log = json.loads((run_b.reports / "conformance.sarif").read_text())
    assert schema_validation.sarif_problems(log) == []
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert set(results) == set(run_b.outcomes("failed")) | set(run_b.outcomes("error"))
    uri = {n: r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n, r in results.items()}
    assert uri[HOST9] == "suites/host/test_storage.py"
    # SEC-4's daemon settings point at the daemon's configuration file (MAC confinement is the
    # host's, not a daemon.json setting, so it points at its test).
    daemon = [n for n in uri if "SEC-4" in n and "socket" not in n and "confined_by_mac" not in n]
    assert daemon and all(uri[n].startswith("file:///") and uri[n].endswith(".json") for n in daemon), uri


def test_compare_reports_exactly_the_one_difference(run_a, run_b):
    done = tool("conformance-compare", str(run_a.reports / "summary.json"), str(run_b.reports / "summary.json"),
                "--json")
    assert done.returncode == 0, done.stderr
    diff = json.loads(done.stdout)
    assert diff["verdicts"] == [{"claim": "HOST-9", "before": "pass", "after": "fail"}], diff
    assert [f["nodeid"] for f in diff["new_failures"]] == [HOST9]
    assert diff["fixed"] == diff["not_comparable"] == diff["figures"] == [], diff
    gate = tool("conformance-compare", str(run_a.reports / "summary.json"), str(run_b.reports / "summary.json"),
                "--fail-on-new")
    assert gate.returncode == 1 and f"{HOST9} (major, failed)" in gate.stdout, gate.stdout + gate.stderr
    back = tool("conformance-compare", str(run_b.reports / "summary.json"), str(run_a.reports / "summary.json"),
                "--fail-on-new")
    assert back.returncode == 0 and "Fixed (A failed, B passes): 1" in back.stdout, back.stdout


def test_summary_says_coverage_and_what_to_do(run_b):
    text = (run_b.reports / "summary.md").read_text()
    coverage = text[text.index("## Compliance coverage"):]
    assert "| CIS Docker Benchmark v1.8.0 | 118 | 20 |" in coverage and "Not evidenced by any claim" in coverage
    what = text[text.index("## What to do"):]
    assert "`test_data_root_free_space[HOST-9]` (major, failed)" in what and "Impact:" in what
    assert all(f["do"] for f in run_b.summary["what_to_do"])


def test_allure_stories_are_english_and_keep_the_documents_heading(run_a):
    results = [json.loads(p.read_text()) for p in (run_a.reports / "allure-results").glob("*-result.json")]
    sec4 = [r for r in results if "[SEC-4]" in r["name"]]
    assert sec4
    for result in sec4:
        story = next(label["value"] for label in result["labels"] if label["name"] == "story")
        assert story == "SEC-4: The engine SHOULD provide the strongest default isolation"
        assert "「安全」" in result["description"] and "what to do" in result["description"]


def test_unusable_signing_key_is_a_usage_error(suite, tmp_path):
    (tmp_path / "key.pem").write_text("not a key\n")
    run = suite("--signing-key", str(tmp_path / "key.pem"))
    errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR:")]
    assert run.exit_code == 4 and len(errors) == 1 and "not a usable PEM private key" in errors[0], run.describe()
    assert run.summary is None
