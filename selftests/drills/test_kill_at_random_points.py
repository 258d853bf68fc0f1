"""Drill 1: runs SIGKILLed at random points, then a run that reaps everything they left."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from fixtures.core.exitcodes import Exit
from fixtures.core.waiting import WaitTimeout, wait_until
from fixtures.host import snapshot as host_snapshot
from fixtures.run.identity import owner_alive
from selftests.conftest import RUN_ROOT, leftovers
from selftests.drills.running import NOT_TIMING, Background, records, run_dir_of

KILLS = 5
KILL_AFTER_S = (3.0, 45.0)  # from the start of provisioning to well into the tests
ORPHANS_GRACE_S = 90  # workers of a controller killed alone: how long they may outlive it




def _group_alive(pgid: int) -> list[int]:
    alive = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                alive.append(int(proc.name))
    return alive


@pytest.mark.thorough
def test_runs_killed_at_random_points_are_reaped_by_the_next(suite, real_engine, real_client, users_objects,
                                                             drill_dir, figures):
    """Five runs of ``./conformance -n 2`` SIGKILLed at random points (the main process alone,
    or its whole process group), then one smoke run. After it, nothing of the killed runs is
    left: no labelled container, image, volume or network, no engine, registry or process of
    theirs, no run directory (credentials included), nothing on the host; and the user's
    container, image, volume and network are untouched."""
    seed = int(os.environ.get("CONFORMANCE_DRILL_SEED", time.time()))
    rng = random.Random(seed)
    figures["seed"] = seed
    victims = []
    for n in range(KILLS):
        whole_group = n % 2 == 1
        run = Background.start(drill_dir / f"killed-{n}", "--engine", real_engine.url, "-n", "2", "--profile",
                               "smoke", *NOT_TIMING, new_session=True)
        after = rng.uniform(*KILL_AFTER_S)
        time.sleep(after)  # a random point: the drill's very subject, not a wait for a state
        finished = run.proc.poll() is not None
        run_dir = run_dir_of(run.proc.pid)
        own = (host_snapshot.Ownership.of(run_dir, records(run_dir), host_snapshot.take())
               if run_dir is not None else None)
        (os.killpg if whole_group else os.kill)(run.proc.pid, signal.SIGKILL)
        run.proc.wait()
        try:
            wait_until(lambda: not _group_alive(run.proc.pid), timeout=ORPHANS_GRACE_S,
                       what="the killed run's workers to end")
            lingered = ""
        except WaitTimeout:
            lingered = f"{len(_group_alive(run.proc.pid))} workers still running {ORPHANS_GRACE_S} s later"
            os.killpg(run.proc.pid, signal.SIGKILL)
        victims.append({"kill": "process group" if whole_group else "main process", "after s": round(after, 1),
                        "finished before": finished, "run": run_dir.name if run_dir else None, "own": own,
                        "lingered": lingered})
    figures["kills"] = [{k: v for k, v in victim.items() if k != "own"} for victim in victims]

    reaping = suite("-n", "2", "--profile", "smoke", *NOT_TIMING)
    assert reaping.exit_code in (Exit.PASSED, Exit.BELOW_GATE, Exit.GATE_FAILED), reaping.describe()
    assert not reaping.outcomes("error"), reaping.describe()
    after_host = host_snapshot.take()
    left = {}
    for victim in victims:
        run_id = victim["run"]
        if run_id is None:
            continue
        objects = {kind: items for kind, items in leftovers(real_client, run_id).items() if items}
        host = {kind: items for kind, items in host_snapshot.diff(after_host, after_host, victim["own"])["left"].items()
                if items}
        if objects or host or (RUN_ROOT / run_id).exists():
            left[run_id] = {"engine": objects, "host": host, "run directory": (RUN_ROOT / run_id).exists()}
        assert f"crashed run {run_id}" in reaping.stderr or not (RUN_ROOT / run_id).exists()
    figures["leftovers after the reaping run"] = left
    figures["reaping run exit code"] = reaping.exit_code
    assert not left, left
    assert not users_objects(), users_objects()
    assert not list(RUN_ROOT.glob("*/cli-config/*/config.json")) or all(
        _live_owner(path) for path in RUN_ROOT.glob("*/cli-config/*/config.json")), "a dead run's login remains"




def _live_owner(config: Path) -> bool:
    try:
        return owner_alive(json.loads((config.parents[2] / "owner.json").read_text()))
    except (OSError, ValueError):
        return False
