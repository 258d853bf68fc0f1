"""Drill 8: what a run exposes on its host while it runs, and what it leaves after."""

from __future__ import annotations

import ipaddress
import json
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from fixtures.core.exitcodes import Exit
from fixtures.host import snapshot as host_snapshot
from fixtures.run.identity import process_start_ticks
from selftests.conftest import RUN_ROOT
from selftests.drills.running import NOT_TIMING, Background, records, run_dir_of

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
# An engine's storage: containers' own files, which come and go while they are read.
CONTAINER_STORAGE = ("overlay2", "vfs", "containers", "image")






def _listening(pid: int) -> list[str]:
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    return [line.split()[3] for line in out.splitlines() if f"pid={pid}," in line]


def _alive(pid: int, start: str) -> bool:
    """The same process, still running (a zombie nobody reaped holds nothing but its pid)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return process_start_ticks(pid) == start and state not in ("Z", "X")


def _address(local: str) -> ipaddress._BaseAddress:
    host = local.rsplit(":", 1)[0].strip("[]").split("%")[0]
    return ipaddress.ip_address("0.0.0.0" if host == "*" else host)


class Observer:
    """Looks at the run every second while it runs: its registry, its services' listeners,
    its sockets; and remembers everything of the run's it saw, to look for it afterwards."""

    def __init__(self, run: Background):
        self.run = run
        self.problems: set[str] = set()
        self.registry_checked = 0
        self.bridges: set[str] = set()
        self.paths: set[str] = set()
        self.processes: set[tuple[int, str]] = set()
        self.ports: set[int] = set()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join(timeout=30)

    def _watch(self) -> None:
        while not self.done.wait(1.0):
            run_dir = run_dir_of(self.run.proc.pid)
            if run_dir is None:
                continue
            self.paths.add(str(run_dir))
            try:
                self._look(run_dir)
            except (OSError, ValueError, requests.RequestException) as exc:
                self.problems.add(f"could not look: {exc}")

    def _look(self, run_dir: Path) -> None:
        for entry in records(run_dir):
            if entry["kind"] == "bridge":
                self.bridges.add(entry["key"])
            elif entry["kind"] == "tree":
                self.paths.add(entry["path"])
            elif entry["kind"] == "process":
                self.processes.add((entry["pid"], entry["start"]))
                listeners = _listening(entry["pid"])
                self.ports |= {int(local.rsplit(":", 1)[1]) for local in listeners}
                exposed = [local for local in listeners if not any(_address(local) in net for net in LOOPBACK)]
                if exposed:
                    self.problems.add(f"{entry.get('argv0')} listens beyond loopback: {exposed}")
                if entry["key"] == "registry" and listeners:
                    answer = requests.get(f"http://{listeners[0]}/v2/", timeout=5)
                    self.registry_checked += 1
                    if answer.status_code != 401:
                        self.problems.add(f"the run's registry answers /v2/ without credentials: {answer.status_code}")
        for root in list(self.paths):
            for folder, dirs, names in os.walk(root, onerror=lambda error: None):
                dirs[:] = [d for d in dirs if d not in CONTAINER_STORAGE]
                for name in names:
                    path = Path(folder) / name
                    try:
                        mode = path.lstat().st_mode
                    except OSError:
                        continue
                    if stat.S_ISSOCK(mode) and mode & stat.S_IWOTH:
                        self.problems.add(f"world-writable socket {path} ({stat.filemode(mode)})")


@pytest.mark.thorough
def test_a_run_exposes_nothing_and_leaves_nothing_on_its_host(drill_dir, figures):
    """While a run on its own sandbox engine goes on, its registry listens on loopback only
    and asks for credentials, none of its services listens beyond loopback and none of its
    sockets is world-writable. After it: no port it opened still listens, and no iptables
    rule, bridge, veth, network namespace, mount or process of it remains, by its own
    host snapshot (state-diff.json) and by this drill's."""
    before = host_snapshot.take()
    run = Background.start(drill_dir, "--engine", "sandbox", "-n", "2", "--profile", "smoke", *NOT_TIMING)
    with Observer(run) as seen:
        code = run.wait(timeout=900)
    output, summary = run.output(), run.summary()
    after = host_snapshot.take()
    assert summary is not None and code in (Exit.PASSED, Exit.BELOW_GATE), output[-4000:]

    left = {
        "ports": sorted({s["port"] for s in after["listening"].values()} & seen.ports),
        "iptables": [r for r, info in after["iptables"].items() if set(info["interfaces"]) & seen.bridges],
        "links": [name for name, link in after["links"].items()
                  if name in seen.bridges or link["master"] in seen.bridges],
        "netns and mounts": [p for p in list(after["netns"]) + list(after["mounts"])
                             if any(root in p for root in seen.paths)],
        "processes": [f"{pid}" for pid, start in seen.processes if _alive(pid, start)],
        "run directory": [str(RUN_ROOT / summary["run"]["id"])] if (RUN_ROOT / summary["run"]["id"]).exists() else [],
    }
    diff = json.loads((run.reports / "state-diff.json").read_text())["host"]
    figures["exposed while running"] = sorted(seen.problems)
    figures["registry checks"] = seen.registry_checked
    figures["run's ports, bridges, processes seen"] = [len(seen.ports), len(seen.bridges), len(seen.processes)]
    figures["leftovers (drill)"] = {k: len(v) for k, v in left.items()}
    figures["leftovers (state-diff.json)"] = {k: len(v) for k, v in diff["left"].items()}
    figures["host entries before -> after"] = {k: v for k, v in diff["counts"].items()}

    assert seen.registry_checked and seen.bridges and seen.ports, "the drill saw the run's registry, bridges, ports"
    assert not seen.problems, sorted(seen.problems)
    assert not any(left.values()), left
    assert not any(diff["left"].values()), diff["left"]
    assert set(before) == set(host_snapshot.KINDS)
