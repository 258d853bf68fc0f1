"""Drill 7: a registry with a known password, named with --registry."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import pytest
import requests

from fixtures.core.exitcodes import Exit
from fixtures.registry.server import PASSWORD_ENV, USER_ENV
from fixtures.registry.server import start as start_registry
from fixtures.run.identity import RunIdentity
from fixtures.run.rundir import RunDir
from fixtures.session.lifecycle import UNDOERS
from selftests.conftest import RUN_ROOT
from selftests.drills.running import Background
from selftests.drills.secrets_search import forms, search

USER_CONFIG = Path.home() / ".docker" / "config.json"
# Checks that log in, push and pull: where a password could slip into a report.
REGISTRY_CHECKS = "CMD-13 or CMD-14 or CMD-15 or CMD-16 or ARCH-1 or STD-1 or LW-7"


@pytest.fixture
def known_registry():
    """A registry of the user's, with a password the drill knows, on loopback."""
    run_dir = RunDir.create(RUN_ROOT, RunIdentity.for_controller(f"selftest-registry-{os.getpid()}"))
    password = "drill-" + secrets.token_urlsafe(12)
    registry = start_registry(run_dir, password=password)
    yield registry
    problems = run_dir.undo(UNDOERS)
    assert not problems, problems
    run_dir.remove()


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def test_a_known_registry_password_appears_nowhere(suite, real_engine, known_registry, drill_dir, figures):
    """The password given in CONFORMANCE_REGISTRY_PASSWORD, and its base64 forms, appear in
    no file of the reports, the console output or the run root afterwards; the user's
    ~/.docker/config.json is unchanged; and what the run pushed is deleted from the registry."""
    user_config = _fingerprint(USER_CONFIG)
    env = {USER_ENV: known_registry.username, PASSWORD_ENV: known_registry.password}
    run = Background.start(drill_dir, "--engine", real_engine.url, "--registry", known_registry.address,
                           "-n", "2", "-k", REGISTRY_CHECKS, html=True, env=env)
    code = run.wait(timeout=900)
    output, summary = run.output(), run.summary()
    searched, hits = search([run.reports, RUN_ROOT, run.out, run.err], {"console": output},
                            forms(known_registry.username, known_registry.password))
    figures["files searched"] = searched
    figures["secrets found"] = len(hits)
    assert summary is not None and code in (Exit.PASSED, Exit.BELOW_GATE), output[-4000:]
    assert not hits, f"the registry password was found: {hits[:10]}"
    assert _fingerprint(USER_CONFIG) == user_config, "~/.docker/config.json changed"

    run_id = summary["run"]["id"]
    session = requests.Session()
    session.auth = (known_registry.username, known_registry.password)
    catalog = session.get(f"{known_registry.url}/v2/_catalog", timeout=10).json()["repositories"] or []
    ours = [r for r in catalog if run_id.lower() in r]
    tags_left = {r: session.get(f"{known_registry.url}/v2/{r}/tags/list", timeout=10).json().get("tags") for r in ours}
    figures["repositories pushed"] = len(ours)
    figures["tags left in the registry"] = sum(len(t or []) for t in tags_left.values())
    assert ours, "the checks pushed to the named registry"
    assert not any(tags_left.values()), f"the run left tags it pushed: {tags_left}"
    assert f"registry {known_registry.address}: deleted" in (run.reports / "summary.md").read_text()
