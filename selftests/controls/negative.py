"""Negative controls: a weakened engine or setting on which named checks must fail.

A control runs chosen suite tests against the faulty engine (or with a weakening option)
and passes only if exactly the expected tests fail, each with a message naming what
leaked. A check that still passes on its control is a check that cannot fail.

Every control is defined at module level in a ``test_*_controls.py`` file, so that the
control matrix (``selftests/control_matrix``, ``docs/control-matrix.md``) knows them all; a
test may narrow one with ``dataclasses.replace`` but keeps its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import docker

from selftests.conftest import SuiteRun, SuiteRunner, leftovers, remove_run
from selftests.control_matrix import record
from selftests.faulty_engine import is_response_only


@dataclass(frozen=True)
class Control:
    name: str
    select: tuple[str, ...]  # suite paths or node ids to run
    expect: dict[str, str]  # node id fragment -> fragment of its failure message
    # node id fragment -> the outcome it must have instead of failing: "passed", "not
    # applicable" (the case does not apply on this host) or "not run"
    outcomes: dict[str, str] = field(default_factory=dict)
    faults: tuple[str, ...] = ()  # faulty-engine faults in front of the engine it runs on; none: as it is
    args: tuple[str, ...] = ()  # extra suite options (a weakened setting)
    fakes_removal: bool = False  # the control leaves objects behind on purpose
    # A positive control: a stronger engine (or one only relabelled), on which the checks it
    # names in ``outcomes`` must pass; what it expects to fail is the host's, not a weakening's.
    positive: bool = False
    # What is weakened, in one line: the engine, daemon, image, registry or setting, and how.
    # Faults started by hand (on a second engine, or in front of a weakened daemon) are
    # still listed in ``faults``: they decide whether the control is response-only.
    weakens: str = field(kw_only=True)

    def __str__(self) -> str:
        return self.name

    @property
    def response_only(self) -> bool:
        """A fault of it only rewrites what the engine reports: what fails may be the report's
        doing, so it never counts as a claim's real control."""
        return any(is_response_only(fault) for fault in self.faults)


def unexpected(run, control: Control) -> list[str]:
    """Everything about the run's failures that differs from the control's expectation."""
    failing = {n: t["message"] for n, t in run.tests().items() if t["outcome"] in ("failed", "error")}
    problems = []
    for fragment, message_part in control.expect.items():
        hits = [n for n in failing if fragment in n]
        if not hits:
            problems.append(f"expected {fragment} to fail; it did not")
        for nodeid in hits:
            if message_part.lower() not in failing[nodeid].lower():
                problems.append(f"{nodeid} failed with {failing[nodeid]!r}, not naming {message_part!r}")
    extra = [n for n in failing if not any(f in n for f in control.expect)]
    problems += [f"{n} failed too: {failing[n]}" for n in extra]
    tests = run.tests()
    for fragment, outcome in control.outcomes.items():
        hits = {n: t["outcome"] for n, t in tests.items() if fragment in n}
        if not hits:
            problems.append(f"expected {fragment} to be {outcome}; it did not run")
        problems += [f"{n} is {got}, not {outcome}: {tests[n]['message']}" for n, got in hits.items() if got != outcome]
    if not run.tests():
        problems.append("no test ran")
    return problems


def assert_nothing_left(real_client: docker.DockerClient, run: SuiteRun) -> None:
    """The suite run left nothing of its own on the real engine."""
    if run.summary:
        assert leftovers(real_client, run.summary["run"]["id"]) == \
            {"containers": [], "images": [], "volumes": [], "networks": []}


def check_control(suite: SuiteRunner, control: Control, real_client: docker.DockerClient, *,
                  engine: str | None = None, env: dict[str, str] | None = None) -> SuiteRun:
    """Run the control's selection with its options against ``engine`` (None: the real one),
    check that exactly the expected tests failed, as expected, and that nothing was left.

    What a control that fakes removal left behind on purpose is removed first, by its run label.
    """
    run = suite(*control.select, *control.args, engine=engine, env=env)
    try:
        problems = unexpected(run, control)
    finally:
        _remove_what_it_faked(real_client, control, run)
    if record.enabled():
        # The control matrix: the smoke profile on the same weakened engine, and both runs'
        # verdicts per claim, recorded before this control's own verdict is given. What the
        # smoke run leaves (an engine that hides or keeps objects) is recorded, then removed.
        record.control_and_smoke(suite, control, run, problems, engine=engine, env=env,
                                 left=lambda done: _left_then_removed(real_client, done))
    assert not problems, "\n".join(problems) + "\n" + run.describe()
    assert_nothing_left(real_client, run)
    return run


def _remove_what_it_faked(real_client: docker.DockerClient, control: Control, run: SuiteRun) -> None:
    if run.summary and control.fakes_removal:
        remove_run(real_client, run.summary["run"]["id"])


def _left_then_removed(real_client: docker.DockerClient, run: SuiteRun) -> dict[str, list[str]]:
    if not run.summary:
        return {}
    left = leftovers(real_client, run.summary["run"]["id"])
    remove_run(real_client, run.summary["run"]["id"])
    return {kind: ids for kind, ids in left.items() if ids}
