"""CMD-6 and CMD-7: ``docker container stop`` stops gracefully; ``docker container kill`` at once.

Document: the command list ("docker container stop <hash>  # Gracefully stop the specified
container"; "docker container kill <hash>  # Force shutdown of the specified container").

Signals and their times come from the daemon's events (``kill`` with its ``signal``
attribute, then ``die`` with ``exitCode``), stamped in nanoseconds by the daemon.
"""

from __future__ import annotations

import pytest

from fixtures.core import evidence
from fixtures.core.waiting import wait_until
from fixtures.engine.cli_errors import error_line
from fixtures.engine.events import Event, daemon_now_ns, events_between
from fixtures.images.friendlyname import CONTEXT
from fixtures.ledger.marks import claim

CONTEXTS = CONTEXT.parent
# The ignoring app is stopped with `-t SHORT_GRACE_S` instead of the default 10 s, so the
# grace period is measured without waiting ten seconds; the mechanism is the same.
SHORT_GRACE_S = 2
DEFAULT_GRACE_S = 10  # the engine's default when neither the image nor the CLI sets one
SIGTERM, SIGKILL = "15", "9"


@pytest.fixture
def start_app(build_image, docker_cli, resources, engine, alpine_image):
    """``start_app("term-recorder")``: a running container of that context, past its "ready"."""

    def start(context: str) -> str:
        # No build cache: images of parallel tests sharing untagged parents make the engine's
        # concurrent removals trip over each other ("unrecognized image ID", dockerd 20.10).
        image, _ = build_image(CONTEXTS / context, buildargs={"BASE": alpine_image.ref}, nocache=True)
        result = docker_cli("run", "-d", *resources.label_flags(), image.id)
        assert result.ok, f"could not start the {context} app: {error_line(result.stderr)}"
        container = result.stdout.strip()
        resources.adopt_container(container)
        wait_until(lambda: b"ready" in engine.api.logs(container), timeout=30,
                   what=f"the {context} app to install its signal handling")
        return container

    return start


def _signals(events: list[Event]) -> list[tuple[str, str, int]]:
    return [(e.action, e.attributes.get("signal") or e.attributes.get("exitCode", ""), e.time_ns)
            for e in events if e.action in ("kill", "die")]


def _lifecycle(engine, container: str, since_ns: int) -> tuple[list[Event], dict]:
    engine.api.wait(container, timeout=60)
    events = events_between(engine, since_ns, daemon_now_ns(engine), container=container)
    state = engine.api.inspect_container(container)["State"]
    logs = engine.api.logs(container).decode(errors="replace")
    evidence.as_json("daemon events", [e.as_dict() for e in events])
    evidence.as_json("State after", state)
    evidence.text("container log", logs)
    return events, {"ExitCode": state["ExitCode"], "log": logs}


def _first(events: list[Event], action: str, signal: str | None = None) -> Event | None:
    return next((e for e in events if e.action == action
                 and (signal is None or e.attributes.get("signal") == signal)), None)


def case_handler_records_sigterm(docker_cli, engine, start_app, thresholds) -> None:
    container = start_app("term-recorder")
    since = daemon_now_ns(engine)
    result = docker_cli("container", "stop", container)
    events, after = _lifecycle(engine, container, since)
    term, kill, die = _first(events, "kill", SIGTERM), _first(events, "kill", SIGKILL), _first(events, "die")
    evidence.figure("docker container stop took", round(result.duration_s, 3), "s", noise=0.2)
    if term and die:
        evidence.figure("SIGTERM to exit", round((die.time_ns - term.time_ns) / 1e6, 1), "ms", noise=25)
    assert result.ok, f"`docker container stop` exited {result.exit_code}: {error_line(result.stderr)}"
    assert "received SIGTERM" in after["log"], \
        f"the app's SIGTERM handler never ran (exit code {after['ExitCode']}): no SIGTERM was delivered; " \
        f"signals seen: {_signals(events)}"
    assert term is not None, f"the daemon sent no SIGTERM; signals seen: {_signals(events)}"
    assert kill is None, "the daemon sent SIGKILL although the app exited on SIGTERM"
    assert after["ExitCode"] == 0, f"the app exited {after['ExitCode']}, not 0 from its handler"
    assert die and (die.time_ns - term.time_ns) / 1e9 < DEFAULT_GRACE_S, \
        "the app did not exit within the grace period"


def case_ignorer_killed_after_grace(docker_cli, engine, start_app, thresholds) -> None:
    container = start_app("term-ignorer")
    since = daemon_now_ns(engine)
    result = docker_cli("container", "stop", "-t", str(SHORT_GRACE_S), container)
    events, after = _lifecycle(engine, container, since)
    term, kill = _first(events, "kill", SIGTERM), _first(events, "kill", SIGKILL)
    evidence.figure("stop grace (-t)", SHORT_GRACE_S, "s")
    evidence.figure("docker container stop took", round(result.duration_s, 3), "s", noise=0.2)
    assert result.ok, f"`docker container stop` exited {result.exit_code}: {error_line(result.stderr)}"
    assert term is not None, f"SIGKILL came without a SIGTERM first; signals seen: {_signals(events)}"
    assert kill is not None, f"the daemon never sent SIGKILL to the app ignoring SIGTERM: {_signals(events)}"
    grace = (kill.time_ns - term.time_ns) / 1e9
    evidence.figure("SIGTERM to SIGKILL (measured grace)", round(grace, 3), "s")
    tolerance = thresholds.stop_grace_tolerance_s
    assert grace >= SHORT_GRACE_S, \
        f"SIGKILL came {grace:.3f} s after SIGTERM, before the {SHORT_GRACE_S} s grace period ended"
    assert grace <= SHORT_GRACE_S + tolerance, (f"SIGKILL came {grace:.3f} s after SIGTERM, over the "
                                                f"{SHORT_GRACE_S} s grace + stop_grace_tolerance_s = {tolerance}")
    assert after["ExitCode"] == 137, f"the app exited {after['ExitCode']}, not 137 (SIGKILL)"


@claim("CMD-6", cases={"handler-records-sigterm": case_handler_records_sigterm,
                       "ignorer-killed-after-grace": case_ignorer_killed_after_grace},
       smoke="handler-records-sigterm")
def test_stop_is_graceful(case, docker_cli, engine, start_app, thresholds):
    """``docker container stop <hash>`` MUST stop gracefully: SIGTERM first, time to exit
    cleanly within the grace period, and SIGKILL only after it.

    ``handler-records-sigterm``: an app whose SIGTERM handler writes "received SIGTERM" to
    its log and exits 0 is stopped with the command as written; the log MUST hold the
    record, the exit code MUST be 0, and the daemon's events MUST show SIGTERM (signal 15)
    and no SIGKILL. ``ignorer-killed-after-grace``: an app that ignores SIGTERM is stopped
    with ``-t 2`` (a short grace instead of the default 10 s, to keep the run fast); the
    events MUST show SIGTERM, then SIGKILL no earlier than 2 s and no later than 2 s +
    ``stop_grace_tolerance_s`` after it, and the exit code MUST be 137. The measured grace
    is a key figure.
    """
    case(docker_cli, engine, start_app, thresholds)


@claim("CMD-7", smoke=True)
def test_kill_is_immediate(docker_cli, engine, start_app, thresholds):
    """``docker container kill <hash>`` MUST shut the container down by force at once:
    SIGKILL, exit code 137.

    Kills, with the command as written, an app that would handle SIGTERM. The daemon's
    events MUST show SIGKILL (signal 9) and no SIGTERM; the app's SIGTERM handler MUST NOT
    have run; the exit code MUST be 137; and the container MUST die within
    ``kill_max_s`` of the signal.
    """
    container = start_app("term-recorder")
    since = daemon_now_ns(engine)
    result = docker_cli("container", "kill", container)
    events, after = _lifecycle(engine, container, since)
    kill, term, die = _first(events, "kill", SIGKILL), _first(events, "kill", SIGTERM), _first(events, "die")
    assert result.ok, f"`docker container kill` exited {result.exit_code}: {error_line(result.stderr)}"
    assert kill is not None, f"the daemon sent no SIGKILL; signals seen: {_signals(events)}"
    assert term is None and "received SIGTERM" not in after["log"], \
        "kill sent SIGTERM (the app's handler ran), not SIGKILL"
    assert after["ExitCode"] == 137, f"the app exited {after['ExitCode']}, not 137"
    assert die is not None, f"no die event after the kill: {_signals(events)}"
    took = (die.time_ns - kill.time_ns) / 1e9
    evidence.figure("SIGKILL to exit", round(took * 1000, 1), "ms", noise=25)
    assert took <= thresholds.kill_max_s, \
        f"the container died {took:.3f} s after SIGKILL, over kill_max_s = {thresholds.kill_max_s}"
