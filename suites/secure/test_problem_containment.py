"""SEC-3: Docker limits an app's problems to a single container instead of the whole machine.

Document: "安全" (secure): "Docker将应用的问题限制在单个容器中，而不是整个机器".

Every hog here is bounded, so that on an engine that drops the limits (the negative
control) the check fails without harming the machine: the memory hog allocates four
times its limit, the fork bomb starts at most eight times its pids limit. Each check
collects every condition that broke and fails once, naming them all, so that a neighbour
that suffered is reported even when the hog also escaped its limit.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from fixtures.core import evidence
from fixtures.core.waiting import Unrecoverable, wait_until
from fixtures.inspection import cgroups
from fixtures.inspection.probe import exec_output
from fixtures.inspection.run_to_exit import run_to_exit
from fixtures.ledger.marks import claim
from fixtures.network.http_neighbour import Sampler, start_forking_neighbour, start_neighbour

MEMORY_LIMIT_MB = 32
PIDS_LIMIT = 32
FORKS = PIDS_LIMIT * 8
SIGKILL_EXIT = 137  # 128 + 9: how the engine reports a process the OOM killer ended


def _neighbour_problems(sampler: Sampler, neighbour, thresholds) -> list[str]:
    """What went wrong for the neighbour while the hog ran (an empty list: nothing)."""
    limit = thresholds.neighbour_max_response_ms
    dist = sampler.distribution()
    evidence.as_json("neighbour response times", sampler.as_dict())
    if dist:
        evidence.figure("neighbour max response", round(dist.max, 1), "ms", noise=20)
    neighbour.container.reload()
    problems = []
    if neighbour.container.status != "running":
        problems.append(f"the neighbour is {neighbour.container.status} after the hog")
    if sampler.failures:
        problems.append(f"the neighbour failed {len(sampler.failures)} of {len(sampler.samples)} requests "
                        f"({sampler.failures[0]['error'][:80]})")
    elif not dist or dist.max > limit:
        problems.append(f"the neighbour slowed down: {dist.line() if dist else 'no samples'} (limit {limit} ms)")
    return problems


def _sample_a_little_longer(sampler: Sampler, extra: int = 3) -> None:
    wanted = len(sampler.samples) + extra
    wait_until(lambda: len(sampler.samples) >= wanted, timeout=30, what="the neighbour to be sampled after the hog")


def _memory_hog(resources, alpine_image):
    """A container limited to 32 MiB (swap included) that holds 128 MiB; returns it once it exited."""
    hog = resources.container(alpine_image.ref,
                              ["sh", "-c", f"head -c {MEMORY_LIMIT_MB * 4}m /dev/zero | tail > /dev/null"],
                              mem_limit=f"{MEMORY_LIMIT_MB}m", memswap_limit=f"{MEMORY_LIMIT_MB}m",
                              network_mode="none")
    hog.wait(timeout=60)
    hog.reload()
    return hog


@claim("SEC-3", smoke=True)
def test_memory_hog_is_contained(resources, alpine_image, nginx_image, engine_target, thresholds):
    """A container that allocates past its memory limit MUST be killed alone, its neighbour serving on.

    Starts a neighbour nginx and samples its HTTP response time every 100 ms; then runs a
    hog limited to 32 MiB (swap included) that holds 128 MiB in memory. The hog must be
    killed (exit code 137, SIGKILL, as the kernel's OOM killer ends it), and the neighbour
    must keep running and answer every request within ``neighbour_max_response_ms``.
    Whether the engine also reports the kill as an OOM kill is ``test_oom_kill_is_reported``.
    """
    neighbour = start_neighbour(resources, nginx_image.ref, engine_target.url)
    with Sampler(neighbour) as sampler:
        hog = _memory_hog(resources, alpine_image)
        _sample_a_little_longer(sampler)
    state, host_config = hog.attrs["State"], hog.attrs["HostConfig"]
    evidence.as_json("hog", {"State": state, "HostConfig.Memory": host_config.get("Memory"),
                             "HostConfig.MemorySwap": host_config.get("MemorySwap")})
    evidence.figure("hog exit code", state["ExitCode"])
    problems = []
    if state["ExitCode"] != SIGKILL_EXIT:
        problems.append(f"the hog was not stopped at its memory limit: exit {state['ExitCode']} after holding "
                        f"{MEMORY_LIMIT_MB * 4} MiB with a {MEMORY_LIMIT_MB} MiB limit "
                        f"(HostConfig.Memory={host_config.get('Memory')})")
    problems += _neighbour_problems(sampler, neighbour, thresholds)
    assert not problems, "; ".join(problems)


@claim("SEC-3", severity="minor")
def test_oom_kill_is_reported(resources, alpine_image, engine):
    """The engine SHOULD report an OOM kill as one (a finding, severity minor).

    Runs the memory hog of the containment check (32 MiB limit, 128 MiB held) and reads
    what the engine says of its end: ``State.OOMKilled`` must be true and the engine's
    events must hold an ``oom`` event for it. Containment itself is decided by the exit
    code; this check is about the report (Podman 4.3 reports OOMKilled=false for a
    container its kernel OOM-killed).
    """
    since = datetime.now(timezone.utc)
    hog = _memory_hog(resources, alpine_image)
    # The events API counts in whole seconds: end the query a second late, or an event of
    # this very second could be cut off.
    events = list(engine.events(since=since - timedelta(seconds=1),
                                until=datetime.now(timezone.utc) + timedelta(seconds=1),
                                filters={"container": hog.id}, decode=True))
    actions = [e.get("status") or e.get("Action") for e in events]
    state = hog.attrs["State"]
    evidence.as_json("hog", {"State": state, "events": actions})
    evidence.figure("OOMKilled", str(state["OOMKilled"]))
    assert state["OOMKilled"] and "oom" in actions, (
        f"finding: the engine did not report the hog's OOM kill: exit {state['ExitCode']}, "
        f"OOMKilled={state['OOMKilled']}, events {actions}")


FORK_BOMB = ("$| = 1; my ($ok, $refused) = (0, 0); for (1 .. %d) { my $pid = fork(); "
             "if (!defined $pid) { $refused++ } elsif ($pid == 0) { sleep 120; exit 0 } else { $ok++ } } "
             "print qq(bomb-done started=$ok refused=$refused\\n); sleep 120;")


@claim("SEC-3")
def test_fork_bomb_is_contained(resources, alpine_image, nginx_image, engine_target, engine_host, thresholds):
    """A fork bomb under ``--pids-limit`` MUST stay inside its container.

    Starts a neighbour that serves HTTP with a new process per request (the kind a fork
    bomb starves first) and samples it; runs a container with ``--pids-limit 32`` that
    tries to fork 256 processes (perl, counting refused forks). Its processes (the
    cgroup's ``pids.current`` on the host) must stay within the limit and forks must have
    been refused; meanwhile the host must still start processes and the neighbour must
    answer every request within ``neighbour_max_response_ms``.
    """
    neighbour = start_forking_neighbour(resources, alpine_image.ref, engine_target.url)
    with Sampler(neighbour) as sampler:
        bomb = resources.container(nginx_image.ref, ["perl", "-e", FORK_BOMB % FORKS],
                                   pids_limit=PIDS_LIMIT, network_mode="none")

        def done_forking():
            bomb.reload()
            if bomb.status != "running":
                raise Unrecoverable(f"the fork bomb's container is {bomb.status}: {bomb.logs().decode()[-200:]}")
            return b"bomb-done" in bomb.logs()

        wait_until(done_forking, timeout=60, what="the fork bomb to finish forking")
        bomb_cgroups = cgroups.of_process(engine_host, bomb.attrs["State"]["Pid"])
        pids_dir = bomb_cgroups.directory("pids")
        # A container left in the root pids cgroup (a rootless dockerd with cgroup driver
        # none) has no counter and no limit: the bomb's own count of refused forks decides.
        in_root = bomb_cgroups.paths.get("pids") == "/"
        counters = {} if in_root else cgroups.read(engine_host, [f"{pids_dir}/pids.current",
                                                                 f"{pids_dir}/pids.events"])
        current = None if in_root else int(counters[f"{pids_dir}/pids.current"].strip())
        host_spawn = engine_host.run("for i in $(seq 20); do /bin/true || exit 1; done; echo spawned")
        _sample_a_little_longer(sampler)
    report = next(line for line in bomb.logs().decode(errors="replace").splitlines() if line.startswith("bomb-done"))
    counts = dict(part.split("=") for part in report.split()[1:])
    evidence.as_json("fork bomb", {"pids limit": PIDS_LIMIT, "forks tried": FORKS, "bomb says": report,
                                   "HostConfig.PidsLimit": bomb.attrs["HostConfig"].get("PidsLimit"),
                                   "cgroup": pids_dir, "pids.current": current,
                                   "pids.events": counters[f"{pids_dir}/pids.events"].strip() if counters
                                   else "(the host's root pids cgroup: no counter of its own)",
                                   "host spawn": [host_spawn.rc, host_spawn.stdout.strip()]})
    evidence.figure("bomb processes", current if current is not None else f"{counts['started']} (its own count)")
    problems = []
    if int(counts["refused"]) == 0 or (current is not None and current > PIDS_LIMIT):
        held = ("its processes are in the host's root pids cgroup, where no limit applies" if current is None
                else f"its cgroup holds {current}")
        problems.append(f"the fork bomb was not contained: it started {counts['started']} of {FORKS} processes "
                        f"and {held} (pids limit {PIDS_LIMIT}, HostConfig.PidsLimit="
                        f"{bomb.attrs['HostConfig'].get('PidsLimit')})")
    if host_spawn.rc != 0 or "spawned" not in host_spawn.stdout:
        problems.append(f"the host could not start processes during the fork bomb: {host_spawn.stderr.strip()[:80]}")
    problems += _neighbour_problems(sampler, neighbour, thresholds)
    assert not problems, "; ".join(problems)


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


# The crasher's main process dies of a real segmentation fault (a read of address 8) when
# told to, from a signal handler: a fault, not a signal sent with kill, which the kernel
# would not deliver to a namespace's init.
CRASH_ON_USR1 = ["perl", "-e", '$| = 1; $SIG{USR1} = sub { unpack("p", pack("J", 8)) }; '
                               'print "ready\\n"; sleep 1 while 1;']
SIGSEGV_EXIT = 139  # 128 + 11


def _still_runs(container, before: tuple) -> str | None:
    """Why ``container`` was disturbed (it no longer runs, or not the same process), or None."""
    container.reload()
    state = container.attrs["State"]
    now = (state["Pid"], state["StartedAt"])
    if container.status != "running" or now != before or container.attrs["RestartCount"]:
        return (f"container {container.id[:12]} is {container.status} (exit {state['ExitCode']}), pid "
                f"{before[0]}->{state['Pid']}, restarts {container.attrs['RestartCount']}")
    try:
        exec_output(container, ["true"], what="an exec in the other container")
    except AssertionError as exc:
        return f"container {container.id[:12]} no longer runs a process: {exc}"
    return None


@claim("SEC-3")
def test_crash_leaves_others_running(resources, alpine_image, nginx_image):
    """A crash in one container MUST leave the others running, untouched.

    Starts the crasher first, a container whose main process will die of a segmentation
    fault on a signal, then two others: so an engine that put the others into the
    crasher's namespaces (one pid namespace for all, as in a pod) would show it, since
    the crash would take them down. Then makes it crash. The crasher must exit 139; the
    other two must still run (an exec in each must succeed), with the same process, start
    time and a restart count of 0.
    """
    crasher = resources.container(nginx_image.ref, CRASH_ON_USR1, network_mode="none")
    wait_until(lambda: b"ready" in crasher.logs(), timeout=30, what="the crasher to set its signal handler")
    others = [resources.container(alpine_image.ref, ["sleep", "300"], network_mode="none") for _ in range(2)]
    before = {c.id: (c.attrs["State"]["Pid"], c.attrs["State"]["StartedAt"]) for c in others}
    crasher.kill(signal="SIGUSR1")
    code = crasher.wait(timeout=30)["StatusCode"]
    disturbed = [why for c in others if (why := _still_runs(c, before[c.id]))]
    evidence.as_json("crash", {"crasher": {"id": crasher.id[:12], "exit code": code,
                                           "output": crasher.logs().decode(errors="replace")[-300:]},
                               "others before (pid, started)": before, "disturbed": disturbed})
    evidence.figure("crash exit code", code)
    assert code == SIGSEGV_EXIT, f"the crashing container exited {code}, not {SIGSEGV_EXIT} (SIGSEGV)"
    assert not disturbed, f"the crash disturbed the others: {'; '.join(disturbed)}"


WRITES = "echo changed > /etc/alpine-release && rm /etc/motd && echo new > /tmp/{marker} && echo new > /{marker}"
READ_BACK = ("cat /etc/alpine-release; [ -e /etc/motd ] && echo motd-present; "
             "for f in /tmp/{marker} /{marker}; do [ -e $f ] && echo \"found $f\"; done; echo read-back")


def _writer(resources, alpine_image, marker: str):
    writer = run_to_exit(resources, alpine_image.ref, ["sh", "-c", WRITES.format(marker=marker)], network_mode="none")
    writer.checked("the writer")
    return writer


def _original_files(text: str) -> str:
    assert "motd-present" in text and "found" not in text, f"the image's files are not as built: {text!r}"
    return text


@claim("SEC-3")
def test_writes_leave_the_image_unchanged(resources, alpine_image, engine):
    """Writes in a container MUST NOT change its image.

    A writer changes ``/etc/alpine-release``, deletes ``/etc/motd`` and creates files in
    ``/`` and ``/tmp``. The image's id and layers must be unchanged, the engine's ``diff``
    of the writer must list the change of ``/etc/alpine-release``, and a new container of
    the image (its read exiting 0) must see the original files.
    """
    marker = f"cow-{uuid.uuid4().hex[:12]}"
    image_before = engine.api.inspect_image(alpine_image.image_id)
    original = _original_files(run_to_exit(resources, alpine_image.ref, ["sh", "-c", READ_BACK.format(marker=marker)],
                                            network_mode="none").checked("reading the image's files"))
    writer = _writer(resources, alpine_image, marker)
    changes = engine.api.diff(writer.container.id) or []
    image_after = engine.api.inspect_image(alpine_image.image_id)
    fresh = run_to_exit(resources, alpine_image.ref, ["sh", "-c", READ_BACK.format(marker=marker)],
                        network_mode="none").checked("reading the image's files after the writes")
    evidence.as_json("image", {"layers before": image_before["RootFS"]["Layers"],
                               "layers after": image_after["RootFS"]["Layers"], "writer diff": changes,
                               "original": original, "a new container sees": fresh})
    assert image_after["Id"] == image_before["Id"] and \
        image_after["RootFS"]["Layers"] == image_before["RootFS"]["Layers"], "the writes changed the image"
    assert {"path": "/etc/alpine-release", "kind": 0} in [{"path": c["Path"], "kind": c["Kind"]} for c in changes], \
        f"the engine's diff of the writer does not list its change of /etc/alpine-release: {changes}"
    assert fresh == original, f"a new container of the image sees the writer's changes: {fresh!r}, was {original!r}"


@claim("SEC-3")
def test_writes_do_not_reach_a_neighbour(resources, alpine_image):
    """Writes in one container MUST NOT reach another container of the same image.

    A neighbour of the image starts first and reads the files (an exec whose exit status
    is checked); a writer then changes ``/etc/alpine-release``, deletes ``/etc/motd`` and
    creates files in ``/`` and ``/tmp``. The neighbour must still read the original files.
    """
    marker = f"cow-{uuid.uuid4().hex[:12]}"
    neighbour = resources.container(alpine_image.ref, ["sleep", "300"], network_mode="none")
    read_back = READ_BACK.format(marker=marker)
    original = _original_files(exec_output(neighbour, read_back, what="the neighbour reading its files"))
    _writer(resources, alpine_image, marker)
    seen = exec_output(neighbour, read_back, what="the neighbour reading its files after the writes")
    evidence.as_json("files", {"original": original, "neighbour sees": seen})
    assert seen == original, f"the neighbour sees the writer's changes: {seen!r}, was {original!r}"
