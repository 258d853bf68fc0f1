"""SEC-2: containers isolate applications from the underlying infrastructure.

Document: "安全" (secure): containers isolate applications from the infrastructure.
"""

from __future__ import annotations

import os

from fixtures.core import evidence
from fixtures.core.applicability import not_applicable
from fixtures.inspection import capabilities as caps
from fixtures.inspection import mountinfo, proc_status, syscall_probe
from fixtures.inspection.run_to_exit import run_to_exit, sh
from fixtures.ledger.marks import claim

SETS = {"effective": "CapEff", "permitted": "CapPrm", "bounding": "CapBnd"}


def _status(resources, image: str) -> dict[str, str]:
    finished = sh(resources, image, "cat /proc/self/status")
    assert finished.exit_code == 0, f"reading /proc/self/status failed: {finished.output}"
    return proc_status.parse(finished.output)


@claim("SEC-2", cases=list(SETS), smoke="effective")
def test_capability_set_is_the_documented_default(case, resources, alpine_image):
    """A container's capability sets MUST be the engine's documented default, no more.

    Reads ``CapEff``, ``CapPrm`` and ``CapBnd`` from ``/proc/self/status`` of a container
    running as root with no options, and compares the ``case`` set with Docker's documented
    default (moby ``oci/caps/defaults.go``: 14 capabilities, mask 00000000a80425fb). The
    mask and its decoded names are attached; extra or missing capabilities are named.
    """
    status = _status(resources, alpine_image.ref)
    masks = {name: caps.parse_mask(status[key]) for name, key in SETS.items()}
    expected = caps.mask_of(caps.DOCKER_DEFAULT)
    measured = masks[case]
    evidence.as_json("capability sets", {name: caps.show(mask) for name, mask in masks.items()}
                     | {"documented default": caps.show(expected)})
    evidence.figure(SETS[case], f"{measured:016x}")
    extra, missing = caps.names_of(measured & ~expected), caps.names_of(expected & ~measured)
    assert not extra, f"the {case} set has capabilities beyond the documented default: {extra} ({caps.show(measured)})"
    assert not missing, f"the {case} set lacks documented default capabilities: {missing} ({caps.show(measured)})"


@claim("SEC-2", cases=list(caps.DANGEROUS))
def test_dangerous_capability_is_absent(case, resources, alpine_image):
    """A container MUST NOT hold any capability that hands it the host.

    One case per capability (SYS_ADMIN, SYS_MODULE, SYS_TIME, NET_ADMIN, SYS_PTRACE,
    SYS_RAWIO, DAC_READ_SEARCH): its bit must be clear in the effective set and in the
    bounding set (so no exec can gain it) of a default container.
    """
    status = _status(resources, alpine_image.ref)
    effective, bounding = caps.parse_mask(status["CapEff"]), caps.parse_mask(status["CapBnd"])
    bit = 1 << caps.BIT[case]
    evidence.as_json(f"CAP_{case}", {"bit": caps.BIT[case], "CapEff": caps.show(effective),
                                     "CapBnd": caps.show(bounding)})
    assert not effective & bit, f"a default container holds CAP_{case} in its effective set ({caps.show(effective)})"
    assert not bounding & bit, f"a default container can gain CAP_{case}: it is in its bounding set"


@claim("SEC-2")
def test_seccomp_filters_system_calls(resources, alpine_image):
    """A container's processes MUST run under a seccomp filter (``Seccomp: 2``).

    Reads the ``Seccomp`` and ``Seccomp_filters`` lines of ``/proc/self/status`` in a
    default container; mode 2 is "filter", 0 is none.
    """
    status = _status(resources, alpine_image.ref)
    mode = status.get("Seccomp")
    evidence.as_json("seccomp", {"Seccomp": mode, "Seccomp_filters": status.get("Seccomp_filters"),
                                 "NoNewPrivs": status.get("NoNewPrivs")})
    evidence.figure("seccomp mode", mode or "(absent)")
    assert mode == "2", f"a default container runs with Seccomp: {mode} (no seccomp filter), not 2 (filter)"


SECCOMP_BLOCKED = ("keyctl", "add_key", "unshare", "mount", "reboot", "swapon")


@claim("SEC-2", cases=list(SECCOMP_BLOCKED))
def test_system_call_is_refused(case, resources, nginx_image, engine, engine_host):
    """System calls that Docker's default seccomp profile blocks MUST be refused (EPERM).

    Issues the raw call with perl's ``syscall()`` in a default container of the Debian
    image, one process per call, with arguments that change nothing even if the call got
    through (see ``fixtures/inspection/syscall_probe.py``): ``keyctl``, ``add_key``,
    ``unshare(CLONE_NEWUSER)`` (where the host allows user namespaces), ``mount``,
    ``reboot`` and ``swapon``. The answer must be EPERM; any other answer means the call
    reached the kernel.
    """
    if case == "unshare":
        limit = engine_host.file("/proc/sys/user/max_user_namespaces")
        if limit.exists and limit.content_string.strip() == "0":
            not_applicable("the engine's host allows no user namespaces "
                        "(user.max_user_namespaces = 0)")
    architecture = engine.info()["Architecture"]
    finished = run_to_exit(resources, nginx_image.ref, syscall_probe.command(architecture, case),
                           network_mode="none")
    answer = syscall_probe.parse(finished.output)
    probe = syscall_probe.PROBES[case]
    evidence.as_json(f"{case} probe", {"call": probe.meaning, "architecture": architecture,
                                       "answer": answer.describe(), **finished.as_dict()})
    evidence.figure(case, answer.describe())
    assert answer.errno is not None or answer.returned is not None, \
        f"the {case} probe gave no answer (is perl in {nginx_image.ref}?): {finished.output[:300]}"
    assert answer.refused, f"{case} was not refused: {answer.describe()} ({probe.meaning})"


MASKED = {"proc-kcore": "/proc/kcore", "proc-keys": "/proc/keys", "proc-timer-list": "/proc/timer_list",
          "sys-firmware": "/sys/firmware"}


@claim("SEC-2", cases=MASKED)
def test_host_path_is_masked(case, resources, alpine_image, engine_host):
    """Host information paths MUST be masked inside a container.

    ``/proc/kcore`` (where the host kernel has it), ``/proc/keys``, ``/proc/timer_list`` and
    ``/sys/firmware``: each must be covered by a mount of its own in the container's
    mountinfo (``/dev/null`` over a file, an empty read-only tmpfs over a directory) and
    read as empty. Attaches the mount and what a read returned.
    """
    if not engine_host.file(case).exists:
        not_applicable(f"{case} does not exist on the engine's host kernel")
    script = (f"cat /proc/self/mountinfo; echo '--- read'; "
              f"if [ -d {case} ]; then ls -A {case} | wc -l; else head -c 65536 {case} 2>/dev/null | wc -c; fi")
    finished = sh(resources, alpine_image.ref, script)
    mounts_text, _, read = finished.output.partition("--- read")
    cover = mountinfo.at(mountinfo.parse(mounts_text), case)
    amount = int(read.strip() or 0)
    evidence.as_json(f"{case} in the container", {"covering mount": cover and cover.__dict__,
                                                   "bytes or entries read": amount})
    assert cover is not None, f"{case} is not masked: no mount covers it in the container (it reads {amount} bytes/entries)"
    assert amount == 0, f"{case} is covered by a {cover.fs_type} mount but still reads {amount} bytes/entries"


@claim("SEC-2")
def test_proc_sys_is_read_only(resources, alpine_image):
    """``/proc/sys`` MUST be mounted read-only inside a container.

    Finds the mount at ``/proc/sys`` in the container's mountinfo and checks its ``ro``
    option. (Writing a sysctl is tried in the denied-operations check.)
    """
    finished = sh(resources, alpine_image.ref, "cat /proc/self/mountinfo")
    mount = mountinfo.at(mountinfo.parse(finished.output), "/proc/sys")
    evidence.as_json("/proc/sys mount", mount.__dict__ if mount else None)
    assert mount is not None, "/proc/sys is not a read-only mount of its own: it is writable with the rest of /proc"
    assert mount.read_only, f"/proc/sys is mounted {','.join(mount.options)}, not read-only"


def _host_root_device(engine_host) -> tuple[int, int, str]:
    """The block device that holds the host's root filesystem: (major, minor, name)."""
    st_dev = int(engine_host.check_output("stat -c %d /"))
    major, minor = os.major(st_dev), os.minor(st_dev)
    name = engine_host.run(f"basename \"$(readlink -f /sys/dev/block/{major}:{minor})\"").stdout.strip()
    return major, minor, name


def _host_disks(engine_host) -> list[str]:
    lines = engine_host.file("/proc/partitions").content_string.splitlines()[2:]
    return [line.split()[3] for line in lines if len(line.split()) == 4]


def deny_mount(resources, images, engine_host, architecture):
    finished = sh(resources, images["alpine"], "mount -t tmpfs none /mnt && echo MOUNTED; "
                                               "grep ' /mnt ' /proc/self/mountinfo; true")
    return "MOUNTED" not in finished.output, "mount -t tmpfs none /mnt", finished


def deny_module(resources, images, engine_host, architecture):
    # A module image of junk: the kernel answers "invalid module format" (or ENOSYS on a kernel
    # without modules) if the call gets through, and loads nothing either way.
    finished = sh(resources, images["alpine"], "echo junk > /tmp/junk.ko; insmod /tmp/junk.ko; echo rc=$?")
    return "Operation not permitted" in finished.output, "insmod /tmp/junk.ko (init_module)", finished


def deny_clock(resources, images, engine_host, architecture):
    finished = run_to_exit(resources, images["debian"], syscall_probe.command(architecture, "settimeofday"),
                           network_mode="none")
    return syscall_probe.parse(finished.output).refused, "settimeofday(NULL, NULL)", finished


def deny_mknod(resources, images, engine_host, architecture):
    major, minor, name = _host_root_device(engine_host)
    on_host = engine_host.run(f"head -c 512 /dev/{name} | wc -c")
    if on_host.stdout.strip() != "512":
        not_applicable(f"the engine's host itself cannot read its disk /dev/{name} "
                    f"({on_host.stderr.strip() or 'no data'}), so a refusal inside would prove nothing")
    finished = sh(resources, images["alpine"],
                  f"mknod /tmp/hostdisk b {major} {minor} && echo MKNOD-OK; "
                  "dd if=/tmp/hostdisk of=/dev/null bs=512 count=1 2>&1 && echo READ-OK; true")
    return "READ-OK" not in finished.output, f"mknod of the host's root disk {name} ({major}:{minor}) and read it", finished


def deny_raw_disk(resources, images, engine_host, architecture):
    disks = _host_disks(engine_host)
    finished = sh(resources, images["alpine"],
                  "for d in " + " ".join(disks) + "; do [ -e /dev/$d ] && echo \"PRESENT $d\" && "
                  "dd if=/dev/$d of=/dev/null bs=512 count=1 2>&1 && echo \"READ $d\"; done; true")
    return "PRESENT" not in finished.output, f"the host's disks {disks} in the container's /dev", finished


def deny_sysctl(resources, images, engine_host, architecture):
    # Writes back the value it read, so nothing changes even if the write gets through.
    finished = sh(resources, images["alpine"], "v=$(cat /proc/sys/vm/swappiness) && "
                                               "echo \"$v\" > /proc/sys/vm/swappiness && echo WROTE; true")
    return "WROTE" not in finished.output, "write vm.swappiness (its own value)", finished


DENIALS = {"mount": deny_mount, "module": deny_module, "clock": deny_clock, "mknod": deny_mknod,
           "raw-disk": deny_raw_disk, "sysctl": deny_sysctl}


@claim("SEC-2", cases=list(DENIALS))
def test_host_operation_is_denied(case, resources, alpine_image, nginx_image, engine, engine_host):
    """Operations on the host MUST be refused inside a default container.

    ``mount``: mounting a tmpfs. ``module``: ``insmod`` of a junk module (init_module) must
    fail with EPERM. ``clock``: ``settimeofday(NULL, NULL)``, the permission check of
    setting the clock that changes nothing, must fail with EPERM. ``mknod``: a block node
    for the host's root disk may be created (Docker grants CAP_MKNOD) but MUST NOT be
    readable (not applicable where the host's root cannot read its own disk either).
    ``raw-disk``: none of the host's disks (its /proc/partitions) appears in the container's
    /dev. ``sysctl``: writing ``vm.swappiness`` (its current value) is refused.
    """
    images = {"alpine": alpine_image.ref, "debian": nginx_image.ref}
    denied, what, finished = DENIALS[case](resources, images, engine_host, engine.info()["Architecture"])
    evidence.as_json(case, {"operation": what, **finished.as_dict()})
    evidence.figure(case, "refused" if denied else "allowed")
    assert denied, f"{what} was not refused: {finished.output[-400:]}"


@claim("SEC-2", severity="minor")
def test_mknod_of_host_device_is_refused(resources, alpine_image, engine_host):
    """``mknod`` of a host block device SHOULD be refused (a finding, severity minor).

    The document says mknod of host devices is denied. Docker's default set includes
    CAP_MKNOD and its device cgroup allows ``mknod`` of any node while refusing to open it
    (the ``mknod`` case of the denied-operations check proves the node is useless). This
    check records whether the node itself can be made, and fails as a minor finding if so.
    """
    major, minor, name = _host_root_device(engine_host)
    finished = sh(resources, alpine_image.ref, f"mknod /tmp/hostdisk b {major} {minor} && ls -l /tmp/hostdisk")
    evidence.as_json("mknod", {"device": f"{name} {major}:{minor}", **finished.as_dict()})
    assert finished.exit_code != 0, (f"finding: mknod of the host's block device {name} ({major}:{minor}) "
                                     f"succeeded inside a default container: {finished.output}")
