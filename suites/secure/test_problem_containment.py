"""SEC-3: Docker limits an app's problems to a single container instead of the whole machine.

Document: "安全" (secure): "Docker将应用的问题限制在单个容器中，而不是整个机器".

Every hog here is bounded, so that on an engine that drops the limits (the negative
control) the check fails without harming the machine: the memory hog allocates four
times its limit, the fork bomb starts at most eight times its pids limit.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from fixtures.core import evidence
from fixtures.core.waiting import wait_until
from fixtures.inspection import cgroups
from fixtures.inspection.run_to_exit import run_to_exit
from fixtures.ledger.marks import claim
from fixtures.network.http_neighbour import Sampler, start_neighbour

MEMORY_LIMIT_MB = 32
PIDS_LIMIT = 32
FORKS = PIDS_LIMIT * 8


def _neighbour_verdict(sampler: Sampler, thresholds) -> None:
    limit = thresholds.neighbour_max_response_ms
    dist = sampler.distribution()
    evidence.as_json("neighbour response times", sampler.as_dict())
    if dist:
        evidence.figure("neighbour max response", round(dist.max, 1), "ms", noise=20)
    assert not sampler.failures, (f"the neighbour failed {len(sampler.failures)} of {len(sampler.samples)} "
                                  f"requests during the hog: {sampler.failures[:3]}")
    assert dist and dist.max <= limit, \
        f"the neighbour slowed down during the hog: {dist.line() if dist else 'no samples'} (limit {limit} ms)"


def _sample_a_little_longer(sampler: Sampler, extra: int = 3) -> None:
    wanted = len(sampler.samples) + extra
    wait_until(lambda: len(sampler.samples) >= wanted, timeout=30, what="the neighbour to be sampled after the hog")


@claim("SEC-3", smoke=True)
def test_memory_hog_is_oom_killed_alone(resources, alpine_image, nginx_image, engine, engine_target, thresholds):
    """A container that allocates past its memory limit MUST be OOM-killed alone.

    Starts a neighbour nginx and samples its HTTP response time every 100 ms; then runs a
    hog limited to 32 MiB (swap included) that holds 128 MiB in memory. The hog must end
    with State.OOMKilled true and exit code 137, the engine's ``oom`` event must name it,
    and the neighbour must answer every request within ``neighbour_max_response_ms``.
    """
    neighbour = start_neighbour(resources, nginx_image.ref, engine_target.url)
    since = datetime.now(timezone.utc)
    with Sampler(neighbour) as sampler:
        hog = resources.container(alpine_image.ref,
                                  ["sh", "-c", f"head -c {MEMORY_LIMIT_MB * 4}m /dev/zero | tail > /dev/null"],
                                  mem_limit=f"{MEMORY_LIMIT_MB}m", memswap_limit=f"{MEMORY_LIMIT_MB}m",
                                  network_mode="none")
        code = hog.wait(timeout=60)["StatusCode"]
        _sample_a_little_longer(sampler)
    hog.reload()
    state, host_config = hog.attrs["State"], hog.attrs["HostConfig"]
    # The events API counts in whole seconds: end the query a second late, or an event of
    # this very second could be cut off.
    events = list(engine.events(since=since - timedelta(seconds=1),
                                until=datetime.now(timezone.utc) + timedelta(seconds=1),
                                filters={"container": hog.id}, decode=True))
    evidence.as_json("hog", {"State": state, "HostConfig.Memory": host_config.get("Memory"),
                             "HostConfig.MemorySwap": host_config.get("MemorySwap"),
                             "events": [e.get("status") or e.get("Action") for e in events]})
    evidence.figure("hog exit code", code)
    evidence.figure("OOMKilled", str(state["OOMKilled"]))
    assert state["OOMKilled"] and code == 137, (
        f"the hog was not OOM-killed: exit {code}, OOMKilled={state['OOMKilled']} after holding "
        f"{MEMORY_LIMIT_MB * 4} MiB with a {MEMORY_LIMIT_MB} MiB memory limit (HostConfig.Memory={host_config.get('Memory')})")
    assert any((e.get("status") or e.get("Action")) == "oom" for e in events), \
        f"the engine reported no oom event for the hog: {[e.get('status') for e in events]}"
    neighbour.container.reload()
    assert neighbour.container.status == "running", f"the neighbour is {neighbour.container.status} after the hog"
    _neighbour_verdict(sampler, thresholds)


FORK_BOMB = ("$| = 1; my ($ok, $refused) = (0, 0); for (1 .. %d) { my $pid = fork(); "
             "if (!defined $pid) { $refused++ } elsif ($pid == 0) { sleep 120; exit 0 } else { $ok++ } } "
             "print qq(bomb-done started=$ok refused=$refused\\n); sleep 120;")


@claim("SEC-3")
def test_fork_bomb_is_contained(resources, nginx_image, engine, engine_target, engine_host, thresholds):
    """A fork bomb under ``--pids-limit`` MUST stay inside its container.

    Starts a neighbour nginx and samples it; runs a container with ``--pids-limit 32``
    that tries to fork 256 processes (perl, counting refused forks). Its processes (the
    cgroup's ``pids.current`` on the host) must stay within the limit and forks must have
    been refused; meanwhile the host must still start processes and the neighbour must
    answer every request within ``neighbour_max_response_ms``.
    """
    neighbour = start_neighbour(resources, nginx_image.ref, engine_target.url)
    with Sampler(neighbour) as sampler:
        bomb = resources.container(nginx_image.ref, ["perl", "-e", FORK_BOMB % FORKS],
                                   pids_limit=PIDS_LIMIT, network_mode="none")
        wait_until(lambda: b"bomb-done" in bomb.logs(), timeout=60, what="the fork bomb to finish forking")
        bomb.reload()
        pids_dir = cgroups.of_process(engine_host, bomb.attrs["State"]["Pid"]).directory("pids")
        counters = cgroups.read(engine_host, [f"{pids_dir}/pids.current", f"{pids_dir}/pids.events"])
        current = int(counters[f"{pids_dir}/pids.current"].strip())
        events = counters[f"{pids_dir}/pids.events"].strip()
        host_spawn = engine_host.run("for i in $(seq 20); do /bin/true || exit 1; done; echo spawned")
        _sample_a_little_longer(sampler)
    report = bomb.logs().decode(errors="replace").strip().splitlines()[-1]
    counts = dict(part.split("=") for part in report.split()[1:])
    evidence.as_json("fork bomb", {"pids limit": PIDS_LIMIT, "forks tried": FORKS, "bomb says": report,
                                   "HostConfig.PidsLimit": bomb.attrs["HostConfig"].get("PidsLimit"),
                                   "cgroup": pids_dir, "pids.current": current, "pids.events": events,
                                   "host spawn": [host_spawn.rc, host_spawn.stdout.strip()]})
    evidence.figure("bomb processes", current)
    assert int(counts["refused"]) > 0 and current <= PIDS_LIMIT, (
        f"the fork bomb was not contained: it started {counts['started']} of {FORKS} processes and its "
        f"cgroup holds {current} (pids limit asked: {PIDS_LIMIT}, HostConfig.PidsLimit="
        f"{bomb.attrs['HostConfig'].get('PidsLimit')})")
    assert host_spawn.rc == 0 and "spawned" in host_spawn.stdout, \
        f"the host could not start processes during the fork bomb: {host_spawn.stderr.strip()}"
    _neighbour_verdict(sampler, thresholds)


@pytest.mark.quiet
@claim("SEC-3")
def test_cpu_quota_is_honoured(resources, alpine_image, engine_host, thresholds):
    """A container's CPU quota MUST be honoured within a tolerance.

    Runs two busy loops (a demand of two CPUs) in a container with ``--cpus`` set to
    ``cpu_quota_cpus``, and samples its cgroup's CPU time on the host every 0.25 s over
    ``cpu_window_s`` seconds. CPUs used = CPU time / wall time over the window; it must not
    exceed the quota by more than ``cpu_quota_tolerance`` (a fraction of the quota), and
    the cgroup's ``cpu.stat`` must show the quota throttling it during the window (so the
    check holds on a busy host too, where the container may get less than its quota).
    Quiet: nothing else of the suite runs on the engine meanwhile.
    """
    quota, window = thresholds.cpu_quota_cpus, thresholds.cpu_window_s
    tolerance = thresholds.cpu_quota_tolerance
    busy = resources.container(alpine_image.ref, ["sh", "-c", "while :; do :; done & while :; do :; done"],
                               nano_cpus=int(quota * 1e9), network_mode="none")
    pid = busy.attrs["State"]["Pid"]
    found = cgroups.of_process(engine_host, pid)
    usage_dir, cpu_dir = found.directory("cpuacct"), found.directory("cpu")
    usage_file, stat_file = found.cpu_usage_file(), f"{cpu_dir}/cpu.stat"
    series = []
    started = time.monotonic()
    while True:
        now = time.monotonic()
        files = cgroups.read(engine_host, [usage_file, stat_file])
        series.append({"t_s": round(now - started, 3), "cpu_ns": cgroups.cpu_ns(files[usage_file]),
                       "nr_throttled": cgroups.counters(files[stat_file]).get("nr_throttled", 0)})
        if now - started >= window:
            break
        # The pacing of the measurement window, not a wait for a condition.
        time.sleep(0.25)
    # The first quarter second is the loops starting up; measure from the second sample on.
    first, last = series[1], series[-1]
    used = (last["cpu_ns"] - first["cpu_ns"]) / 1e9 / (last["t_s"] - first["t_s"])
    throttled = last["nr_throttled"] - first["nr_throttled"]
    nano_cpus = busy.attrs["HostConfig"].get("NanoCpus")
    evidence.as_json("CPU time series", {"quota_cpus": quota, "window_s": window, "tolerance": tolerance,
                                         "cgroups": [usage_dir, cpu_dir], "HostConfig.NanoCpus": nano_cpus,
                                         "cpus_used": round(used, 3), "periods_throttled": throttled,
                                         "series": series})
    evidence.figure("CPUs used", round(used, 3), f"(quota {quota})")
    evidence.figure("periods throttled", throttled)
    assert used <= quota * (1 + tolerance), (
        f"the CPU quota was not honoured: the container used {used:.2f} CPUs under a quota of {quota} "
        f"(tolerance +{tolerance * quota:.2f}; HostConfig.NanoCpus={nano_cpus})")
    assert throttled > 0, (
        f"the CPU quota was not honoured: a container wanting 2 CPUs under a quota of {quota} was never "
        f"throttled in {window} s (it used {used:.2f} CPUs; HostConfig.NanoCpus={nano_cpus})")


# A real segmentation fault (a read of address 8), not a signal sent with kill, which the
# kernel would not deliver to a namespace's init.
SEGFAULT = ["perl", "-e", 'unpack("p", pack("J", 8))']


@claim("SEC-3")
def test_crash_leaves_others_running(resources, alpine_image, nginx_image):
    """A crash in one container MUST leave the others running, untouched.

    Starts two containers, then a third whose main process dies of a segmentation fault.
    The third must exit 139; the other two must still run, with the same process, start
    time and a restart count of 0.
    """
    others = [resources.container(alpine_image.ref, ["sleep", "300"], network_mode="none") for _ in range(2)]
    before = {c.id: (c.attrs["State"]["Pid"], c.attrs["State"]["StartedAt"]) for c in others}
    crash = run_to_exit(resources, nginx_image.ref, SEGFAULT, network_mode="none")
    after = {}
    for c in others:
        c.reload()
        after[c.id] = (c.attrs["State"]["Pid"], c.attrs["State"]["StartedAt"], c.status, c.attrs["RestartCount"])
    evidence.as_json("crash", {"crashed": crash.as_dict(), "others before": before, "others after": after})
    evidence.figure("crash exit code", crash.exit_code)
    assert crash.exit_code == 139, f"the crashing container exited {crash.exit_code}, not 139 (SIGSEGV): {crash.output}"
    for c in others:
        pid, started, status, restarts = after[c.id]
        assert status == "running" and (pid, started) == before[c.id] and restarts == 0, \
            f"container {c.id[:12]} was disturbed by the crash: {status}, pid {before[c.id][0]}->{pid}, restarts {restarts}"


WRITES = "echo changed > /etc/alpine-release && rm /etc/motd && echo new > /tmp/{marker} && echo new > /{marker}"
READ_BACK = "cat /etc/alpine-release; [ -e /etc/motd ] && echo motd-present; ls /tmp/{marker} /{marker} 2>/dev/null; true"


@claim("SEC-3", cases=["image", "neighbour"])
def test_writes_stay_in_their_container(case, resources, alpine_image, engine):
    """Writes in one container MUST change neither its image nor another container.

    A writer changes ``/etc/alpine-release``, deletes ``/etc/motd`` and creates files in
    ``/`` and ``/tmp``. ``image``: the image's id and layers are unchanged, the engine's
    ``diff`` of the writer lists the changes, and a new container of the image sees the
    original files. ``neighbour``: a container of the same image started before the writes
    still sees the original files.
    """
    marker = f"cow-{uuid.uuid4().hex[:12]}"
    image_before = engine.api.inspect_image(alpine_image.image_id)
    neighbour = resources.container(alpine_image.ref, ["sleep", "300"], network_mode="none")
    original = neighbour.exec_run(["sh", "-c", READ_BACK.format(marker=marker)]).output.decode().strip()
    writer = run_to_exit(resources, alpine_image.ref, ["sh", "-c", WRITES.format(marker=marker)], network_mode="none")
    assert writer.exit_code == 0, f"the writer failed: {writer.output}"
    changes = engine.api.diff(writer.container.id)
    if case == "image":
        image_after = engine.api.inspect_image(alpine_image.image_id)
        fresh = run_to_exit(resources, alpine_image.ref, ["sh", "-c", READ_BACK.format(marker=marker)],
                            network_mode="none")
        seen = fresh.output
        evidence.as_json("image", {"layers before": image_before["RootFS"]["Layers"],
                                   "layers after": image_after["RootFS"]["Layers"], "writer diff": changes})
        assert image_after["Id"] == image_before["Id"] and \
            image_after["RootFS"]["Layers"] == image_before["RootFS"]["Layers"], "the writes changed the image"
    else:
        seen = neighbour.exec_run(["sh", "-c", READ_BACK.format(marker=marker)]).output.decode().strip()
    evidence.as_json("files", {"original": original, f"{case} sees": seen, "writer diff": changes})
    assert {"path": "/etc/alpine-release", "kind": 0} in [{"path": c["Path"], "kind": c["Kind"]} for c in changes], \
        f"the engine's diff of the writer does not list its change of /etc/alpine-release: {changes}"
    assert seen == original, f"the {case} sees the writer's changes: {seen!r}, was {original!r}"
