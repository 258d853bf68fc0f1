"""The main command's sandbox engine, and recovery from a run that was killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from fixtures.core.exitcodes import Exit
from fixtures.core.waiting import Unrecoverable, wait_until
from fixtures.run.identity import RUN
from selftests.conftest import PROJECT, RUN_ROOT, leftovers


def _bridges() -> set[str]:
    return {p.name for p in Path("/sys/class/net").iterdir() if p.name.startswith("dcf")}


def _dockerds() -> set[int]:
    pids = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() == "dockerd":
                    pids.add(int(proc.name))
            except OSError:
                pass
    return pids


@pytest.mark.skipif(os.geteuid() != 0, reason="a sandbox engine needs root")
def test_sandbox_engine_is_started_and_stopped(suite):
    """``--engine sandbox`` (what the main command does when no engine answers) starts a
    private dockerd with its own bridge, runs the suite on it, and stops it at the end."""
    bridges, dockerds = _bridges(), _dockerds()
    run = suite("-k", "test_ping_answers_over_the_socket or test_kernel_release_equals_host",
                engine="sandbox")
    assert run.exit_code == Exit.PASSED, run.describe()
    assert "started a sandbox engine" in run.stderr
    assert run.summary["engine"]["engine.source"] == "sandbox"
    assert _bridges() == bridges, "the sandbox's bridge was not removed"
    assert _dockerds() == dockerds, "the sandbox dockerd is still running"
    assert not (RUN_ROOT / run.summary["run"]["id"]).exists(), "the run directory was not removed"


def test_a_killed_run_is_cleaned_up_by_the_next(suite, real_client, faulty_engine, tmp_path):
    """A run killed with SIGKILL leaves a container, its registry and its run directory;
    the next run reaps all of them, and only them."""
    # Starts are held back, so the victim is caught with a created container, every time.
    stalled = faulty_engine("delay-start=600")
    argv = [str(PROJECT / "conformance"), "--engine", stalled.url, "--reports-dir",
            str(tmp_path / "killed"), "--no-html", "-k", "test_container_process_is_a_host_process"]
    victim = subprocess.Popen(argv, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def victims_container():
            if victim.poll() is not None:
                raise Unrecoverable(f"the victim run ended (exit {victim.returncode}) before it made a container")
            found = real_client.api.containers(all=True, filters={"label": [RUN]})
            return [c for c in found if c["Labels"].get("conformance.owner-pid") == str(victim.pid)]
        found = wait_until(victims_container, timeout=120, what="the victim run's container")
        run_id = found[0]["Labels"][RUN]
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    stale_dir = RUN_ROOT / run_id
    assert stale_dir.is_dir(), "the killed run left no run directory to recover from"
    registry_pid = json.loads(next((stale_dir / "cleanup").glob("process-registry*.json")).read_text())["pid"]
    assert Path(f"/proc/{registry_pid}").exists(), "the killed run's registry should still be running"

    nextrun = suite("-k", "test_ping_answers_over_the_socket")
    assert nextrun.exit_code == Exit.PASSED, nextrun.describe()
    assert f"cleaned up after crashed run {run_id}" in nextrun.stderr, nextrun.stderr
    assert "removed resources of crashed earlier runs" in nextrun.stderr, nextrun.stderr
    assert leftovers(real_client, run_id)["containers"] == []
    assert not stale_dir.exists()
    assert not Path(f"/proc/{registry_pid}").exists() or \
        "docker-registry" not in Path(f"/proc/{registry_pid}/cmdline").read_text(errors="replace")
