"""Each fault of the faulty engine visibly changes what a container or the API shows.

Every test runs the same thing twice, through a proxy without the fault (the baseline)
and through one with it, and asserts that the baseline is the real engine's normal
behaviour and the faulted run is the weakened one.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import closing
from pathlib import Path

import docker
import pytest

from fixtures.core.waiting import wait_until
from selftests.faulty_engine.faults.reports import FAKE_API_VERSION, VM_RUNTIME
from selftests.faulty_engine.selftest_fixtures import (  # noqa: F401 - fixtures used by name
    case,
    docker_cli,
    host_image,
)

pytestmark = pytest.mark.engine

SYS_ADMIN_BIT = 21


def run(engine, case, image, *command, flags=()):
    return docker_cli(engine, "run", "--rm", *case.label_flags, *flags, image, *command)


def status_field(status_text: str, name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in status_text.splitlines() if line.startswith(name + ":"))


@pytest.mark.parametrize(
    "fault,namespace,flags",
    [
        ("pid-host", "pid", ()),
        # A published port would conflict with host networking; the fault must drop it.
        ("net-host", "net", ("-p", "127.0.0.1::8080")),
        ("uts-host", "uts", ()),
        ("ipc-host", "ipc", ()),
    ],
)
def test_namespace_faults_share_the_hosts_namespace(faulty_engine, host_image, case, fault, namespace, flags):
    host_namespace = os.readlink(f"/proc/self/ns/{namespace}")
    probe = ("readlink", f"/proc/self/ns/{namespace}")
    baseline = run(faulty_engine(), case, host_image, *probe, flags=flags)
    faulted = run(faulty_engine(fault), case, host_image, *probe, flags=flags)
    assert baseline.returncode == 0 and faulted.returncode == 0, (baseline.stderr, faulted.stderr)
    assert baseline.stdout.strip() != host_namespace
    assert faulted.stdout.strip() == host_namespace


def test_mnt_host_runs_the_command_in_the_hosts_mount_namespace(faulty_engine, host_image, case):
    probe = ("readlink", "/proc/self/ns/mnt")
    baseline = run(faulty_engine(), case, host_image, *probe)
    faulted = run(faulty_engine("mnt-host"), case, host_image, *probe)
    assert baseline.returncode == 0 and faulted.returncode == 0, (baseline.stderr, faulted.stderr)
    assert baseline.stdout.strip() != os.readlink("/proc/self/ns/mnt")
    assert faulted.stdout.strip() == os.readlink("/proc/self/ns/mnt")


def test_pid_pod_puts_later_containers_in_the_first_ones_pid_namespace(faulty_engine, host_image, case):
    engine = faulty_engine("pid-pod")
    first = docker_cli(engine, "run", "-d", *case.label_flags, host_image, "sleep", "300")
    assert first.returncode == 0, first.stderr
    later = run(engine, case, host_image, "cat", "/proc/1/cmdline")
    assert later.returncode == 0, later.stderr
    assert later.stdout.replace("\0", " ").strip() == "sleep 300", "pid 1 of the later container is the first's"


def test_cgroup_parent_places_containers_under_the_parent(faulty_engine, host_image, case):
    parent = f"/conformance-selftest-parent-{case.id}"
    try:
        out = run(faulty_engine(f"cgroup-parent={parent}"), case, host_image, "cat", "/proc/self/cgroup")
        assert out.returncode == 0, out.stderr
        assert f"{parent}/" in out.stdout
    finally:
        for hierarchy in Path("/sys/fs/cgroup").iterdir():
            if (hierarchy / parent.lstrip("/")).is_dir() and not hierarchy.is_symlink():
                (hierarchy / parent.lstrip("/")).rmdir()


def test_report_userns_changes_only_the_report(faulty_engine, real_client):
    real = real_client.info().get("SecurityOptions") or []
    claimed = docker_cli(faulty_engine("report-userns=on"), "info", "--format", "{{json .SecurityOptions}}")
    denied = docker_cli(faulty_engine("report-userns=off"), "info", "--format", "{{json .SecurityOptions}}")
    assert "name=userns" in claimed.stdout and "name=userns" not in denied.stdout, (claimed.stderr, denied.stderr)
    assert [o for o in real if not o.startswith("name=userns")] == \
        [o for o in json.loads(denied.stdout) if not o.startswith("name=userns")]


def test_cap_add_grants_the_capability(faulty_engine, host_image, case):
    probe = ("cat", "/proc/self/status")
    baseline = int(status_field(run(faulty_engine(), case, host_image, *probe).stdout, "CapEff"), 16)
    faulted = int(status_field(run(faulty_engine("cap-add=SYS_ADMIN"), case, host_image, *probe).stdout, "CapEff"), 16)
    assert not baseline & (1 << SYS_ADMIN_BIT)
    assert faulted & (1 << SYS_ADMIN_BIT)


def test_seccomp_unconfined_turns_the_filter_off(faulty_engine, host_image, case):
    probe = ("cat", "/proc/self/status")
    assert status_field(run(faulty_engine(), case, host_image, *probe).stdout, "Seccomp") == "2"
    assert status_field(run(faulty_engine("seccomp-unconfined"), case, host_image, *probe).stdout, "Seccomp") == "0"


def test_unmask_proc_exposes_masked_and_read_only_proc_paths(faulty_engine, host_image, case):
    probe = ("sh", "-c", "cat /proc/timer_list; echo '--- mounts'; cat /proc/mounts")
    baseline = run(faulty_engine(), case, host_image, *probe).stdout
    faulted = run(faulty_engine("unmask-proc"), case, host_image, *probe).stdout
    baseline_timers, baseline_mounts = baseline.split("--- mounts\n")
    faulted_timers, faulted_mounts = faulted.split("--- mounts\n")
    assert baseline_timers == "" and faulted_timers != ""
    assert " /proc/sys proc ro," in baseline_mounts
    assert " /proc/sys " not in faulted_mounts


def test_drop_limits_removes_memory_pids_and_cpu_limits(faulty_engine, host_image, case):
    flags = ("--memory", "64m", "--pids-limit", "64", "--cpus", "0.5")
    probe = ("cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max",
             "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    baseline = run(faulty_engine(), case, host_image, *probe, flags=flags)
    faulted = run(faulty_engine("drop-limits"), case, host_image, *probe, flags=flags)
    assert baseline.stdout.split() == ["67108864", "64", "50000"], baseline.stderr
    memory, pids, quota = faulted.stdout.split()
    assert int(memory) > 1 << 40 and pids == "max" and quota == "-1"


def test_bind_root_exposes_the_host_filesystem(faulty_engine, host_image, case, tmp_path):
    marker = tmp_path / "marker"
    marker.write_text(case.id)
    probe = ("cat", f"/host{marker}")
    assert run(faulty_engine(), case, host_image, *probe).returncode != 0
    assert run(faulty_engine("bind-root"), case, host_image, *probe).stdout == case.id


def test_drop_ports_silently_drops_a_port_mapping(faulty_engine, host_image, case):
    def published_ports(engine) -> str:
        started = docker_cli(engine, "run", "-d", *case.label_flags, "-p", "127.0.0.1::8080", host_image, "sleep", "300")
        assert started.returncode == 0, started.stderr
        return docker_cli(engine, "port", started.stdout.strip()).stdout

    assert published_ports(faulty_engine()).startswith("8080/tcp -> 127.0.0.1:")
    assert published_ports(faulty_engine("drop-ports")) == ""


@pytest.mark.parametrize("form", ["-v", "--mount"])
def test_volume_to_tmpfs_loses_the_volumes_data(faulty_engine, real_client, host_image, case, form):
    volume = real_client.volumes.create(case.name("volume"), labels=case.labels)
    case.remove_later(lambda: real_client.api.remove_volume(volume.name, force=True))
    flags = ("-v", f"{volume.name}:/data") if form == "-v" else ("--mount", f"type=volume,src={volume.name},dst=/data")

    def write_then_read(engine) -> tuple[str, str]:
        wrote = run(engine, case, host_image, "sh", "-c", "echo kept > /data/file; cat /proc/mounts", flags=flags)
        assert wrote.returncode == 0, wrote.stderr
        data_mount = next(line for line in wrote.stdout.splitlines() if line.split()[1] == "/data")
        return data_mount.split()[2], run(engine, case, host_image, "cat", "/data/file", flags=flags).stdout

    assert write_then_read(faulty_engine("volume-to-tmpfs")) == ("tmpfs", "")
    fs_type, read_back = write_then_read(faulty_engine())
    assert fs_type != "tmpfs" and read_back == "kept\n"


def _mount_type(mounts_text: str, target: str) -> str | None:
    return next((line.split()[2] for line in mounts_text.splitlines() if line.split()[1:2] == [target]), None)


def test_bind_to_tmpfs_hides_the_hosts_directory(faulty_engine, host_image, case, tmp_path):
    (tmp_path / "from-host").write_text(case.id)
    probe = ("sh", "-c", "cat /mnt/from-host; echo; cat /proc/mounts")
    flags = ("-v", f"{tmp_path}:/mnt")
    baseline = run(faulty_engine(), case, host_image, *probe, flags=flags)
    faulted = run(faulty_engine("bind-to-tmpfs"), case, host_image, *probe, flags=flags)
    assert baseline.stdout.startswith(case.id) and _mount_type(baseline.stdout, "/mnt") != "tmpfs", baseline.stderr
    assert not faulted.stdout.startswith(case.id) and _mount_type(faulted.stdout, "/mnt") == "tmpfs", faulted.stderr


def test_tmpfs_to_volume_puts_the_tmpfs_on_disk(faulty_engine, host_image, case):
    probe = ("cat", "/proc/mounts")
    flags = ("--tmpfs", "/scratch")
    assert _mount_type(run(faulty_engine(), case, host_image, *probe, flags=flags).stdout, "/scratch") == "tmpfs"
    faulted = run(faulty_engine("tmpfs-to-volume"), case, host_image, *probe, flags=flags)
    assert faulted.returncode == 0, faulted.stderr
    assert _mount_type(faulted.stdout, "/scratch") not in (None, "tmpfs")


def test_kill_is_term_lets_a_sigterm_handler_run(faulty_engine, real_client, host_image, case):
    # The shell exits 0 on SIGTERM; only a SIGKILL gives 137.
    script = "trap 'exit 0' TERM; echo ready; sleep 300 & wait"

    def kill_exit_code(engine) -> int:
        container = real_client.containers.run(host_image, ["sh", "-c", script], detach=True, labels=case.labels)
        wait_until(lambda: b"ready" in container.logs(), timeout=30, what="the TERM trap to be set")
        killed = docker_cli(engine, "kill", container.id)
        assert killed.returncode == 0, killed.stderr
        return real_client.api.wait(container.id, timeout=30)["StatusCode"]

    assert kill_exit_code(faulty_engine()) == 137
    assert kill_exit_code(faulty_engine("kill-is-term")) == 0


def test_rm_keeps_volumes_leaves_the_anonymous_volume(faulty_engine, real_client, host_image, case):
    def left_after_rm_v(engine) -> list[str]:
        container = real_client.api.create_container(host_image, ["true"], labels=case.labels,
                                                     host_config=real_client.api.create_host_config(binds=["/data"]))
        volumes = [m["Name"] for m in real_client.api.inspect_container(container["Id"])["Mounts"]]
        for name in volumes:
            case.remove_later(lambda name=name: real_client.api.remove_volume(name, force=True))
        removed = docker_cli(engine, "rm", "-v", container["Id"])
        assert removed.returncode == 0, removed.stderr
        return [name for name in volumes if real_client.volumes.list(filters={"name": name})]

    assert left_after_rm_v(faulty_engine()) == []
    assert len(left_after_rm_v(faulty_engine("rm-keeps-volumes"))) == 1


def test_runtime_refuses_fails_every_start_and_leaves_the_container_created(faulty_engine, real_client,
                                                                          host_image, case):
    assert run(faulty_engine(), case, host_image, "true").returncode == 0
    refused = docker_cli(faulty_engine("runtime-refuses"), "run", *case.label_flags, host_image, "true")
    assert refused.returncode != 0 and "no such file or directory" in refused.stderr, refused.stderr
    states = [real_client.api.inspect_container(c)["State"]["Status"] for c in case.containers_made()]
    assert states == ["created"]


def test_delay_start_delays_the_start_call(faulty_engine, host_image, case):
    def start_seconds(engine) -> float:
        client = docker.DockerClient(base_url=engine.url, version="auto", timeout=60)
        with closing(client):
            container = client.containers.create(host_image, ["true"], labels=case.labels)
            began = time.monotonic()
            container.start()
            return time.monotonic() - began

    baseline = start_seconds(faulty_engine())
    faulted = start_seconds(faulty_engine("delay-start=1"))
    assert faulted >= 1.0
    assert faulted - baseline >= 0.5, f"baseline {baseline:.2f} s, with the fault {faulted:.2f} s"


def test_stop_is_kill_skips_sigterm(faulty_engine, real_client, host_image, case):
    # The shell exits 0 on SIGTERM; only a SIGKILL gives 137.
    script = "trap 'exit 0' TERM; echo ready; sleep 300 & wait"

    def stop_exit_code(engine) -> tuple[int, float]:
        container = real_client.containers.run(host_image, ["sh", "-c", script], detach=True, labels=case.labels)
        wait_until(lambda: b"ready" in container.logs(), timeout=30, what="the TERM trap to be set")
        began = time.monotonic()
        stopped = docker_cli(engine, "stop", "-t", "30", container.id)
        assert stopped.returncode == 0, stopped.stderr
        container.reload()
        again = docker_cli(engine, "stop", container.id)
        assert again.returncode == 0, f"a second stop must succeed as on a real engine: {again.stderr}"
        return container.attrs["State"]["ExitCode"], time.monotonic() - began

    assert stop_exit_code(faulty_engine())[0] == 0
    exit_code, seconds = stop_exit_code(faulty_engine("stop-is-kill"))
    assert exit_code == 137 and seconds < 30


def test_lie_version_lies_in_the_body_but_not_in_the_header(faulty_engine, real_client):
    engine = faulty_engine("lie-version")
    real_api = real_client.version()["ApiVersion"]
    with closing(docker.DockerClient(base_url=engine.url, version=real_api, timeout=30)) as client:
        response = client.api.get(client.api.base_url + "/version")
    assert response.status_code == 200
    assert response.json()["ApiVersion"] == FAKE_API_VERSION
    assert response.json()["Version"] != real_client.version()["Version"]
    assert response.headers["Api-Version"] == real_api
    cli = docker_cli(engine, "version", "--format", "{{.Server.APIVersion}}")
    assert cli.stdout.strip() == FAKE_API_VERSION, cli.stderr


def test_vm_runtime_reports_a_vm_runtime(faulty_engine, real_client, host_image, case):
    engine = faulty_engine("vm-runtime")
    # The engine records the runtime on the first start.
    container = real_client.containers.run(host_image, ["true"], detach=True, labels=case.labels).id
    real_client.api.wait(container, timeout=30)
    assert real_client.info()["DefaultRuntime"] != VM_RUNTIME
    assert docker_cli(engine, "info", "--format", "{{.DefaultRuntime}}").stdout.strip() == VM_RUNTIME
    assert real_client.api.inspect_container(container)["HostConfig"]["Runtime"] != VM_RUNTIME
    assert docker_cli(engine, "inspect", "-f", "{{.HostConfig.Runtime}}", container).stdout.strip() == VM_RUNTIME


@pytest.mark.parametrize("kind", ["container", "volume", "network", "image"])
def test_fake_remove_claims_success_and_keeps_the_object(faulty_engine, real_client, host_image, case, kind):
    if kind == "container":
        name = real_client.api.create_container(host_image, ["true"], labels=case.labels)["Id"]
        remove, still_there = ("rm", name), lambda: real_client.containers.get(name)
    elif kind == "volume":
        name = real_client.volumes.create(case.name("volume"), labels=case.labels).name
        case.remove_later(lambda: real_client.api.remove_volume(name, force=True))
        remove, still_there = ("volume", "rm", name), lambda: real_client.volumes.get(name)
    elif kind == "network":
        name = real_client.networks.create(case.name("network"), labels=case.labels).id
        case.remove_later(lambda: real_client.api.remove_network(name))
        remove, still_there = ("network", "rm", name), lambda: real_client.networks.get(name)
    else:
        name = f"conformance-selftest/faulty-engine-alias:{case.id}"
        real_client.images.get(host_image).tag(name)
        case.remove_later(lambda: real_client.images.remove(name))
        remove, still_there = ("rmi", name), lambda: real_client.images.get(name)
    removed = docker_cli(faulty_engine(f"fake-remove={kind}"), *remove)
    assert removed.returncode == 0, removed.stderr
    assert still_there() is not None


def test_several_faults_apply_together(faulty_engine, host_image, case):
    engine = faulty_engine("pid-host", "uts-host", "seccomp-unconfined")
    probe = ("sh", "-c", "readlink /proc/self/ns/pid /proc/self/ns/uts; cat /proc/self/status")
    out = run(engine, case, host_image, *probe)
    pid_namespace, uts_namespace = out.stdout.splitlines()[:2]
    assert pid_namespace == os.readlink("/proc/self/ns/pid")
    assert uts_namespace == os.readlink("/proc/self/ns/uts")
    assert status_field(out.stdout, "Seccomp") == "0"
