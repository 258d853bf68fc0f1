"""LW-3: containers use less compute and memory.

Document: "轻量级" (lightweight): containers share the machine's kernel, so they need no
operating system per application, which raises server efficiency and lowers server and
licensing costs ("因此每个应用不需要操作系统，从而提高服务器效率，降低服务器和许可成本").
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from fixtures.core import evidence
from fixtures.core.applicability import not_run
from fixtures.core.stats import Distribution
from fixtures.core.waiting import wait_until
from fixtures.ledger.marks import claim
from fixtures.measure import container_cost, plots
from fixtures.measure.artifacts import publish_plot, publish_samples
from fixtures.measure.disturbance import quietly

IDLE_COMMAND = ["sleep", "3600"]
KIB = 1024  # /proc reports "kB" meaning KiB; figures are in MB (10^6 bytes)
# Enough parallel creates to load the engine, few enough for the SDK's connection pool (10).
PARALLEL_STARTS = 8
# A container whose memory cgroup moved less than this between two readings has settled.
SETTLED_BYTES = 256 * 1024


def _start_idle(resources, image: str, count: int) -> tuple[list, float]:
    """``count`` idle containers on the default bridge, created and started concurrently.

    Returns them, reloaded, and the seconds from the first create until all run.
    """
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(count, PARALLEL_STARTS)) as pool:
        containers = list(pool.map(lambda _: resources.container(image, IDLE_COMMAND), range(count)))

    def all_running() -> bool:
        for container in containers:
            container.reload()
        return all(c.attrs["State"]["Running"] for c in containers)

    wait_until(all_running, timeout=120, what=f"{count} idle containers to run")
    return containers, time.perf_counter() - started


def _located(engine_host, containers):
    """Each container's processes and cgroups; not run when they share one cgroup, where a
    reading would be the whole group's, not a container's (a rootless dockerd on cgroup v1
    has cgroup driver ``none`` and puts every container in its own session's cgroup)."""
    located = container_cost.locate(engine_host, {c.id: c.attrs["State"]["Pid"] for c in containers})
    directories = {c.cgroups.directory("memory") for c in located}
    if len(located) > 1 and len(directories) == 1:
        not_run(f"the {len(located)} containers have no cgroup of their own: all are in {directories.pop()} "
                "(the engine applies no cgroups to them), so no reading is a container's")
    return located


def _settled_memory(engine_host, located):
    """Memory readings once no container's usage still moves: "idle" is after start-up."""
    previous = {}

    def steady():
        readings = container_cost.memory(engine_host, located)
        moving = [r for r in readings
                  if abs(r.cgroup_bytes - previous.get(r.container_id, -SETTLED_BYTES)) >= SETTLED_BYTES]
        previous.update({r.container_id: r.cgroup_bytes for r in readings})
        return readings if not moving else None

    return wait_until(steady, timeout=60, what="the idle containers' memory to stop changing",
                      interval=0.5, max_interval=1.0)


@pytest.mark.quiet
@claim("LW-3", smoke=True)
def test_idle_container_memory_is_small(resources, alpine_image, engine_host, engine_target, thresholds,
                                        pytestconfig):
    """An idle container SHOULD cost little memory: its cgroup plus its runtime shim under a limit.

    Starts ``idle_containers`` idle containers (``sleep``, default bridge) concurrently, with
    the engine to itself (``quiet``), and reads on the engine's host, once no container's
    usage still moves (two readings 0.5 s apart within 256 KiB), each container's memory
    cgroup usage plus its runtime shim's PSS (``/proc/<shim>/smaps_rollup``; RSS recorded
    too). Each MUST stay under ``idle_memory_max_mb``. The engine daemon's RSS growth and the
    host's MemAvailable drop per container are recorded, with a bar chart per container.
    """
    count = thresholds.idle_containers
    limit = thresholds.idle_memory_max_mb
    daemon = container_cost.daemon_pid(engine_host, engine_target)
    daemon_before = container_cost.rss_kb(engine_host, daemon) if daemon else None
    available_before = container_cost.mem_available_kb(engine_host)
    containers, _ = _start_idle(resources, alpine_image.ref, count)
    readings = _settled_memory(engine_host, _located(engine_host, containers))
    available_after = container_cost.mem_available_kb(engine_host)
    daemon_after = container_cost.rss_kb(engine_host, daemon) if daemon else None

    cost = Distribution.of([r.cost_mb for r in readings])
    cgroup = Distribution.of([r.cgroup_bytes / 1e6 for r in readings])
    shim_rss = Distribution.of([r.shim_rss_kb * KIB / 1e6 for r in readings])
    shim_pss = Distribution.of([r.shim_pss_kb * KIB / 1e6 for r in readings])
    available_drop = (available_before - available_after) * KIB / 1e6 / count
    daemon_growth = (daemon_after - daemon_before) * KIB / 1e6 / count if daemon else None
    publish_samples(pytestconfig, "LW-3-memory-per-container", {
        "containers": count, "command": IDLE_COMMAND, "limit_mb_per_container": limit,
        "cost_mb (cgroup + shim PSS)": cost.as_dict(), "cgroup_mb": cgroup.as_dict(),
        "shim_rss_mb": shim_rss.as_dict(), "shim_pss_mb": shim_pss.as_dict(),
        "host_memavailable_drop_mb_per_container": round(available_drop, 3),
        "engine_daemon_pid": daemon,
        "engine_daemon_rss_growth_mb_per_container": round(daemon_growth, 3) if daemon else "not measured",
        "per_container": [r.as_dict() for r in readings]})
    publish_plot(pytestconfig, "LW-3-memory-per-container", plots.stacked_bars(
        f"LW-3: memory of {count} idle containers", [r.container_id[:12] for r in readings],
        {"memory cgroup": [r.cgroup_bytes / 1e6 for r in readings],
         "runtime shim (PSS)": [r.shim_pss_kb * KIB / 1e6 for r in readings]},
        "MB", limit=("limit", limit)))
    evidence.figure("memory per idle container", round(cost.mean, 2), "MB", better="lower")
    evidence.figure("cgroup per container", round(cgroup.mean, 3), "MB", better="lower")
    evidence.figure("shim RSS", round(shim_rss.mean, 1), "MB", better="lower", noise=1)
    evidence.figure("shim PSS", round(shim_pss.mean, 1), "MB", better="lower", noise=1)
    evidence.figure("MemAvailable drop per container", round(available_drop, 2), "MB", better="lower")
    if daemon:
        evidence.figure("dockerd growth per container", round(daemon_growth, 3), "MB", better="lower", noise=0.5)
    heavy = [r for r in readings if r.cost_mb > limit]
    assert not heavy, (f"{len(heavy)} of {count} idle containers cost more than {limit} MB each "
                       f"(cgroup + shim PSS): " + ", ".join(
                           f"{r.container_id[:12]} {r.cost_mb:.1f} MB (cgroup {r.cgroup_bytes / 1e6:.1f} MB, "
                           f"shim PSS {r.shim_pss_kb * KIB / 1e6:.1f} MB)" for r in heavy[:5]))


@pytest.mark.quiet
@claim("LW-3")
def test_idle_container_cpu_is_small(resources, alpine_image, engine_host, thresholds, pytestconfig):
    """An idle container SHOULD use almost no CPU: its cgroup and shim under a limit at rest.

    Starts ``idle_containers`` idle containers (``sleep``, default bridge) concurrently, with
    the engine to itself (``quiet``), and reads on the engine's host the CPU time of each
    container's cgroup and of its runtime shim at the start and the end of a window of
    ``idle_cpu_window_s`` (taken again while the engine's events show someone else's work
    on it). Each container's share MUST stay under ``idle_cpu_max_pct`` of one CPU.
    """
    count = thresholds.idle_containers
    window = thresholds.idle_cpu_window_s
    limit = thresholds.idle_cpu_max_pct
    containers, _ = _start_idle(resources, alpine_image.ref, count)
    located = _located(engine_host, containers)
    ticks_per_s = container_cost.clock_ticks(engine_host)

    def measure():
        before = container_cost.cpu_snapshot(engine_host, located)
        opened = time.perf_counter()
        time.sleep(window)  # the measurement window itself: idle CPU is CPU used over time
        return before, container_cost.cpu_snapshot(engine_host, located), time.perf_counter() - opened

    (before, after, elapsed), watch = quietly(resources.client.api, resources.identity.run_id, measure)
    watch.report()
    usage = {}
    for cid, (cgroup_ns, shim_ticks) in after.items():
        container_s = (cgroup_ns - before[cid][0]) / 1e9
        shim_s = (shim_ticks - before[cid][1]) / ticks_per_s
        usage[cid] = {"container_pct": round(100 * container_s / elapsed, 4),
                      "shim_pct": round(100 * shim_s / elapsed, 4),
                      "total_pct": round(100 * (container_s + shim_s) / elapsed, 4)}
    total = Distribution.of([u["total_pct"] for u in usage.values()])
    publish_samples(pytestconfig, "LW-3-idle-cpu", {"containers": count, "window_s": round(elapsed, 3),
                                              "limit_pct_per_container": limit,
                                              "total_pct": total.as_dict(), "per_container": usage})
    evidence.figure("idle CPU per container (mean)", round(total.mean, 3), "%", better="lower", noise=0.1)
    evidence.figure("idle CPU per container (max)", round(total.max, 3), "%", better="lower", noise=0.5)
    busy = {cid[:12]: u for cid, u in usage.items() if u["total_pct"] > limit}
    assert not busy, (f"{len(busy)} of {count} idle containers used more than {limit}% of a CPU over "
                      f"{elapsed:.1f} s (container + shim): {busy}")


@pytest.mark.quiet
@claim("LW-3")
def test_many_containers_start_and_go_quickly(resources, alpine_image, thresholds, pytestconfig):
    """N containers at once SHOULD be cheap: all running soon after the first create, then gone.

    Creates and starts ``idle_containers`` idle containers (``sleep``, default bridge)
    concurrently, with the engine to itself (``quiet``). All MUST be running within
    ``density_start_s`` of the first create; removed concurrently, none MUST still be listed.
    """
    count = thresholds.idle_containers
    limit = thresholds.density_start_s
    containers, seconds = _start_idle(resources, alpine_image.ref, count)
    api = resources.client.api
    removing = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(count, PARALLEL_STARTS)) as pool:
        list(pool.map(lambda c: api.remove_container(c.id, force=True, v=True), containers))
    removed_s = time.perf_counter() - removing
    left = [c.id[:12] for c in containers if api.containers(all=True, filters={"id": c.id})]
    publish_samples(pytestconfig, "LW-3-density", {"containers": count, "parallel_requests": PARALLEL_STARTS,
                                             "all_running_after_s": round(seconds, 3),
                                             "all_removed_after_s": round(removed_s, 3),
                                             "limit_s": limit, "left_after_remove": left})
    evidence.figure("containers", count)
    evidence.figure("all running after", round(seconds, 2), "s", noise=0.5)
    evidence.figure("all removed after", round(removed_s, 2), "s", noise=0.5)
    assert seconds <= limit, f"{count} containers started concurrently took {seconds:.1f} s to all run, over {limit} s"
    assert not left, f"{len(left)} of {count} containers are still listed after removal: {left}"
