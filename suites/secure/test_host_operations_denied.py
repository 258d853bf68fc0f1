"""SEC-2: containers isolate applications from the underlying infrastructure: operations on
the host (mounting, loading modules, setting the clock, reading its devices, writing its
sysctls) are refused inside a default container.

Document: "安全" (secure): containers isolate applications from the infrastructure.

Each attempt prints a verdict line (``fixtures/inspection/attempt.py``) or makes one raw
system call (``syscall_probe.py``); a probe that gives no verdict fails the check.
"""

from __future__ import annotations

import os

from fixtures.core import evidence
from fixtures.core.applicability import not_applicable, not_run
from fixtures.inspection import attempt, cgroups, syscall_probe
from fixtures.inspection.probe import completed, exec_output
from fixtures.inspection.run_to_exit import sh
from fixtures.ledger.marks import claim


def _host_root_device(engine_host) -> tuple[int, int, str]:
    """The block device that holds the host's root filesystem: (major, minor, name)."""
    st_dev = int(engine_host.check_output("stat -c %d /"))
    major, minor = os.major(st_dev), os.minor(st_dev)
    name = engine_host.check_output(f"basename \"$(readlink -f /sys/dev/block/{major}:{minor})\"")
    return major, minor, name


def _host_disks(engine_host) -> list[str]:
    lines = engine_host.file("/proc/partitions").content_string.splitlines()[2:]
    return [line.split()[3] for line in lines if len(line.split()) == 4]


def _refused_call(resources, nginx_image, engine, name: str) -> syscall_probe.Refusal:
    result = syscall_probe.refusal(resources, nginx_image.ref, engine.info()["Architecture"], name)
    probe = syscall_probe.PROBES[name]
    evidence.as_json(name, {"call": probe.meaning, "answer": result.describe()})
    evidence.figure(name, "refused" if result.refused else "allowed")
    if result.kernel_lacks_the_call:
        not_applicable(f"the engine's kernel has no {name} system call (ENOSYS without a seccomp filter too)")
    return result


@claim("SEC-2")
def test_mount_is_refused(resources, alpine_image):
    """Mounting a filesystem MUST be refused inside a default container.

    ``mount -t tmpfs none /mnt`` must fail with a permission error; a mount that
    succeeds, or fails for another reason, fails the check.
    """
    finished = sh(resources, alpine_image.ref, attempt.script("mount -t tmpfs none /mnt"))
    evidence.as_json("mount", finished.as_dict())
    result = attempt.verdict(finished.checked("mount"), what="mount -t tmpfs none /mnt")
    evidence.figure("mount", "allowed" if result.allowed else "refused")
    assert not result.allowed, f"mount -t tmpfs none /mnt was not refused: {result.detail}"


@claim("SEC-2")
def test_module_loading_is_refused(resources, nginx_image, engine):
    """Loading a kernel module MUST be refused inside a default container.

    Calls ``finit_module(-1, "", 0)`` (no module: EBADF if the call gets through) with the
    raw-call probe; the answer must be a refusal (EPERM, or the profile's ENOSYS).
    """
    result = _refused_call(resources, nginx_image, engine, "finit_module")
    assert result.refused, f"finit_module (loading a kernel module) was not refused: {result.describe()}"


@claim("SEC-2")
def test_clock_setting_is_refused(resources, nginx_image, engine):
    """Setting the host's clock MUST be refused inside a default container.

    Calls ``settimeofday(NULL, NULL)``, the permission check of setting the clock that
    changes nothing, with the raw-call probe; the answer must be a refusal.
    """
    result = _refused_call(resources, nginx_image, engine, "settimeofday")
    assert result.refused, f"settimeofday(NULL, NULL) was not refused: {result.describe()}"


def _readable_on_host(engine_host, name: str) -> tuple[bool, str]:
    read = engine_host.run(f"head -c 512 /dev/{name} | wc -c")
    return read.stdout.strip() == "512", read.stderr.strip() or f"{read.stdout.strip()} bytes"


@claim("SEC-2")
def test_host_disk_node_is_unreadable(resources, alpine_image, engine_host):
    """A node made for the host's root disk MUST NOT be readable inside a default container.

    Docker grants CAP_MKNOD, so the node may be made (that is a finding of its own,
    ``test_mknod_of_host_device_is_refused``); reading 512 bytes through it must be
    refused. Where the host's root cannot read the disk either, a refusal inside proves
    nothing: the kernel's device cgroup of the container decides instead (cgroup v1
    ``devices.list`` must grant no read of the disk); on cgroup v2 alone the case is not run.
    """
    major, minor, name = _host_root_device(engine_host)
    container = resources.container(alpine_image.ref, ["sleep", "300"], network_mode="none")
    made = attempt.verdict(exec_output(container, attempt.script(f"mknod /tmp/hostdisk b {major} {minor}"),
                                       what="mknod of the host's disk"), what="mknod of the host's disk")
    if not made.allowed:
        evidence.as_json("host disk node", {"device": f"{name} {major}:{minor}", "mknod": made.__dict__})
        return  # no node, nothing to read through
    read = attempt.verdict(exec_output(container, attempt.script("dd if=/tmp/hostdisk of=/dev/null bs=512 count=1"),
                                       what="reading the host's disk"), what="reading the host's disk")
    host_reads, on_host = _readable_on_host(engine_host, name)
    record = {"device": f"{name} {major}:{minor}", "mknod": made.__dict__, "read": read.__dict__,
              "host root reads it": on_host}
    if not read.allowed and not host_reads:
        found = cgroups.of_process(engine_host, container.attrs["State"]["Pid"])
        if found.v2_only:
            evidence.as_json("host disk node", record)
            not_run(f"the host's root cannot read /dev/{name} ({on_host}) and the container's device "
                    "rules (cgroup v2, eBPF) cannot be read, so a refusal inside proves nothing")
        devices = cgroups.read(engine_host, [f"{found.directory('devices')}/devices.list"])
        rule = cgroups.device_rule_allowing(next(iter(devices.values())), "b", major, minor, "r")
        evidence.as_json("host disk node", {**record, "devices.list": next(iter(devices.values())),
                                            "rule granting read": rule})
        assert rule is None, (f"mknod of the host's root disk {name} ({major}:{minor}) and read it: the container's "
                              f"device cgroup grants its read ({rule!r}); only the host's own limits refused it")
        return
    evidence.as_json("host disk node", record)
    assert not read.allowed, f"mknod of the host's root disk {name} ({major}:{minor}) and read it: {read.detail}"


@claim("SEC-2")
def test_host_disks_are_absent_from_dev(resources, alpine_image, engine_host):
    """None of the host's disks MUST appear in a default container's ``/dev``.

    Lists the host's block devices from its ``/proc/partitions`` and looks for each in the
    container's ``/dev``; the probe must run to its end. Not run where the host lists none.
    """
    disks = _host_disks(engine_host)
    if not disks:
        not_run("the engine's host lists no block devices in /proc/partitions")
    finished = sh(resources, alpine_image.ref,
                  "for d in " + " ".join(disks) + "; do [ -e /dev/$d ] && echo \"PRESENT $d\"; done; echo LOOKED")
    output = completed(finished.checked("looking for the host's disks"), "LOOKED", what="looking for the host's disks")
    present = [line.split()[1] for line in output.splitlines() if line.startswith("PRESENT ")]
    evidence.as_json("host disks in /dev", {"host disks": disks, "present in the container": present})
    evidence.figure("host disks in /dev", len(present))
    assert not present, f"the host's disks {present} are in the container's /dev (host disks: {disks})"


@claim("SEC-2")
def test_sysctl_write_is_refused(resources, alpine_image):
    """Writing a kernel setting (sysctl) MUST be refused inside a default container.

    Reads ``/proc/sys/vm/swappiness`` and writes the same value back (so nothing changes
    even if the write gets through); the write must fail with a permission or read-only
    error.
    """
    script = ("v=$(cat /proc/sys/vm/swappiness) || exit 3; "
              + attempt.script("sh -c 'echo \"$0\" > /proc/sys/vm/swappiness' \"$v\""))
    finished = sh(resources, alpine_image.ref, script)
    evidence.as_json("sysctl", finished.as_dict())
    result = attempt.verdict(finished.checked("writing vm.swappiness"), what="writing vm.swappiness")
    evidence.figure("sysctl", "allowed" if result.allowed else "refused")
    assert not result.allowed, f"write vm.swappiness (its own value) was not refused: {result.detail}"


@claim("SEC-2", severity="minor")
def test_mknod_of_host_device_is_refused(resources, alpine_image, engine_host):
    """``mknod`` of a host block device SHOULD be refused (a finding, severity minor).

    The document says mknod of host devices is denied. Docker's default set includes
    CAP_MKNOD and its device cgroup allows ``mknod`` of any node while refusing to open it
    (``test_host_disk_node_is_unreadable`` proves the node is useless). This check records
    whether the node itself can be made, and fails as a minor finding if so.
    """
    major, minor, name = _host_root_device(engine_host)
    finished = sh(resources, alpine_image.ref, attempt.script(f"mknod /tmp/hostdisk b {major} {minor}"))
    evidence.as_json("mknod", {"device": f"{name} {major}:{minor}", **finished.as_dict()})
    result = attempt.verdict(finished.checked("mknod"), what=f"mknod of the host's block device {name}")
    assert not result.allowed, (f"finding: mknod of the host's block device {name} ({major}:{minor}) "
                                f"succeeded inside a default container")
