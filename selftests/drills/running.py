"""A suite run in the background, for the drills that act on it while it runs."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from fixtures.core.waiting import wait_until
from selftests.conftest import PROJECT, RUN_ROOT


# The drills hold the suite to what it does on a bad day; the timing checks (marker quiet)
# judge the engine's speed, which a machine busy with other work moves: they are left out.
NOT_TIMING = ("-m", "not quiet")


@dataclass
class Background:
    proc: subprocess.Popen
    reports: Path
    out: Path
    err: Path
    started: float

    @classmethod
    def start(cls, base: Path, *args: str, html: bool = False, env: dict | None = None,
              new_session: bool = False, user: str | None = None) -> "Background":
        base.mkdir(parents=True, exist_ok=True)
        reports = base / "reports"
        argv = [str(PROJECT / "conformance"), "--reports-dir", str(reports), "-q", *args]
        if not html:
            argv.append("--no-html")
        if user:
            argv = ["runuser", "-u", user, "--", *argv]
        out, err = base / "stdout.txt", base / "stderr.txt"
        proc = subprocess.Popen(argv, cwd=PROJECT, stdout=open(out, "w"), stderr=open(err, "w"),
                                env={**os.environ, **(env or {})}, start_new_session=new_session)
        return cls(proc, reports, out, err, time.time())

    def output(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def tests_done(self) -> int:
        """Tests finished so far, from pytest's progress characters (``-q``: lines of them)."""
        lines = self.out.read_text(errors="replace").splitlines()
        return sum(len(line) for line in lines if line and set(line) <= set(".FEsxX"))

    def wait_for_tests(self, count: int, timeout: float = 300) -> None:
        wait_until(lambda: self.proc.poll() is not None or self.tests_done() >= count, timeout=timeout,
                   what=f"{count} tests of the run to finish")
        assert self.proc.poll() is None, f"the run ended before {count} tests ran:\n{self.output()[-3000:]}"

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def summary(self) -> dict | None:
        path = self.reports / "summary.json"
        return json.loads(path.read_text()) if path.exists() else None


def outcomes_by_node(summary: dict) -> dict[str, dict]:
    return {t["nodeid"]: t for claim in summary["claims"] for t in claim["tests"]}


def run_dir_of(pid: int) -> Path | None:
    """The run directory of the run whose controller is ``pid``, once it exists."""
    for owner in RUN_ROOT.glob("*/owner.json"):
        try:
            if json.loads(owner.read_text()).get("conformance.owner-pid") == str(pid):
                return owner.parent
        except (OSError, ValueError):
            continue
    return None


def records(run_dir: Path) -> list[dict]:
    """A run's outstanding cleanup records (what it started or made that labels cannot find)."""
    found = []
    for path in (run_dir / "cleanup").glob("*.json"):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return found
