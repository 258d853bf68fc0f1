"""Signed results without an engine: the statement, the envelope, and conformance-verify's
verdicts and exit codes on edited, missing and re-signed files, with every key kind."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fixtures.reporting import attestation, verify

SUMMARY = {"run": {"id": "r1", "profile": "smoke", "gate": "major", "host": "build-7", "accept_partial": False},
           "engine": {"engine": "Docker Engine 20.10", "engine.url": "unix:///run/docker.sock"},
           "thresholds": {"start_p50_ms": 800.0}, "exit_code": 10,
           "claims": [{"tests": [{"nodeid": "s.py::test_a[X-1]", "outcome": "passed"},
                                 {"nodeid": "s.py::test_b[X-1]", "outcome": "failed"}]}],
           "gate": {"at_or_above": [], "below": ["s.py::test_b[X-1]"], "waived": [], "accept_partial": False,
                    "not_run_at_or_above": [], "not_run_below": []}}
SUITE = {"commit": "a" * 40, "describe": "v1-3-gabc", "modified": False}


def signed(reports: Path, key: attestation.SigningKey | None = None) -> attestation.SigningKey:
    for name in ("summary.json", "junit.xml", "conformance.sarif"):
        (reports / name).write_text(f"{name} of run r1\n")
    key = key or attestation.run_signing_key()
    payload = attestation.statement(reports, SUMMARY, SUITE, {"claims.yaml": reports / "summary.json"})
    attestation.sign(reports, payload, key)
    return key


def test_statement_is_an_in_toto_test_result_over_the_reports(tmp_path):
    signed(tmp_path)
    statement = attestation.payload_of(tmp_path)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    assert [s["name"] for s in statement["subject"]] == ["summary.json", "junit.xml", "conformance.sarif"]
    predicate = statement["predicate"]
    assert predicate["result"] == "WARNED"  # exit 10: failures below the gate only
    assert predicate["passedTests"] == ["s.py::test_a[X-1]"] and predicate["warnedTests"] == ["s.py::test_b[X-1]"]
    assert predicate["failedTests"] == []
    names = [c["name"] for c in predicate["configuration"]]
    assert names[:4] == ["engine", "run", "thresholds", "docker-conformance"] and "claims.yaml" in names
    suite = predicate["configuration"][3]
    assert suite["digest"] == {"gitCommit": "a" * 40}


@pytest.mark.parametrize("name", ["summary.json", "junit.xml", "conformance.sarif"])
def test_one_byte_edit_is_named_with_exit_21(tmp_path, capsys, name):
    signed(tmp_path)
    assert verify.main([str(tmp_path)]) == 0
    data = bytearray((tmp_path / name).read_bytes())
    data[3] ^= 0x01
    (tmp_path / name).write_bytes(bytes(data))
    assert verify.main([str(tmp_path)]) == 21
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"conformance-verify: {name} was changed after the run: its sha256 is not the signed one"]


def test_missing_file_is_exit_22(tmp_path, capsys):
    signed(tmp_path)
    (tmp_path / "junit.xml").unlink()
    assert verify.main([str(tmp_path)]) == 22
    assert "junit.xml is missing" in capsys.readouterr().err


def test_edited_envelope_and_other_key_are_exit_20(tmp_path):
    signed(tmp_path)
    envelope = json.loads((tmp_path / attestation.ENVELOPE).read_text())
    payload = base64.b64decode(envelope["payload"]).replace(b"WARNED", b"PASSED")
    edited = {**envelope, "payload": base64.b64encode(payload).decode()}
    (tmp_path / attestation.ENVELOPE).write_text(json.dumps(edited))
    assert verify.main([str(tmp_path)]) == 20
    (tmp_path / attestation.ENVELOPE).write_text(json.dumps(envelope))
    other = tmp_path / "other.pub.pem"
    other.write_bytes(attestation.run_signing_key().public_pem)
    assert verify.main([str(tmp_path), "--key", str(other)]) == 20
    assert verify.main([str(tmp_path), "--key", str(tmp_path / attestation.PUBLIC_KEY)]) == 0


def test_resigning_with_a_new_key_is_caught_only_with_the_pinned_key(tmp_path):
    """Without --key, anyone can re-sign edited files with a new key: pin the run's key."""
    original = signed(tmp_path)
    pinned = tmp_path / "ours.pub.pem"
    pinned.write_bytes(original.public_pem)
    (tmp_path / "summary.json").write_text("edited\n")
    signed(tmp_path)  # an attacker re-signs
    assert verify.main([str(tmp_path)]) == 0
    assert verify.main([str(tmp_path), "--key", str(pinned)]) == 20


@pytest.mark.parametrize("make", [ed25519.Ed25519PrivateKey.generate, lambda: ec.generate_private_key(ec.SECP256R1()),
                                  lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)],
                         ids=["ed25519", "ecdsa-p256", "rsa-2048"])
def test_a_given_key_signs_and_verifies(tmp_path, make):
    pem = make().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())
    (tmp_path / "key.pem").write_bytes(pem)
    reports = tmp_path / "reports"
    reports.mkdir()
    key = attestation.load_signing_key(tmp_path / "key.pem")
    signed(reports, key)
    assert not key.made_for_the_run
    assert verify.main([str(reports)]) == 0


def test_encrypted_key_needs_its_passphrase(tmp_path, monkeypatch):
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"correct horse"))
    (tmp_path / "key.pem").write_bytes(pem)
    monkeypatch.delenv(attestation.PASSPHRASE_ENV, raising=False)
    with pytest.raises(attestation.SigningKeyError, match="CONFORMANCE_SIGNING_KEY_PASSPHRASE"):
        attestation.load_signing_key(tmp_path / "key.pem")
    monkeypatch.setenv(attestation.PASSPHRASE_ENV, "correct horse")
    assert attestation.load_signing_key(tmp_path / "key.pem").keyid


@pytest.mark.parametrize("content, fragment", [(None, "No such file"), (b"not a key", "not a usable PEM private key")])
def test_unusable_key_is_a_one_line_error(tmp_path, content, fragment):
    path = tmp_path / "key.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(attestation.SigningKeyError, match=fragment) as caught:
        attestation.load_signing_key(path)
    assert "\n" not in str(caught.value)


def test_nothing_to_verify_is_usage(tmp_path, capsys):
    assert verify.main([str(tmp_path)]) == 4
    assert verify.main([str(tmp_path / "absent")]) == 4
    assert len(capsys.readouterr().err.strip().splitlines()) == 2
