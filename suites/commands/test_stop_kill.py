"""CMD-6 and CMD-7: ``docker container stop`` stops gracefully; ``docker container kill`` at once.

Document: the command list ("docker container stop <hash>  # Gracefully stop the specified
container"; "docker container kill <hash>  # Force shutdown of the specified container").

What signal reached the app is read where the container records it, not from the engine's
account of what it sent: the app's SIGTERM handler writes "received SIGTERM" to its log
(stamped by the engine as the line arrives), and the kernel's exit status tells a SIGKILL
(137) from the app's own exit. The engine's events are attached as extra evidence only;
engines word them differently (Podman's carry no signal).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fixtures.core import evidence
from fixtures.core.waiting import wait_until
from fixtures.engine.events import daemon_now_ns, engine_time_ns, events_as_evidence
from fixtures.images.friendlyname import CONTEXT
from fixtures.ledger.marks import claim

CONTEXTS = CONTEXT.parent
# The ignoring app is stopped with `-t SHORT_GRACE_S` instead of the default 10 s, so the
# grace period is measured without waiting ten seconds; the mechanism is the same.
SHORT_GRACE_S = 2
DEFAULT_GRACE_S = 10  # the engine's default when neither the image nor the CLI sets one
EXITS_S = 60  # a bound on waiting for the app to end, not a threshold
SIGTERM_RECORD = "received SIGTERM"
KILLED = 128 + 9  # the exit code of a process ended by SIGKILL


@pytest.fixture
def start_app(build_image, labelled_cli, engine, alpine_image):
    """``start_app("term-recorder")``: a running container of that context, past its "ready"."""

    def start(context: str) -> str:
        # No build cache: images of parallel tests sharing untagged parents make the engine's
        # concurrent removals trip over each other ("unrecognized image ID", dockerd 20.10).
        image, _ = build_image(CONTEXTS / context, buildargs={"BASE": alpine_image.ref}, nocache=True)
        container = labelled_cli.create("run", "-d", image.id).check(f"starting the {context} app").stdout.strip()
        wait_until(lambda: b"ready" in engine.api.logs(container), timeout=30,
                   what=f"the {context} app to install its signal handling")
        return container

    return start


@dataclass(frozen=True)
class Ending:
    """How the app ended, as the container recorded it."""

    exit_code: int
    finished_ns: int  # State.FinishedAt
    sigterm_ns: int | None  # when the engine logged the app's "received SIGTERM", if it did
    log: str

    @property
    def sigterm_to_exit_s(self) -> float | None:
        return None if self.sigterm_ns is None else (self.finished_ns - self.sigterm_ns) / 1e9


def _ending(engine, container: str, since_ns: int) -> Ending:
    """Wait (bounded) for the app to end; its exit, its log, and the engine's events as evidence."""

    def exited() -> dict | None:
        state = engine.api.inspect_container(container)["State"]
        return state if state["Status"] == "exited" else None

    state = wait_until(exited, timeout=EXITS_S, what=f"the app in {container[:12]} to exit")
    stamped = engine.api.logs(container, timestamps=True).decode(errors="replace").splitlines()
    records = [line.partition(" ") for line in stamped]
    sigterm = next((engine_time_ns(stamp) for stamp, _, text in records if text.strip() == SIGTERM_RECORD), None)
    events = events_as_evidence(engine, since_ns, container=container)
    evidence.as_json("State after", state)
    evidence.text("container log (engine's stamps)", "\n".join(stamped) or "(empty)")
    evidence.as_json("engine events (extra evidence)", events)
    if isinstance(events, list):
        evidence.figure("signals in the engine's events", ", ".join(
            e["attributes"].get("signal", "?") for e in events if e["action"] == "kill") or "none")
    return Ending(state["ExitCode"], engine_time_ns(state["FinishedAt"]), sigterm,
                  "\n".join(text for _, _, text in records))


@claim("CMD-6", smoke=True)
def test_stop_delivers_sigterm_and_lets_the_app_exit(labelled_cli, engine, start_app):
    """``docker container stop <hash>`` MUST deliver SIGTERM and let the app exit cleanly
    within the grace period, with no SIGKILL.

    An app whose SIGTERM handler writes "received SIGTERM" to its log and exits 0 is
    stopped with the command as written. The log MUST hold that record (the app got
    SIGTERM), the exit code MUST be 0 (its handler ended it: a SIGKILL shows as 137), and
    the app MUST have ended within the default 10 s grace of its record.
    """
    container = start_app("term-recorder")
    since = daemon_now_ns(engine)
    stopped = labelled_cli("container", "stop", container)
    ending = _ending(engine, container, since)
    evidence.figure("docker container stop took", round(stopped.duration_s, 3), "s", noise=0.2)
    stopped.check()
    assert ending.sigterm_ns is not None, \
        f"the app's SIGTERM handler never ran: no SIGTERM reached it before it ended (exit code " \
        f"{ending.exit_code}{', SIGKILL' if ending.exit_code == KILLED else ''}), " \
        f"{stopped.duration_s:.2f} s into `docker container stop`"
    evidence.figure("SIGTERM to exit", round(ending.sigterm_to_exit_s * 1000, 1), "ms", noise=25)
    assert ending.exit_code != KILLED, "the app was killed (exit code 137, SIGKILL) although it exits on SIGTERM"
    assert ending.exit_code == 0, f"the app exited {ending.exit_code}, not 0 from its handler"
    assert ending.sigterm_to_exit_s < DEFAULT_GRACE_S, \
        f"the app ended {ending.sigterm_to_exit_s:.3f} s after its SIGTERM, not within the grace period"


@claim("CMD-6")
def test_stop_kills_an_app_that_ignores_sigterm_after_the_grace(labelled_cli, engine, start_app, thresholds):
    """``docker container stop -t 2 <hash>`` MUST send SIGKILL to an app that does not exit on
    SIGTERM, and only once the grace period has passed.

    An app that records SIGTERM in its log and carries on is stopped with ``-t 2`` (a
    short grace instead of the default 10 s, to keep the run fast). Its log MUST hold the
    SIGTERM record (SIGTERM came first), its exit code MUST be 137 (the kernel ended it
    with SIGKILL), and it MUST have ended no earlier than 2 s and no later than 2 s +
    ``stop_grace_tolerance_s`` after its SIGTERM record (the engine's log stamp of the
    record to its ``State.FinishedAt``). The measured grace is a key figure.
    """
    container = start_app("term-ignorer")
    since = daemon_now_ns(engine)
    stopped = labelled_cli("container", "stop", "-t", str(SHORT_GRACE_S), container)
    ending = _ending(engine, container, since)
    evidence.figure("stop grace (-t)", SHORT_GRACE_S, "s")
    evidence.figure("docker container stop took", round(stopped.duration_s, 3), "s", noise=0.2)
    stopped.check()
    assert ending.sigterm_ns is not None, \
        f"SIGKILL came without a SIGTERM first: the app recorded no SIGTERM (exit code {ending.exit_code})"
    assert ending.exit_code == KILLED, f"the app exited {ending.exit_code}, not 137 (SIGKILL)"
    grace = ending.sigterm_to_exit_s
    evidence.figure("SIGTERM to SIGKILL (measured grace)", round(grace, 3), "s")
    tolerance = thresholds.stop_grace_tolerance_s
    assert grace >= SHORT_GRACE_S, \
        f"SIGKILL came {grace:.3f} s after SIGTERM, before the {SHORT_GRACE_S} s grace period ended"
    assert grace <= SHORT_GRACE_S + tolerance, (f"SIGKILL came {grace:.3f} s after SIGTERM, over the "
                                                f"{SHORT_GRACE_S} s grace + stop_grace_tolerance_s = {tolerance}")


@claim("CMD-7", smoke=True)
def test_kill_is_immediate(labelled_cli, engine, start_app, thresholds):
    """``docker container kill <hash>`` MUST shut the container down by force at once:
    SIGKILL, exit code 137.

    Kills, with the command as written, an app whose SIGTERM handler would record
    "received SIGTERM" and exit 0. The handler MUST NOT have run (no SIGTERM reached the
    app), the exit code MUST be 137 (the kernel ended it with SIGKILL), and the container
    MUST have ended within ``kill_max_s`` of the command: from the daemon's clock just
    before it to ``State.FinishedAt``, an upper bound on SIGKILL to exit.
    """
    container = start_app("term-recorder")
    since = daemon_now_ns(engine)
    killed = labelled_cli("container", "kill", container)
    ending = _ending(engine, container, since)
    killed.check()
    assert ending.sigterm_ns is None, \
        f"kill delivered SIGTERM, not SIGKILL: the app's handler ran and it exited {ending.exit_code}"
    assert ending.exit_code == KILLED, f"the app exited {ending.exit_code}, not 137 (SIGKILL)"
    took = (ending.finished_ns - since) / 1e9
    evidence.figure("kill to exit", round(took * 1000, 1), "ms", noise=25)
    assert took <= thresholds.kill_max_s, \
        f"the container ended {took:.3f} s after `docker container kill`, over kill_max_s = {thresholds.kill_max_s}"
