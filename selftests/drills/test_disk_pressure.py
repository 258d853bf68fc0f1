"""Drill 5: an engine whose data-root has too little free space."""

from __future__ import annotations

import subprocess
import time

from fixtures.core.exitcodes import Exit
from fixtures.run.rundir import RunDir
from selftests.drills.running import Background

SMALL_MB = 200  # the engine's data-root: a tmpfs too small for a run (run_min_free_mb)


def _small_filesystem(run_dir: RunDir):
    area = run_dir.sub("small")
    mount = area / "fs"
    mount.mkdir()
    # Recorded before it is mounted: the drill engine's cleanup unmounts and removes it.
    run_dir.record("tree", "small-filesystem", phase="engine", path=str(area))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL_MB}m", "tmpfs", str(mount)], check=True)
    return mount / "data"


def test_insufficient_disk_fails_early_with_one_line(drill_engine, drill_dir, figures):
    """A run against an engine whose data-root is too small fails before it provisions
    anything, with one "insufficient disk" line naming the free and the needed space and
    its own exit code: not 50 confusing "no space left on device" errors."""
    engine = drill_engine(data_root=_small_filesystem)
    before = engine.contents()
    run = Background.start(drill_dir, "--engine", engine.url, "-n", "2", "--profile", "smoke")
    code = run.wait(timeout=120)
    output = run.output()
    lines = [line for line in output.splitlines() if "insufficient disk" in line]
    figures["exit code"] = code
    figures["seconds to the verdict"] = round(time.time() - run.started, 1)
    figures["line"] = lines[0] if lines else ""
    assert code == Exit.INSUFFICIENT_DISK, output[-3000:]
    assert len(lines) == 1 and "MB free" in lines[0] and "needs" in lines[0], output[-3000:]
    assert "Traceback" not in output and "no space left" not in output.lower(), output[-3000:]
    assert not (run.reports / "junit.xml").exists(), "no test ran"
    assert engine.contents() == before, "nothing was provisioned"
