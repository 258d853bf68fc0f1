"""Reading cgroups, /proc and the host platform, on a fake host (no engine, no root)."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass

import pytest

from fixtures.inspection import cgroups
from fixtures.inspection.host_files import read_files, required
from fixtures.measure import container_cost as cost
from fixtures.measure.host_platform import os_release

V1_CGROUP = """12:cpu,cpuacct:/docker/abc
4:memory:/docker/abc
0::/
"""
V2_CGROUP = "0::/system.slice/docker-abc.scope\n"


@dataclass
class _Result:
    stdout: str


class LocalShell:
    """Runs commands with sh, as testinfra's local backend does, but only in a temp dir."""

    def run(self, command: str) -> _Result:
        return _Result(subprocess.run(["sh", "-c", command], capture_output=True, text=True).stdout)


class RootedShell(LocalShell):
    """A host whose / is a temp dir, for the files ``read_files`` cats."""

    def __init__(self, root):
        self.root = root

    def run(self, command: str) -> _Result:
        return super().run(command.replace("cat /", f"cat {self.root}/"))


def test_read_files_keeps_each_file_apart_even_without_a_final_newline(tmp_path):
    (tmp_path / "a").write_text("first\nfile\n")
    (tmp_path / "b").write_text("no newline")
    (tmp_path / "odd name").write_text("x\x00y")
    paths = [str(tmp_path / "a"), str(tmp_path / "missing"), str(tmp_path / "b"), str(tmp_path / "odd name")]
    files = read_files(LocalShell(), paths)
    assert files[paths[0]] == "first\nfile\n"
    assert files[paths[1]] is None
    assert files[paths[2]] == "no newline"
    assert files[paths[3]] == "x\x00y"
    with pytest.raises(FileNotFoundError, match="missing"):
        required(files, paths[1])
    assert shlex.quote(paths[3]) != paths[3]  # the odd name really needed quoting


def test_cgroup_files_for_v1_and_v2():
    v1 = cgroups.ProcessCgroups(7, cgroups.parse(V1_CGROUP))
    assert v1.paths["memory"] == v1.paths["cpuacct"] == "/docker/abc"
    assert v1.memory_usage_file() == "/sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes"
    assert v1.cpu_usage_file() == "/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage"
    assert v1.directory("cpu") == "/sys/fs/cgroup/cpu/docker/abc"
    with pytest.raises(AssertionError, match="process 7 has no pids cgroup"):
        v1.directory("pids")  # on a v1 host, the unified line is not where controllers are
    v2 = cgroups.ProcessCgroups(8, cgroups.parse(V2_CGROUP))
    assert v2.memory_usage_file() == "/sys/fs/cgroup/system.slice/docker-abc.scope/memory.current"
    assert v2.cpu_usage_file() == "/sys/fs/cgroup/system.slice/docker-abc.scope/cpu.stat"
    assert v2.directory("pids") == "/sys/fs/cgroup/system.slice/docker-abc.scope"


def test_cgroups_of_a_process_come_from_its_proc_file(tmp_path):
    (tmp_path / "proc" / "7").mkdir(parents=True)
    (tmp_path / "proc" / "7" / "cgroup").write_text(V1_CGROUP)
    found = cgroups.of_process(RootedShell(tmp_path), 7)
    assert found.directory("memory") == "/sys/fs/cgroup/memory/docker/abc"
    with pytest.raises(FileNotFoundError, match="/proc/8/cgroup"):
        cgroups.of_process(RootedShell(tmp_path), 8)


def test_cpu_memory_and_process_fields():
    assert cgroups.cpu_ns("19703782\n") == 19703782
    assert cgroups.cpu_ns("usage_usec 1500\nuser_usec 1000\n") == 1_500_000
    with pytest.raises(ValueError, match="no CPU usage counter"):
        cgroups.cpu_ns("user_usec 1000\n")
    assert cgroups.counters("nr_periods 10\nnr_throttled 4\nthrottled_time 9\n")["nr_throttled"] == 4
    assert cost.rollup_kb("Rss:               13284 kB\nPss:               12165 kB\n", "Pss") == 12165
    assert cost.status_field("Name:\tsleep\nPPid:\t11799\n", "PPid") == 11799
    stat = "11799 (containerd-shim) S 1 11799 0 0 -1 4194560 300 0 0 0 7 5 0 0 20 0 10 0 100"
    assert cost.process_ticks(stat) == 12
    reading = cost.ContainerMemory("c" * 64, 500_000, 1, "shim", 13_000, 3_000)
    assert reading.cost_mb == pytest.approx((500_000 + 3_000 * 1024) / 1e6)


def test_os_release_unquotes_values():
    fields = os_release('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nID_LIKE="rhel fedora"\n\n# c\n')
    assert fields["PRETTY_NAME"] == "Debian GNU/Linux 12 (bookworm)"
    assert fields["ID"] == "debian" and fields["ID_LIKE"] == "rhel fedora"
