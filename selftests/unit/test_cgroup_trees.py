"""A container's cgroups, memory and CPU read through the code a run uses, on host trees
served as ``/`` (``trees/README.md`` says where each comes from).

The project's machine boots cgroup v1, so the cgroup v2 paths are tested here only.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.inspection import cgroups
from fixtures.measure import container_cost as cost

TREES = Path(__file__).with_name("trees")
V2_CONTAINER = "3f5e2c1b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
# Recorded: a container of dockerd 20.10 with runc, init pid 18375, shim pid 18344.
V1_CONTAINER = "aea9532fa53da481e7cfdd254252544c0bc376264a4af7a5900833a6601bff89"


@dataclass
class _Result:
    stdout: str


class TreeHost:
    """A host whose ``/`` is a recorded tree: every ``cat /...`` reads the tree's copy."""

    def __init__(self, root: Path):
        self.root = root

    def run(self, command: str) -> _Result:
        command = command.replace("cat /", f"cat {self.root}/")
        return _Result(subprocess.run(["sh", "-c", command], capture_output=True, text=True).stdout)


V2_TREES = {"cgroup-v2-systemd": f"/system.slice/docker-{V2_CONTAINER}.scope",
            "cgroup-v2-cgroupfs": f"/docker/{V2_CONTAINER}"}


@pytest.mark.parametrize("tree", sorted(V2_TREES))
def test_v2_container_cgroup_is_the_unified_directory(tree):
    found = cgroups.of_process(TreeHost(TREES / tree), 4242)
    assert found.v2_only
    directory = f"/sys/fs/cgroup{V2_TREES[tree]}"
    assert [found.directory(c) for c in ("memory", "cpuacct", "pids")] == [directory] * 3
    assert found.memory_usage_file() == f"{directory}/memory.current"
    assert found.cpu_usage_file() == f"{directory}/cpu.stat"


@pytest.mark.parametrize("tree", sorted(V2_TREES))
def test_v2_container_cost_reads_memory_current_cpu_stat_and_its_shim(tree):
    host = TreeHost(TREES / tree)
    [located] = cost.locate(host, {V2_CONTAINER: 4242})
    assert (located.shim_pid, located.shim_command.split()[0]) == (4200, "/usr/bin/containerd-shim-runc-v2")
    [memory] = cost.memory(host, [located])
    assert (memory.cgroup_bytes, memory.shim_rss_kb, memory.shim_pss_kb) == (1474560, 13312, 3412)
    assert memory.cost_mb == pytest.approx((1474560 + 3412 * 1024) / 1e6)
    cpu_ns, shim_ticks = cost.cpu_snapshot(host, [located])[V2_CONTAINER]
    assert cpu_ns == 25431 * 1000, "cpu.stat counts microseconds; the suite works in nanoseconds"
    assert shim_ticks == 9 + 4


def test_v2_throttling_counters_come_from_cpu_stat():
    text = (TREES / "cgroup-v2-systemd" / f"sys/fs/cgroup/system.slice/docker-{V2_CONTAINER}.scope"
            / "cpu.stat").read_text()
    found = cgroups.counters(text)
    assert {key: found[key] for key in ("nr_periods", "nr_throttled", "throttled_usec")} == \
        {"nr_periods": 12, "nr_throttled": 3, "throttled_usec": 8120}


def test_a_v2_file_that_is_missing_is_an_error_not_a_zero(tmp_path):
    tree = tmp_path / "tree"
    subprocess.run(["cp", "-r", str(TREES / "cgroup-v2-cgroupfs"), str(tree)], check=True)
    (tree / f"sys/fs/cgroup/docker/{V2_CONTAINER}/memory.current").unlink()
    host = TreeHost(tree)
    [located] = cost.locate(host, {V2_CONTAINER: 4242})
    with pytest.raises(FileNotFoundError, match="memory.current cannot be read"):
        cost.memory(host, [located])


def test_v1_hybrid_host_reads_each_controller_in_its_own_hierarchy():
    """The recorded host also lists a ``0::`` line (its cgroup2 tree beside the v1 ones): that
    line must not make it look like a v2 host."""
    host = TreeHost(TREES / "cgroup-v1-cgroupfs")
    [located] = cost.locate(host, {V1_CONTAINER: 18375})
    assert not located.cgroups.v2_only
    assert located.cgroups.memory_usage_file() == f"/sys/fs/cgroup/memory/docker/{V1_CONTAINER}/memory.usage_in_bytes"
    assert located.shim_pid == 18344 and "containerd-shim-runc-v2" in located.shim_command
    [memory] = cost.memory(host, [located])
    assert (memory.cgroup_bytes, memory.shim_pss_kb) == (389120, 12094)
    cpu_ns, _ = cost.cpu_snapshot(host, [located])[V1_CONTAINER]
    assert cpu_ns == 28028130, "cpuacct.usage is already nanoseconds"
