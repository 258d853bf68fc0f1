"""The layer store and disk readings of LW-6, a container's host process (LW-1, STD-1), the
host's distribution (STD-2) and its load (LW-2), on this machine's own files and processes
(no engine)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, replace

import pytest

from fixtures.inspection import host_process
from fixtures.measure import disk_usage, host_load
from fixtures.measure.host_platform import same_distribution


@dataclass
class _Result:
    rc: int
    stdout: str
    stderr: str


class LocalHost:
    """Runs commands with sh, as testinfra's local backend does."""

    def run(self, command: str) -> _Result:
        done = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
        return _Result(done.returncode, done.stdout, done.stderr)


def _layer(root, driver: str, chain: str, size: int, cache_id: str, layout: str = "{id}") -> None:
    entry = root / "image" / driver / "layerdb" / "sha256" / chain
    entry.mkdir(parents=True)
    (entry / "size").write_text(str(size))
    (entry / "cache-id").write_text(cache_id)
    directory = root / driver / layout.format(id=cache_id)
    directory.mkdir(parents=True)
    (directory / "payload").write_bytes(os.urandom(64 * 1024))


def test_layer_store_sizes_and_directories_of_overlay2_and_vfs(tmp_path):
    host = LocalHost()
    _layer(tmp_path, "overlay2", "aa" * 32, 100, "c1")
    _layer(tmp_path, "vfs", "bb" * 32, 200, "c2", layout="dir/{id}")
    assert disk_usage.layer_store_sizes(host, str(tmp_path), "overlay2") == {"sha256:" + "aa" * 32: 100}
    assert disk_usage.layer_directories(host, str(tmp_path), "overlay2", ["sha256:" + "aa" * 32]) == \
        {"sha256:" + "aa" * 32: f"{tmp_path}/overlay2/c1"}
    dirs = disk_usage.layer_directories(host, str(tmp_path), "vfs", ["sha256:" + "bb" * 32])
    assert dirs == {"sha256:" + "bb" * 32: f"{tmp_path}/vfs/dir/c2"}
    # du counts allocated blocks: at least the 64 KiB written, and the whole directory.
    assert 64 * 1024 <= disk_usage.bytes_on_disk(host, list(dirs.values())) < 1024 * 1024


def test_a_layer_store_that_cannot_be_read_raises_never_reads_as_empty(tmp_path):
    host = LocalHost()
    with pytest.raises(disk_usage.StoreUnreadable, match="layer store"):
        disk_usage.layer_store_sizes(host, str(tmp_path), "overlay2")
    _layer(tmp_path, "overlay2", "aa" * 32, 100, "c1")
    (tmp_path / "image" / "overlay2" / "layerdb" / "sha256" / ("aa" * 32) / "size").unlink()
    with pytest.raises(disk_usage.StoreUnreadable):
        disk_usage.layer_store_sizes(host, str(tmp_path), "overlay2")
    with pytest.raises(disk_usage.StoreUnreadable, match="directory of layer"):
        (tmp_path / "overlay2" / "c1" / "payload").unlink()
        (tmp_path / "overlay2" / "c1").rmdir()
        disk_usage.layer_directories(host, str(tmp_path), "overlay2", ["sha256:" + "aa" * 32])


def test_a_host_process_is_read_with_its_parent_and_bundle(tmp_path):
    child = subprocess.Popen(["sleep", "30"], cwd=tmp_path)
    try:
        seen = host_process.of(LocalHost(), child.pid)
    finally:
        child.kill()
        child.wait()
    assert seen.argv == ["sleep", "30"]
    assert seen.parent_pid == os.getpid() and seen.parent_argv
    assert seen.parent_cwd == os.getcwd()
    assert seen.bundles() == [os.getcwd()]


def test_a_shim_command_line_names_the_bundle():
    conmon = host_process.HostProcess(7, ["sleep", "1"], 6, ["/usr/bin/conmon", "-c", "abc", "-b", "/run/b",
                                                             "--bundle=/run/c"], "/")
    assert conmon.bundles() == ["/run/b", "/run/c", "/"]


def test_a_process_that_is_gone_raises():
    with pytest.raises(FileNotFoundError, match="cannot be read"):
        host_process.of(LocalHost(), 2 ** 22 + 12345)
    with pytest.raises(ValueError, match="no host process"):
        host_process.of(LocalHost(), 0)


@pytest.mark.parametrize("reported,same", [
    ("Debian GNU/Linux 12 (bookworm)", True),  # Docker: PRETTY_NAME
    ("debian", True),  # Podman: ID
    ("Debian GNU/Linux", True),
    ("Ubuntu 22.04.4 LTS", False),
    ("Docker Desktop", False),
])
def test_the_engine_may_spell_the_distribution_either_way(reported, same):
    release = {"ID": "debian", "NAME": "Debian GNU/Linux", "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"}
    assert same_distribution(release, reported) is same


def test_host_load_over_a_measurement():
    before = host_load.read(LocalHost())
    after = host_load.read(LocalHost())
    assert after.cpus == os.cpu_count() and after.load_1m >= 0
    load = host_load.between(replace(before, at=0.0, cpu_stall_us=1_000_000),
                             replace(after, at=2.0, cpu_stall_us=1_500_000))
    assert load["tasks waited for a CPU (% of the time, PSI)"] == 25.0
    assert "waited for a CPU 25.0% of the time" in host_load.describe(load)
    assert host_load._count("0-1,4,6-7") == 5


def test_image_ids_always_carry_their_algorithm():
    # Podman leaves "sha256:" out of /system/df ids and of ParentId.
    assert disk_usage.image_id("ab12") == "sha256:ab12"
    assert disk_usage.image_id("sha256:ab12") == "sha256:ab12"
    assert disk_usage.image_id("") == ""
