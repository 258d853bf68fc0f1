"""Drill 9: a user in the ``docker`` group, but not root; and a user without the socket."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.core.exitcodes import Exit
from selftests.conftest import PROJECT
from selftests.drills.running import NOT_TIMING, outcomes_by_node

# Every user this drill makes says so in its comment; one left by a drill that crashed is
# found by it and removed the next time (and only such a one).
COMMENT = "docker-conformance drill, a user in the docker group, not root"  # no colon in a GECOS
PERMISSION_WORDS = ("Permission denied", "Operation not permitted", "permission denied", "cannot read",
                    "on the engine's host", "not on its host")


def _drill_users() -> list[str]:
    return [p.pw_name for p in pwd.getpwall() if p.pw_gecos == COMMENT]


def _remove_user(name: str) -> None:
    uid = pwd.getpwnam(name).pw_uid
    for pid in _processes_of(uid):  # the drill's own: nothing else runs as a user it made
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    subprocess.run(["userdel", "-r", name], capture_output=True, check=True)
    shutil.rmtree(default_run_root_of(name), ignore_errors=True)


def default_run_root_of(name: str) -> Path:
    """The run root a user's runs get by default (fixtures/run/options.py)."""
    return Path(f"/var/tmp/docker-conformance-{name}")


def _processes_of(uid: int) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and proc.stat().st_uid == uid:
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


@pytest.fixture
def docker_group_user():
    """A user made for this drill, in the ``docker`` group: removed after, with its home."""
    for stale in _drill_users():
        _remove_user(stale)
    name = f"dcf-drill-{secrets.token_hex(3)}"
    subprocess.run(["useradd", "-m", "-c", COMMENT, "-G", "docker", "-s", "/bin/bash", name], check=True,
                   capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        _remove_user(name)


def _as(user: pwd.struct_passwd, *argv: str, groups: bool = True, cwd: Path | None = None,
        timeout: float = 900) -> subprocess.CompletedProcess:
    """``argv`` as ``user``, logged in as runuser does it: with its groups (docker), or with
    its own group only (``-g``: no supplementary groups)."""
    only_own = [] if groups else ["-g", user.pw_name]
    env = {"HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name,
           "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8"}
    return subprocess.run(["runuser", "-u", user.pw_name, *only_own, "--", *argv], cwd=cwd or user.pw_dir,
                          env=env, capture_output=True, text=True, timeout=timeout)


def _checkout_for(user: pwd.struct_passwd) -> tuple[Path, str]:
    """Where the user runs ./conformance from: the project itself when its .venv runs for the
    user; else a checkout of the user's own (the files the project tracks, and a venv of the
    system's Python holding the project's pinned packages). Returns (path, why)."""
    if _as(user, str(PROJECT / ".venv" / "bin" / "python"), "-c", "pass").returncode == 0:
        return PROJECT, "the project as it is"
    home = Path(user.pw_dir)
    checkout = home / "docker-conformance"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=PROJECT, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for name in files:
        source = PROJECT / name
        if source.is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    venv = home / "venv"
    subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(home)], check=True)
    made = _as(user, "/usr/bin/python3", "-m", "venv", str(venv))
    assert made.returncode == 0, made.stderr
    packages = Path(subprocess.run([str(PROJECT / ".venv" / "bin" / "python"), "-c",
                                    "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (venv / "lib" / version / "site-packages" / "project-packages.pth").write_text(f"{packages}\n")
    (venv / ".requirements.sha256").write_text(hashlib.sha256((PROJECT / "requirements.txt").read_bytes())
                                               .hexdigest() + "\n")
    (checkout / ".venv").symlink_to(venv)
    (checkout / "node_modules").symlink_to((PROJECT / "node_modules").resolve())
    subprocess.run(["chown", "-R", "-h", f"{user.pw_uid}:{user.pw_gid}", str(home)], check=True)
    return checkout, ("a checkout of the user's own: the project's .venv runs an interpreter this user "
                      "cannot read, so the user got a venv of the system's Python with the same packages")


@pytest.mark.thorough
def test_a_user_in_the_docker_group_runs_the_suite(real_engine, docker_group_user, drill_dir, figures):
    """A user in the ``docker`` group, not root, runs ``./conformance`` on a machine where
    everything is installed: it works (a verdict, every report, no check failing for want of
    root), or says in one line what is missing. A user without access to the engine's socket
    gets one line and exit 11."""
    if not real_engine.is_local:
        pytest.skip("the drill needs an engine on this host's socket")
    user = docker_group_user
    checkout, how = _checkout_for(user)
    figures["user"] = f"{user.pw_name} (uid {user.pw_uid}, groups {os.getgrouplist(user.pw_name, user.pw_gid)})"
    figures["ran from"] = how
    reports = drill_dir / "reports"  # the user's to write; kept after the user is gone
    reports.mkdir()
    os.chown(reports, user.pw_uid, user.pw_gid)
    run = _as(user, str(checkout / "conformance"), "--engine", real_engine.url, "-n", "2", "--profile", "smoke",
              *NOT_TIMING, "--no-html", "-q", "--reports-dir", str(reports), cwd=checkout)
    output = run.stdout + run.stderr
    (drill_dir / "output.txt").write_text(output)
    figures["exit code"] = run.returncode
    assert "Traceback (most recent call last)" not in output and "INTERNALERROR" not in output, output[-4000:]
    summary_file = reports / "summary.json"
    if run.returncode in (Exit.PASSED, Exit.BELOW_GATE, Exit.GATE_FAILED):
        assert summary_file.is_file(), output[-4000:]
        outcomes = outcomes_by_node(json.loads(summary_file.read_text()))
        counts = {}
        for test in outcomes.values():
            counts[test["outcome"]] = counts.get(test["outcome"], 0) + 1
        figures["outcomes"] = counts
        figures["failed"] = {n.split("::")[-1]: t["message"][:200] for n, t in outcomes.items()
                             if t["outcome"] == "failed"}
        for_want_of_root = {n: t["message"] for n, t in outcomes.items() if t["outcome"] in ("failed", "error")
                            and any(word in t["message"] for word in PERMISSION_WORDS)}
        figures["failing for want of root"] = len(for_want_of_root)
        assert not for_want_of_root, for_want_of_root
        assert not any(t["outcome"] == "error" for t in outcomes.values()), \
            {n: t["message"] for n, t in outcomes.items() if t["outcome"] == "error"}
    else:
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        figures["one line"] = lines[-1] if lines else ""
        assert len([line for line in lines if line.startswith("docker-conformance:")]) == 1, output[-4000:]

    refused = _as(user, str(checkout / "conformance"), "--engine", real_engine.url, "--no-html", "-q",
                  "--reports-dir", str(reports / "no-socket"), groups=False, cwd=checkout, timeout=120)
    said = [line for line in refused.stderr.splitlines() if line.startswith("docker-conformance:")]
    figures["without the socket"] = f"exit {refused.returncode}: {said[-1] if said else refused.stderr[-300:]}"
    assert refused.returncode == Exit.ENGINE_UNREACHABLE, refused.stdout[-2000:] + refused.stderr[-2000:]
    assert len(said) == 1 and "permission denied" in said[0], refused.stderr[-2000:]
