"""SEC-2: containers isolate applications from the underlying infrastructure: the kernel
interfaces a container gets (capabilities, seccomp, masked and read-only /proc paths).

Document: "安全" (secure): containers isolate applications from the infrastructure.

Operations on the host itself (mount, modules, the clock, device nodes, sysctls) are in
``test_host_operations_denied.py``.
"""

from __future__ import annotations

from fixtures.core import evidence
from fixtures.core.applicability import not_applicable
from fixtures.inspection import capabilities as caps
from fixtures.inspection import mountinfo, proc_status, syscall_probe
from fixtures.inspection.probe import completed
from fixtures.inspection.run_to_exit import sh
from fixtures.ledger.marks import claim

SETS = {"effective": "CapEff", "permitted": "CapPrm", "bounding": "CapBnd"}


def _status(resources, image: str) -> dict[str, str]:
    return proc_status.parse(sh(resources, image, "cat /proc/self/status").checked("reading /proc/self/status"))


@claim("SEC-2", cases=list(SETS), smoke="effective")
def test_capability_set_is_within_the_documented_default(case, resources, alpine_image):
    """A container's capability sets MUST NOT exceed the documented default.

    Reads ``CapEff``, ``CapPrm`` and ``CapBnd`` from ``/proc/self/status`` of a container
    running as root with no options, and compares the ``case`` set with Docker's documented
    default (moby ``oci/caps/defaults.go``: 14 capabilities, mask 00000000a80425fb). A
    capability beyond the default fails the check. Fewer than the default is a stricter
    engine, not a weaker isolation: it passes, and the missing ones are reported as a
    difference (evidence and the figure "<case> fewer than the default"; Podman, for one,
    grants neither NET_RAW, MKNOD nor AUDIT_WRITE).
    """
    status = _status(resources, alpine_image.ref)
    masks = {name: caps.parse_mask(status[key]) for name, key in SETS.items()}
    expected = caps.mask_of(caps.DOCKER_DEFAULT)
    measured = masks[case]
    extra, fewer = caps.names_of(measured & ~expected), caps.names_of(expected & ~measured)
    evidence.as_json("capability sets", {name: caps.show(mask) for name, mask in masks.items()}
                     | {"documented default": caps.show(expected), f"{case}: beyond the default": extra,
                        f"{case}: fewer than the default (stricter)": fewer})
    evidence.figure(SETS[case], f"{measured:016x}")
    evidence.figure(f"{case} fewer than the default", ", ".join(fewer) or "none")
    assert not extra, f"the {case} set has capabilities beyond the documented default: {extra} ({caps.show(measured)})"


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
    """System calls that Docker's default seccomp profile blocks MUST be refused.

    Issues the raw call with perl's ``syscall()`` in a default container of the Debian
    image, one process per call, with arguments that change nothing even if the call got
    through (see ``fixtures/inspection/syscall_probe.py``): ``keyctl``, ``add_key``,
    ``unshare(CLONE_NEWUSER)`` (where the host allows user namespaces), ``mount``,
    ``reboot`` and ``swapon``. EPERM or EACCES is a refusal. ENOSYS is a refusal when it
    comes from the seccomp profile: the call is asked again without a filter, and if the
    kernel then answers otherwise, the profile refused it; if the kernel answers ENOSYS
    too, it has no such call and the case is not applicable. Any other answer means the
    call reached the kernel. A probe that gave no answer fails the check.
    """
    if case == "unshare":
        limit = engine_host.file("/proc/sys/user/max_user_namespaces")
        if limit.exists and limit.content_string.strip() == "0":
            not_applicable("the engine's host allows no user namespaces (user.max_user_namespaces = 0)")
    architecture = engine.info()["Architecture"]
    result = syscall_probe.refusal(resources, nginx_image.ref, architecture, case)
    probe = syscall_probe.PROBES[case]
    evidence.as_json(f"{case} probe", {"call": probe.meaning, "architecture": architecture,
                                       "answer": result.describe()})
    evidence.figure(case, result.describe())
    if result.kernel_lacks_the_call:
        not_applicable(f"the engine's kernel has no {case} system call (ENOSYS without a seccomp filter too)")
    assert result.refused, f"{case} was not refused: {result.describe()} ({probe.meaning})"


MASKED = {"proc-kcore": "/proc/kcore", "proc-keys": "/proc/keys", "proc-timer-list": "/proc/timer_list",
          "sys-firmware": "/sys/firmware"}


@claim("SEC-2", cases=MASKED)
def test_host_path_is_masked(case, resources, alpine_image, engine_host):
    """Host information paths MUST be masked inside a container.

    ``/proc/kcore``, ``/proc/keys``, ``/proc/timer_list`` and ``/sys/firmware``, each where
    the host kernel has it (else not applicable): each must be covered by a mount of its
    own in the container's mountinfo (``/dev/null`` over a file, an empty read-only tmpfs
    over a directory) and read as empty. The probe must run to its end. Attaches the mount
    and what a read returned.
    """
    if not engine_host.file(case).exists:
        not_applicable(f"{case} does not exist on the engine's host kernel")
    script = (f"cat /proc/self/mountinfo || exit 3; echo '--- read'; "
              f"if [ -d {case} ]; then ls -A {case} | wc -l; else head -c 65536 {case} 2>/dev/null | wc -c; fi; "
              "echo '--- end'")
    output = completed(sh(resources, alpine_image.ref, script).checked(f"reading {case}"), "--- end",
                       what=f"reading {case}")
    mounts_text, _, read = output.partition("--- read")
    cover = mountinfo.at(mountinfo.parse(mounts_text), case)
    amount = int(read.strip())
    evidence.as_json(f"{case} in the container", {"covering mount": cover and cover.__dict__,
                                                   "bytes or entries read": amount})
    assert cover is not None, f"{case} is not masked: no mount covers it in the container (it reads {amount} bytes/entries)"
    assert amount == 0, f"{case} is covered by a {cover.fs_type} mount but still reads {amount} bytes/entries"


@claim("SEC-2")
def test_proc_sys_is_read_only(resources, alpine_image):
    """``/proc/sys`` MUST be mounted read-only inside a container.

    Finds the mount at ``/proc/sys`` in the container's mountinfo (read with its exit
    status checked) and checks its ``ro`` option. (Writing a sysctl is tried in
    ``test_sysctl_write_is_refused``.)
    """
    output = sh(resources, alpine_image.ref, "cat /proc/self/mountinfo").checked("reading /proc/self/mountinfo")
    mount = mountinfo.at(mountinfo.parse(output), "/proc/sys")
    evidence.as_json("/proc/sys mount", mount.__dict__ if mount else None)
    assert mount is not None, "/proc/sys is not a read-only mount of its own: it is writable with the rest of /proc"
    assert mount.read_only, f"/proc/sys is mounted {','.join(mount.options)}, not read-only"
