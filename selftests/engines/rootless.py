"""A rootless dockerd for the self-tests: Docker's own ``dockerd-rootless.sh`` under RootlessKit,
as a user the self-test creates and removes.

What it takes on a Debian host (all recorded, and undone when the self-test ends or by the
next self-test after a crash):

- Debian's ``rootlesskit``, ``slirp4netns`` and ``uidmap`` (``tools/setup selftest``), and the
  script itself from docker.io's contrib folder;
- a user with subordinate uid and gid ranges (``useradd -m`` gives them);
- ``/dev/net/tun`` readable and writable by that user: slirp4netns opens it inside the
  user's namespaces. Some hosts ship it 0600; its mode is restored afterwards;
- an ``XDG_RUNTIME_DIR`` the user owns, short enough for the socket path; the engine's
  socket is ``$XDG_RUNTIME_DIR/docker.sock``, its data under the user's home.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import docker

from fixtures.core.waiting import Unrecoverable, wait_until
from fixtures.run import processes
from fixtures.run.rundir import RunDir

CONTRIB = Path("/usr/share/docker.io/contrib")
SCRIPT = "dockerd-rootless.sh"
TUN = Path("/dev/net/tun")
START_TIMEOUT = 90.0


class RootlessUnavailable(RuntimeError):
    """The host lacks something a rootless dockerd needs; the message says what."""


@dataclass(frozen=True)
class RootlessEngine:
    url: str
    user: str
    pid: int


def missing() -> str:
    """``""`` when everything a rootless dockerd needs is here, else what is missing."""
    if os.geteuid() != 0:
        return "creating the rootless engine's user needs root"
    needs = {"rootlesskit": "rootlesskit", "slirp4netns": "slirp4netns", "newuidmap": "uidmap",
             "useradd": "passwd"}
    absent = [package for tool, package in needs.items() if not shutil.which(tool)]
    if not (CONTRIB / SCRIPT).is_file():
        absent.append(f"docker.io ({CONTRIB / SCRIPT})")
    return f"missing: {', '.join(absent)}" if absent else ""


def add_user(run_dir: RunDir, name: str) -> pwd.struct_passwd:
    """A user with a home and subordinate ids, recorded for removal before it exists."""
    run_dir.record("user", name, phase="engine", name=name)
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True,
                   capture_output=True, text=True)
    ranges = Path("/etc/subuid").read_text(encoding="utf-8")
    if not any(line.startswith(f"{name}:") for line in ranges.splitlines()):
        raise RootlessUnavailable(f"useradd gave {name} no subordinate uids (/etc/login.defs SUB_UID_COUNT)")
    return pwd.getpwnam(name)


def remove_user(entry: dict) -> None:
    """Undo a "user" record: the user, its home and its subordinate id ranges."""
    try:
        pwd.getpwnam(entry["name"])
    except KeyError:
        return
    done = subprocess.run(["userdel", "--remove", entry["name"]], capture_output=True, text=True)
    if done.returncode not in (0, 12):  # 12: the home could not be removed entirely
        raise RuntimeError(f"userdel {entry['name']}: {done.stderr.strip()}")


def open_tun(run_dir: RunDir) -> None:
    """Make /dev/net/tun usable by every user, as most distributions ship it; recorded."""
    mode = stat.S_IMODE(TUN.stat().st_mode)
    if mode & 0o006 == 0o006:
        return
    run_dir.record("mode", str(TUN), phase="engine", path=str(TUN), mode=mode)
    TUN.chmod(mode | 0o666)


def restore_mode(entry: dict) -> None:
    """Undo a "mode" record."""
    Path(entry["path"]).chmod(entry["mode"])


def start(run_dir: RunDir, name: str) -> RootlessEngine:
    lacking = missing()
    if lacking:
        raise RootlessUnavailable(lacking)
    user = add_user(run_dir, name)
    open_tun(run_dir)
    runtime_dir = Path(tempfile.mkdtemp(prefix="dcf-rl-"))  # short: the socket lives here
    run_dir.record("tree", f"{name}-xdg", phase="engine", path=str(runtime_dir))
    os.chown(runtime_dir, user.pw_uid, user.pw_gid)
    env = {"HOME": user.pw_dir, "USER": name, "LOGNAME": name, "XDG_RUNTIME_DIR": str(runtime_dir),
           "PATH": f"{CONTRIB}:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"}
    log = run_dir.sub("engines") / f"{name}.log"
    # The script execs RootlessKit in its own place: the recorded process is RootlessKit,
    # which passes SIGTERM on to the dockerd in its namespaces.
    proc = processes.start(run_dir, f"rootless-{name}", [str(CONTRIB / SCRIPT)], log, phase="engine",
                           env=env, user=user.pw_uid, group=user.pw_gid, cwd=user.pw_dir)
    url = f"unix://{runtime_dir}/docker.sock"

    def answers() -> bool:
        if proc.poll() is not None:
            raise Unrecoverable(f"dockerd-rootless.sh exited {proc.returncode}: {processes.log_tail(log, 3)}")
        with closing(docker.DockerClient(base_url=url, version="auto", timeout=5)) as client:
            return "name=rootless" in client.info().get("SecurityOptions", [])

    wait_until(answers, timeout=START_TIMEOUT, what=f"the rootless dockerd on {url}")
    return RootlessEngine(url, name, proc.pid)
