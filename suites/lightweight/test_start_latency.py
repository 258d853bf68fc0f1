"""LW-2: containers start instantly.

Document: "轻量级" (lightweight): containers start instantly ("容器能够即时启动").
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fixtures.core import evidence
from fixtures.core.stats import Distribution
from fixtures.engine.events import EventRecorder
from fixtures.engine.plugin import reachable_engine_host
from fixtures.ledger.marks import claim
from fixtures.measure import host_load, plots, start_latency
from fixtures.measure.artifacts import publish_plot, publish_samples
from fixtures.measure.disturbance import quietly
from fixtures.network.published import published_host
from fixtures.run.identity import TEST

# The phases of a sample, in the order they happen, with the names the report uses.
PHASES = {
    "create_ms": "create (client)",
    "start_ms": "start (client)",
    "ready_ms": "first output or port answers (client)",
    "run_to_exit_ms": "to exit (client)",
    "remove_ms": "remove (client)",
    "engine_create_to_start_ms": "Created -> StartedAt (engine)",
    "engine_run_ms": "StartedAt -> FinishedAt (engine)",
    "event_create_to_start_ms": "create -> start event (engine)",
    "event_start_to_die_ms": "start -> die event (engine)",
    "event_die_to_destroy_ms": "die -> destroy event (engine)",
}


@dataclass(frozen=True)
class StartMode:
    what: str  # for the report
    network_mode: str
    server: bool  # True: time to a published port that answers; False: to first output and exit


MODES = {
    "none": StartMode("`echo` with --network none, to first output and exit", "none", server=False),
    "bridge": StartMode("`echo` on the default bridge, to first output and exit", "bridge", server=False),
    "port": StartMode("a server on the default bridge with a published port, until the port answers",
                      "bridge", server=True),
}
READY = b"ready"


def _take(mode: StartMode, resources, image: str, probe_host: str):
    if mode.server:
        # busybox nc answers every connection with "ready": an answer proves the container
        # itself is serving, not just the engine's proxy accepting on the host port.
        return lambda: start_latency.one_server_start(
            resources, image, ["nc", "-lk", "-p", "80", "-e", "echo", "ready"], container_port=80,
            probe_host=probe_host, expect=READY, network_mode=mode.network_mode)
    return lambda: start_latency.one_start(resources, image, ["echo", "ready"], first_output=True,
                                           network_mode=mode.network_mode)


def _phase_summary(samples) -> dict:
    summary = {}
    for field, name in PHASES.items():
        values = [getattr(s, field) for s in samples if getattr(s, field) is not None]
        if values:
            summary[name] = Distribution.of(values).as_dict()
    return summary


@pytest.mark.quiet
@claim("LW-2", cases=list(MODES), smoke="none")
def test_start_latency(case, resources, alpine_image, thresholds, engine_target, request, pytestconfig):
    """A container SHOULD start instantly: p50 and p95 of its start within the thresholds.

    For each start mode (``--network none``; the default bridge; a published port until it
    answers), after ``start_warmup`` uncounted starts, takes ``start_samples`` starts one
    after another with the engine to itself (``quiet``; taken again, up to three times, while
the engine's events show someone else's work on it). Each sample is timed phase by
    phase by the client (create, start, first output or port answer, exit, remove) and by
    the engine (Created/StartedAt/FinishedAt and the create/start/die/destroy events). The
    end to end figure is create until the container has done its work (exited after its
    first output, or answered on its port). Checks:

    * p50 <= ``start_p50_ms`` and p95 <= ``start_p95_ms`` (``conformance.toml`` gives the
      evidence behind both: a runtime half a second slower fails them);
    * p50 >= ``start_floor_ms``: a faster "container" is not being isolated at all.

    Recorded with it: how busy the engine's host was during the sample (its load average and
    the share of the time some task waited for a CPU), and the ratio to a plain fork+exec of
    ``true`` (context only: the spawn's own jitter moves it threefold). Every sample is
    attached as JSON, with a histogram and CDF per mode.
    """
    mode = MODES[case]
    samples_n, warmup = thresholds.start_samples, thresholds.start_warmup
    spawn = Distribution.of(start_latency.process_spawn_ms(samples_n))
    take = _take(mode, resources, alpine_image.ref, published_host(engine_target.url))
    host = reachable_engine_host(pytestconfig, engine_target)
    load_before = host_load.read(host) if host else None

    def measure():
        with EventRecorder(resources.client.api, f"{TEST}={request.node.nodeid}") as events:
            taken = start_latency.repeat(take, samples=samples_n, warmup=warmup)
            return taken, events, events.settled(taken[-1].container_id)

    # Taken again while another run's or user's work on the engine disturbs it (its events).
    (samples, events, events_complete), watch = quietly(resources.client.api, resources.identity.run_id, measure)
    watch.report()
    load = host_load.between(load_before, host_load.read(host)) if host else \
        "not read: the engine's host cannot be reached"
    samples = [start_latency.with_events(s, events) for s in samples]

    total = Distribution.of([s.total_ms for s in samples])
    life = Distribution.of([s.life_ms for s in samples])
    ratio = total.p50 / spawn.p50
    limits = {name: getattr(thresholds, name) for name in ("start_p50_ms", "start_p95_ms", "start_floor_ms")}
    publish_samples(pytestconfig, f"LW-2-{case}-start-samples", {
        "mode": mode.what, "image": alpine_image.ref, "warmup": warmup, "thresholds": limits,
        "end_to_end_ms": total.as_dict(), "with_remove_ms": life.as_dict(), "host_load": load,
        "process_spawn_ms": spawn.as_dict(), "ratio_to_process_spawn": round(ratio, 1),
        "engine_events_recorded": events_complete, "phases": _phase_summary(samples),
        "samples": [s.as_dict() for s in samples]})
    publish_plot(pytestconfig, f"LW-2-{case}-start-latency", plots.latency(
        f"LW-2 start latency: {mode.what}",
        {"create -> done (end to end)": [s.total_ms for s in samples],
         "create -> removed": [s.life_ms for s in samples]},
        {"p50 limit": thresholds.start_p50_ms, "p95 limit": thresholds.start_p95_ms}))
    # Named per mode: the summary gathers the figures of all three cases under LW-2.
    evidence.figure(f"{case} start p50", round(total.p50, 1), "ms")
    evidence.figure(f"{case} start p95", round(total.p95, 1), "ms")
    evidence.figure(f"{case} start max", round(total.max, 1), "ms")
    evidence.figure(f"{case} x process spawn", round(ratio), trend=False)
    evidence.figure(f"{case} with remove p50", round(life.p50, 1), "ms")
    busy = f"; {host_load.describe(load)}" if isinstance(load, dict) else ""

    if not mode.server:
        failed = [s.exit_code for s in samples if s.exit_code != 0]
        assert not failed, f"{len(failed)} of {len(samples)} `echo` containers exited non-zero: {failed[:5]}"
    assert total.p50 >= thresholds.start_floor_ms, \
        (f"start p50 {total.p50:.1f} ms is under the {thresholds.start_floor_ms} ms floor: "
         f"no container can be isolated that fast, so isolation is being skipped ({total.line()})")
    assert total.p50 <= thresholds.start_p50_ms, \
        f"start p50 {total.p50:.0f} ms exceeds {thresholds.start_p50_ms} ms ({mode.what}; {total.line()}{busy})"
    assert total.p95 <= thresholds.start_p95_ms, \
        f"start p95 {total.p95:.0f} ms exceeds {thresholds.start_p95_ms} ms ({mode.what}; {total.line()}{busy})"
