"""Negative controls of SEC-2 and SEC-3: engines that add capabilities, drop the seccomp
filter, the masks or the limits, hand a host disk to containers, share one pid namespace
or one small machine's process table, on which exactly the named checks fail, each with a
message naming what leaked. SEC-4's controls, in both directions, are in
test_default_isolation_controls.py.

``--privileged`` and ``--cap-add ALL`` cannot be forced on this kind of VM (its bounding set
lacks CAP_SYS_RESOURCE), so the capabilities they would add are forced one by one.

Expectations that depend on the host are computed on it (the engine is local to the
self-tests): a masked path the host's kernel lacks, or module loading on a kernel without
modules, is expected "not applicable", never "passed"; how the host-disk check decides
depends on whether the host's root can read its own disk.

What no control here makes fail, and why, is in without_control.py.
"""

from __future__ import annotations

import os
import uuid
from contextlib import nullcontext

import pytest

from selftests.controls.machine_cgroup import machine_cgroup
from selftests.controls.negative import Control, check_control

SEC2 = "suites/secure/test_isolation_from_infrastructure.py"
HOST_OPS = "suites/secure/test_host_operations_denied.py"
SEC3 = "suites/secure/test_problem_containment.py"
SEC4 = "suites/secure/test_default_isolation_findings.py"
DANGEROUS = ("SYS_ADMIN", "SYS_MODULE", "SYS_TIME", "NET_ADMIN", "SYS_PTRACE", "SYS_RAWIO", "DAC_READ_SEARCH")
MASKED = {"proc-kcore": "/proc/kcore", "proc-keys": "/proc/keys", "proc-timer-list": "/proc/timer_list",
          "sys-firmware": "/sys/firmware"}
# The small machine of the fork bomb's neighbour control: room for the neighbour and a
# contained bomb (32), not for a bomb whose limit was dropped.
MACHINE_PIDS = 64


def _root_disk() -> str:
    """The host's block device under / (the engine is local to the self-tests)."""
    st_dev = os.stat("/").st_dev
    return "/dev/" + os.path.basename(os.path.realpath(f"/sys/dev/block/{os.major(st_dev)}:{os.minor(st_dev)}"))


def _masked_paths_expected() -> tuple[dict[str, str], dict[str, str]]:
    """Each masked path fails where this kernel has it, and is not applicable where it does not."""
    present = {case: path for case, path in MASKED.items() if os.path.exists(path)}
    return ({f"[SEC-2-{case}]": f"{path} is not masked" for case, path in present.items()},
            {f"[SEC-2-{case}]": "not applicable" for case in MASKED if case not in present})


def _disk_node_expected() -> tuple[dict[str, str], dict[str, str]]:
    """The node of the host's disk is read through where the host reads it; elsewhere the
    container's device cgroup decides (v1), or the case is not run (v2 alone)."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers") and not _host_reads_its_disk():
        return {}, {"test_host_disk_node_is_unreadable": "not run"}
    return {"test_host_disk_node_is_unreadable": "mknod of the host's root disk"}, {}


def _host_reads_its_disk() -> bool:
    try:
        with open(_root_disk(), "rb") as disk:
            return len(disk.read(512)) == 512
    except OSError:
        return False


def _module_loading_expected() -> tuple[dict[str, str], dict[str, str]]:
    """With CAP_SYS_MODULE the call reaches the kernel; a kernel built without loadable
    modules (no /proc/modules) answers ENOSYS with or without a filter: not applicable."""
    if os.path.exists("/proc/modules"):
        return {"test_module_loading_is_refused": "finit_module (loading a kernel module) was not refused"}, {}
    return {}, {"test_module_loading_is_refused": "not applicable"}


MASKED_FAIL, MASKED_NOT_APPLICABLE = _masked_paths_expected()
MODULE_FAIL, MODULE_NOT_APPLICABLE = _module_loading_expected()
DISK_FAIL, DISK_OTHERWISE = _disk_node_expected()

CONTROLS = [
    Control("cap-add-each-dangerous", weakens=f"every container also holds {', '.join(DANGEROUS)}",
            faults=(f"cap-add={','.join(DANGEROUS)}",),
            select=(f"{SEC2}::test_capability_set_is_within_the_documented_default",
                    f"{SEC2}::test_dangerous_capability_is_absent",
                    f"{SEC2}::test_system_call_is_refused[SEC-2-mount]",
                    f"{SEC2}::test_system_call_is_refused[SEC-2-unshare]",
                    f"{HOST_OPS}::test_mount_is_refused", f"{HOST_OPS}::test_module_loading_is_refused",
                    f"{HOST_OPS}::test_clock_setting_is_refused"),
            expect={"[SEC-2-effective]": "beyond the documented default", "[SEC-2-permitted]": "beyond the documented default",
                    "[SEC-2-bounding]": "beyond the documented default",
                    **{f"[SEC-2-{cap}]": f"holds CAP_{cap}" for cap in DANGEROUS},
                    "[SEC-2-mount]": "mount was not refused", "[SEC-2-unshare]": "unshare was not refused",
                    "test_mount_is_refused": "mount -t tmpfs none /mnt was not refused", **MODULE_FAIL,
                    "test_clock_setting_is_refused": "settimeofday(NULL, NULL) was not refused: returned 0"},
            outcomes=MODULE_NOT_APPLICABLE),
    # Without the filter, only the capability checks stand; SYS_ADMIN and SYS_BOOT are added
    # so that every call the filter alone must block reaches the kernel. The same engine's
    # socket is opened to everyone, for SEC-4's socket finding.
    Control("seccomp-unconfined+open-socket",
            weakens="containers without a seccomp filter (with SYS_ADMIN and SYS_BOOT); the API socket mode 0666",
            faults=("seccomp-unconfined", "cap-add=SYS_ADMIN,SYS_BOOT"),
            select=(f"{SEC2}::test_seccomp_filters_system_calls", f"{SEC2}::test_system_call_is_refused",
                    f"{SEC4}::test_system_calls_are_filtered_by_default",
                    f"{SEC4}::test_api_socket_is_not_open_to_everyone"),
            expect={"test_seccomp_filters_system_calls": "no seccomp filter",
                    **{f"[SEC-2-{call}]": f"{call} was not refused"
                       for call in ("keyctl", "add_key", "unshare", "mount", "reboot", "swapon")},
                    "test_system_calls_are_filtered_by_default": "Seccomp: 0",
                    "test_api_socket_is_not_open_to_everyone": "mode 0666 (root:root): every local user can drive the engine"}),
    Control("unmask-proc+host-device",
            weakens="nothing masked or read-only in /proc and /sys; the host's root disk given to every container",
            faults=("unmask-proc", "host-device={root_disk}"),
            select=(f"{SEC2}::test_host_path_is_masked", f"{SEC2}::test_proc_sys_is_read_only",
                    f"{HOST_OPS}::test_sysctl_write_is_refused", f"{HOST_OPS}::test_host_disk_node_is_unreadable",
                    f"{HOST_OPS}::test_host_disks_are_absent_from_dev"),
            expect={**MASKED_FAIL, "test_proc_sys_is_read_only": "/proc/sys is not",
                    "test_sysctl_write_is_refused": "write vm.swappiness", **DISK_FAIL,
                    "test_host_disks_are_absent_from_dev": "the host's disks"},
            outcomes={**MASKED_NOT_APPLICABLE, **DISK_OTHERWISE}),
    Control("drop-limits", weakens="memory, swap, pids and CPU-quota limits dropped",
            faults=("drop-limits",),
            select=(f"{SEC3}::test_memory_hog_is_contained", f"{SEC3}::test_oom_kill_is_reported",
                    f"{SEC3}::test_fork_bomb_is_contained", f"{SEC3}::test_cpu_quota_is_honoured"),
            expect={"test_memory_hog_is_contained": "was not stopped at its memory limit",
                    "test_oom_kill_is_reported": "did not report the hog's OOM kill",
                    "test_fork_bomb_is_contained": "was not contained",
                    "test_cpu_quota_is_honoured": "CPU quota was not honoured"}),
    # The fork bomb's limit dropped, inside one small machine (a cgroup parent with a pids
    # limit) it shares with its neighbour: the neighbour, which needs a process per request,
    # is starved, and the check must say so as well as that the bomb escaped its limit.
    Control("drop-limits+one-small-machine",
            weakens=f"limits dropped; every container under one cgroup parent with a pids limit of {MACHINE_PIDS}",
            faults=("drop-limits", "cgroup-parent={machine}"),
            select=(f"{SEC3}::test_fork_bomb_is_contained",),
            expect={"test_fork_bomb_is_contained": "the neighbour failed"}),
    # One pid namespace for all, owned by the first container made: the crasher. Its crash
    # ends the namespace, and the kernel kills the others.
    Control("pid-pod", weakens="every container in the pid namespace of the first one made",
            faults=("pid-pod",), select=(f"{SEC3}::test_crash_leaves_others_running",),
            expect={"test_crash_leaves_others_running": "the crash disturbed the others"}),
]


@pytest.mark.parametrize("control", CONTROLS, ids=str)
def test_check_fails_on_its_negative_control(control, suite, faulty_engine, real_client):
    uses_machine = any("{machine}" in fault for fault in control.faults)
    machine_name = f"conformance-selftest-machine-{uuid.uuid4().hex[:8]}"
    with machine_cgroup(machine_name, pids_max=MACHINE_PIDS) if uses_machine else nullcontext() as machine:
        faults = [fault.format(root_disk=_root_disk(), machine=machine) for fault in control.faults]
        engine = faulty_engine(*faults)
        if "open-socket" in control.name:
            os.chmod(engine.socket_path, 0o666)  # anyone on the host may now drive the engine
        check_control(suite, control, real_client, engine=engine.url)


# Podman's default set: Docker's without these three.
STRICTER = ("NET_RAW", "MKNOD", "AUDIT_WRITE")
STRICTER_CAPABILITIES = Control(
    "stricter-capabilities", faults=(f"cap-drop={','.join(STRICTER)}",), positive=True,
    weakens="nothing: every container without NET_RAW, MKNOD and AUDIT_WRITE (Podman's set)",
    select=(f"{SEC2}::test_capability_set_is_within_the_documented_default",
            f"{SEC2}::test_dangerous_capability_is_absent",
            f"{HOST_OPS}::test_host_disk_node_is_unreadable", f"{HOST_OPS}::test_mknod_of_host_device_is_refused"),
    expect={}, outcomes={f"[SEC-2-{case}]": "passed" for case in ("effective", "permitted", "bounding")}
    | {"test_mknod_of_host_device_is_refused": "passed", "test_host_disk_node_is_unreadable": "passed"})


def test_a_stricter_capability_set_passes_and_is_reported(suite, faulty_engine, real_client):
    """A positive control: an engine granting fewer capabilities than the documented default
    is not a weaker isolation. The capability checks and the mknod finding pass on it, and
    the capabilities it lacks are reported as the difference."""
    engine = faulty_engine(*STRICTER_CAPABILITIES.faults)
    run = check_control(suite, STRICTER_CAPABILITIES, real_client, engine=engine.url)
    figures = {name: figure["value"] for test in run.tests().values() for name, figure in test["figures"].items()}
    assert figures["effective fewer than the default"] == "NET_RAW, MKNOD, AUDIT_WRITE", figures
