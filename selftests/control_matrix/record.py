"""Matrix mode of the negative controls: ``CONFORMANCE_CONTROL_MATRIX=DIR ./selftest controls``.

Each control, after its own run, also runs the smoke profile (one check per claim) against
the same weakened engine with the same options, and both runs' verdicts per claim go to
``DIR/<control>.json``. The control's own verdict is given as usual afterwards. With
``CONFORMANCE_CONTROL_MATRIX_SMOKE=0`` only the control's own run is recorded (no smoke run):
far cheaper, but it cannot show what a weakening breaks beyond the control's own checks. A control
is recorded once per session, and only as the catalogue defines it: a copy narrowed to other
checks (a repeat drill) is not that control.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from selftests.control_matrix.results import load_average, run_record

if TYPE_CHECKING:
    from selftests.conftest import SuiteRun, SuiteRunner
    from selftests.controls.negative import Control

ENV = "CONFORMANCE_CONTROL_MATRIX"
SMOKE_ENV = "CONFORMANCE_CONTROL_MATRIX_SMOKE"
SMOKE = ("--profile", "smoke", "-n", "2")
# A smoke run on an engine that delays every start takes long; it must still finish.
SMOKE_TIMEOUT_S = 3600
_recorded: set[str] = set()
_lock = threading.Lock()


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def with_smoke() -> bool:
    return os.environ.get(SMOKE_ENV, "1") != "0"


def results_dir() -> Path:
    return Path(os.environ[ENV])


def fingerprint(control: Control) -> dict:
    """What a control's result depends on, apart from the values a test fills in when it runs
    (a registry's address in ``args``, a listener's in an expected message)."""
    return {"faults": list(control.faults), "select": list(control.select), "expect": sorted(control.expect),
            "outcomes": control.outcomes, "response_only": control.response_only, "positive": control.positive}


def control_and_smoke(suite: SuiteRunner, control: Control, run: SuiteRun, problems: list[str], *,
                      engine: str | None, env: dict[str, str] | None,
                      left: Callable[[SuiteRun], dict[str, list[str]]]) -> None:
    """Run the smoke profile as ``control`` ran (unless ``with_smoke()`` is false), and record
    both runs (once per control).

    ``left`` tells what the smoke run left on the engine, and removes it."""
    from selftests.controls.catalogue import all_controls  # the controls' modules import this one

    known = all_controls()
    assert control.name in known, (f"control {control.name!r} is not defined at module level in "
                                   "selftests/controls: the control matrix cannot list it")
    if fingerprint(control) != fingerprint(known[control.name]):
        return
    with _lock:
        if control.name in _recorded:
            return
        _recorded.add(control.name)
    after_control = load_average()
    runs = {"control": run_record(run.summary, exit_code=run.exit_code, seconds=run.seconds,
                                  load=[after_control], stderr_tail=run.stderr)}
    if with_smoke():
        started = time.monotonic()
        # The control's options first: a later --profile (smoke) wins over one of the control's.
        smoke = suite(*control.args, *SMOKE, engine=engine, env=env, timeout=SMOKE_TIMEOUT_S)
        runs["smoke"] = run_record(smoke.summary, exit_code=smoke.exit_code, seconds=time.monotonic() - started,
                                   load=[after_control, load_average()], stderr_tail=smoke.stderr)
        runs["smoke"]["left"] = left(smoke)
    result = {
        "control": control.name, "definition": fingerprint(control), "args": list(control.args),
        "held": not problems, "problems": problems, "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "runs": runs,
    }
    directory = results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{control.name}.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
