"""Negative controls: a weakened engine or setting on which named checks must fail.

A control runs chosen suite tests against the faulty engine (or with a weakening option)
and passes only if exactly the expected tests fail, each with a message naming what
leaked. A check that still passes on its control is a check that cannot fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import docker

from selftests.conftest import SuiteRun, SuiteRunner, leftovers, remove_run


@dataclass(frozen=True)
class Control:
    name: str
    select: tuple[str, ...]  # suite paths or node ids to run
    expect: dict[str, str]  # node id fragment -> fragment of its failure message
    # node id fragment -> the outcome it must have instead of failing: "passed", "not
    # applicable" (the case does not apply on this host) or "not run"
    outcomes: dict[str, str] = field(default_factory=dict)
    faults: tuple[str, ...] = ()  # faulty-engine faults; none means the real engine
    args: tuple[str, ...] = ()  # extra suite options (a weakened setting)
    fakes_removal: bool = False  # the control leaves objects behind on purpose

    def __str__(self) -> str:
        return self.name


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
        assert not problems, "\n".join(problems) + "\n" + run.describe()
    finally:
        if run.summary and control.fakes_removal:
            remove_run(real_client, run.summary["run"]["id"])
    assert_nothing_left(real_client, run)
    return run
