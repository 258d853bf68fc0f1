"""Negative controls of the host checks (HOST-6 to HOST-8) and of the gate (a minor SEC-4 finding), and
the host checks on the real engine: they run to a verdict there, and the host requirements
this machine meets pass. (The socket-permission control is SEC-4's, in
test_security_controls.py.)

The host checks no control makes fail (the kernel's, HOST-1 to HOST-5, and HOST-9), and why,
are in without_control.py.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from fixtures.core.exitcodes import Exit
from fixtures.engine import sandbox
from fixtures.run.identity import RunIdentity
from fixtures.run.rundir import RunDir
from fixtures.session.lifecycle import UNDOERS
from selftests.conftest import RUN_ROOT
from selftests.controls.negative import Control, assert_nothing_left, check_control
from selftests.controls.weakened_daemon import weakened_daemon

HOST = "suites/host"
ICC = "suites/secure/test_default_isolation_findings.py::test_default_bridge_keeps_containers_apart[SEC-4]"
TLS = f"{HOST}/test_daemon_settings.py::test_tcp_listeners_require_tls"
AUDIT = ("--profile", "audit")
# Host requirements any engine host fit for CI meets; the others are findings that depend on
# how the daemon is configured, so on the real engine they only have to reach a verdict.
REQUIREMENTS = ("HOST-1", "HOST-2", "HOST-3", "HOST-4", "HOST-5", "HOST-8", "HOST-9")

ICC_ON = Control("SEC-4-icc-on", select=(ICC,), weakens="the self-tests' default dockerd: icc on",
                 expect={"[SEC-4]": "containers on the default bridge reach each other"})
# The listener's address is known once the daemon runs: the test names it in the expectation.
PLAIN_TCP = Control("HOST-7-plain-tcp", select=(TLS,), args=AUDIT,
                    weakens="a dockerd that also listens on plain tcp, without --tlsverify",
                    expect={"[HOST-7]": "without --tlsverify"})
# json-file without max-size, and vfs (a full copy of every layer, for tests only).
UNROTATED_VFS = {"log-driver": "json-file", "storage-driver": "vfs"}
UNROTATED_LOGS_ON_VFS = Control(
    "HOST-6-HOST-8-unrotated-logs-on-vfs", args=AUDIT,
    weakens="a dockerd whose json-file logs never rotate, storing layers with vfs",
    select=(f"{HOST}/test_daemon_settings.py::test_log_driver_rotates",
            f"{HOST}/test_storage.py::test_storage_driver_and_backing_filesystem"),
    expect={"[HOST-6]": "log driver json-file has no max-size",
            "[HOST-8]": "storage driver vfs is not one for production"})


@pytest.mark.not_a_control
def test_host_checks_reach_a_verdict_on_the_real_engine(suite, real_client):
    run = suite(HOST, *AUDIT, "-n", "2")
    errors = run.outcomes("error")
    assert not errors, f"host checks could not run: {errors}\n{run.describe()}"
    verdicts = run.verdicts()
    assert {claim: verdicts[claim] for claim in REQUIREMENTS} == {claim: "pass" for claim in REQUIREMENTS}, \
        run.describe()
    assert_nothing_left(real_client, run)


def test_icc_on_fails_the_icc_check_and_a_minor_gate_fails_the_run(suite, real_client):
    """SEC-4's icc is a minor finding: below the default gate (exit 10), failing with --gate minor.

    The self-tests' engine is a default dockerd, whose containers on the default bridge reach
    each other (icc on): the finding is real there, not a rewritten report.
    """
    default_gate = check_control(suite, ICC_ON, real_client)
    assert default_gate.exit_code == Exit.BELOW_GATE, default_gate.describe()
    minor_gate = check_control(suite, replace(ICC_ON, args=("--gate", "minor")), real_client)
    assert minor_gate.exit_code == Exit.GATE_FAILED, minor_gate.describe()
    assert minor_gate.summary["gate"]["at_or_above"] == [ICC]


@pytest.fixture
def tcp_engine():
    """A sandbox dockerd that also listens on tcp://127.0.0.1 without TLS, stopped after the test.

    Its run directory has a short name of its own: containerd's sockets live under the
    sandbox's exec-root, and a unix socket path longer than 107 bytes cannot be bound.
    """
    run_dir = RunDir.create(RUN_ROOT, RunIdentity.for_controller(f"st-{os.getpid()}"))
    try:
        yield sandbox.start(run_dir, "tls", tcp=True, log=lambda line: None)
    finally:
        problems = run_dir.undo(UNDOERS)
        assert not problems, f"the tcp sandbox engine was not cleaned up: {problems}"
        run_dir.remove()


def test_plain_tcp_listener_fails_the_tls_check(suite, tcp_engine, real_client):
    address = tcp_engine.tcp_url.removeprefix("tcp://")
    check_control(suite, replace(PLAIN_TCP, expect={"[HOST-7]": f"listens on tcp {address} without --tlsverify"}),
                  real_client, engine=tcp_engine.url)


def test_unrotated_logs_and_a_test_only_storage_driver_fail_their_checks(suite, real_client):
    with weakened_daemon("h68", UNROTATED_VFS) as daemon:
        check_control(suite, UNROTATED_LOGS_ON_VFS, real_client, engine=daemon.url)
