"""HOST-1 to HOST-5: the kernel supports containers, as moby's ``check-config.sh`` checks it.

What the running kernel shows (``/proc/self/ns``, ``/proc/filesystems``, ``/proc/cgroups``,
``/proc/self/status``, ``/sys/module``) decides where it is definitive; the kernel config
(``/proc/config.gz``, ``/boot/config-$(uname -r)``, ...) decides the rest. A feature that
neither shows is reported as not run, with where was looked: never guessed.
"""

from __future__ import annotations

import pytest

from fixtures.core import evidence
from fixtures.core.applicability import not_applicable, not_run
from fixtures.host.kernel_config import KernelConfig, Unreadable
from fixtures.ledger.marks import claim

pytestmark = pytest.mark.audit

# namespace -> the kernel option that builds it (mnt namespaces are always built)
NAMESPACES = {"pid": "PID_NS", "net": "NET_NS", "mnt": None, "uts": "UTS_NS", "ipc": "IPC_NS",
              "cgroup": "CGROUP_NS"}
# controller -> its cgroup v1 name; devices and freezer are v1 controllers only
CONTROLLERS = {"cpu": "cpu", "cpuset": "cpuset", "memory": "memory", "pids": "pids", "io": "blkio",
               "devices": "devices", "freezer": "freezer"}
V1_ONLY = {"devices", "freezer"}
# what container networking needs (check-config.sh's "generally necessary" list): the kernel
# options, and the modules that, when loaded, prove the option without a config
NETWORKING = {
    "veth": (("VETH",), ("veth",)),
    "bridge": (("BRIDGE",), ("bridge",)),
    "br_netfilter": (("BRIDGE_NETFILTER",), ("br_netfilter",)),
    "nat": (("NF_NAT", "IP_NF_NAT", "IP_NF_TARGET_MASQUERADE"), ("nf_nat", "iptable_nat", "xt_MASQUERADE")),
    "filter": (("IP_NF_FILTER", "NETFILTER_XT_MATCH_ADDRTYPE", "NETFILTER_XT_MATCH_CONNTRACK"),
               ("iptable_filter", "xt_addrtype", "xt_conntrack")),
}


def _config_evidence(kernel, names: list[str]) -> dict:
    if isinstance(kernel, KernelConfig):
        return {"kernel config": kernel.source, **kernel.lines(names)}
    return {"kernel config": kernel.reason()}


@claim("HOST-1", cases={ns: (ns, option) for ns, option in NAMESPACES.items()})
def test_kernel_namespace(case, host, kernel):
    """The kernel MUST provide the pid, net, mnt, uts, ipc and cgroup namespaces.

    Rationale: each container gets its own instance of each; without one, containers share
    it with the host (check-config.sh: NAMESPACES, PID_NS, NET_NS, IPC_NS, UTS_NS). Verified
    on the running kernel: ``/proc/self/ns/<name>`` exists exactly when the kernel has that
    namespace. The kernel config line is attached where one is readable.
    """
    name, option = case
    path = f"/proc/self/ns/{name}"
    present = host.file(path).exists
    evidence.as_json(f"{name} namespace", {path: "present" if present else "absent",
                                          **_config_evidence(kernel, [o for o in ("NAMESPACES", option) if o])})
    assert present, f"the kernel has no {name} namespace: {path} is absent"


def _cgroup_version(host) -> str:
    fs_type = host.check_output("stat -f -c %s %s", "%T", "/sys/fs/cgroup").strip()
    return "v2" if fs_type == "cgroup2fs" else "v1"


def _v1_controllers(host) -> dict[str, dict]:
    """/proc/cgroups: subsys_name hierarchy num_cgroups enabled."""
    rows = {}
    for line in host.file("/proc/cgroups").content_string.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, hierarchy, _count, enabled = line.split()[:4]
        rows[name] = {"hierarchy": int(hierarchy), "enabled": enabled == "1"}
    return rows


@claim("HOST-2", cases={c: c for c in CONTROLLERS})
def test_cgroup_controller(case, host, kernel):
    """The cgroup controllers the engine limits containers with MUST be enabled and mounted.

    Rationale: memory, cpu, cpuset, pids and io are how ``--memory``, ``--cpus``,
    ``--cpuset-cpus``, ``--pids-limit`` and ``--blkio-weight`` are enforced (SEC-3 relies
    on them); on cgroup v1 the devices and freezer controllers confine device access and
    pause. Verified on the running kernel: the hierarchy's version from the filesystem type
    of ``/sys/fs/cgroup`` (cgroup2fs is v2), then, on v2, ``/sys/fs/cgroup/cgroup.controllers``;
    on v1, ``/proc/cgroups`` (enabled, and attached to a mounted hierarchy).
    """
    version = _cgroup_version(host)
    evidence.figure("cgroup", version)
    if version == "v2":
        if case in V1_ONLY:
            not_applicable(f"cgroup v2 has no {case} controller "
                        "(v2 confines devices with eBPF programs and freezes with cgroup.freeze)")
        available = host.file("/sys/fs/cgroup/cgroup.controllers").content_string.split()
        evidence.as_json("cgroup v2 controllers", {"version": version, "cgroup.controllers": available})
        assert case in available, (f"cgroup v2 controller {case} is not available "
                                   f"(/sys/fs/cgroup/cgroup.controllers: {' '.join(available)})")
        return
    name = CONTROLLERS[case]
    rows = _v1_controllers(host)
    evidence.as_json("cgroup v1 controllers", {"version": version, "/proc/cgroups": rows,
                                               **_config_evidence(kernel, ["CGROUPS", "MEMCG", "CGROUP_PIDS"])})
    row = rows.get(name)
    assert row is not None, f"the kernel has no cgroup v1 controller {name} (absent from /proc/cgroups)"
    assert row["enabled"], f"cgroup v1 controller {name} is disabled (/proc/cgroups enabled=0)"
    assert row["hierarchy"] != 0, f"cgroup v1 controller {name} is not mounted in any hierarchy"


@claim("HOST-3")
def test_overlay_filesystem(host, kernel):
    """The kernel SHOULD provide the overlay filesystem that the overlay2 storage driver needs.

    Rationale: overlay2 is Docker's default and recommended storage driver (check-config.sh:
    OVERLAY_FS). Verified in ``/proc/filesystems`` (the module is loaded or built in); else
    in the kernel config (``y`` or ``m``: the module loads on first mount). When overlay is
    not loaded and no kernel config is readable, the check is not run, with that reason.
    """
    filesystems = host.file("/proc/filesystems").content_string
    loaded = any(line.split()[-1:] == ["overlay"] for line in filesystems.splitlines())
    evidence.as_json("overlay", {"/proc/filesystems lists overlay": loaded,
                                 **_config_evidence(kernel, ["OVERLAY_FS"])})
    if loaded:
        return
    if isinstance(kernel, Unreadable):
        not_run(f"overlay is not loaded (absent from /proc/filesystems) and {kernel.reason()}: "
                    "cannot tell whether the kernel has it as a module")
    assert kernel.enabled("OVERLAY_FS"), \
        f"the kernel has no overlay filesystem: absent from /proc/filesystems, CONFIG_OVERLAY_FS " \
        f"{kernel.state('OVERLAY_FS')} in {kernel.source}"


@claim("HOST-4", cases={name: (name, *spec) for name, spec in NETWORKING.items()})
def test_container_networking(case, host, kernel):
    """The kernel MUST provide veth pairs, bridges, bridge netfilter, and netfilter NAT and filter.

    Rationale: the default bridge network is a veth pair per container on a Linux bridge,
    with published ports and outbound traffic done by iptables NAT (check-config.sh: VETH,
    BRIDGE, BRIDGE_NETFILTER, NF_NAT, IP_NF_NAT, IP_NF_TARGET_MASQUERADE, IP_NF_FILTER,
    NETFILTER_XT_MATCH_ADDRTYPE, NETFILTER_XT_MATCH_CONNTRACK). Verified in the kernel
    config (each option ``y`` or ``m``). Without a readable config, loaded modules
    (``/sys/module/<name>``) prove an option; a module not loaded proves nothing, and the
    check is then not run, with that reason.
    """
    name, options, modules = case
    loaded = {m: host.file(f"/sys/module/{m}").exists for m in modules}
    evidence.as_json(f"networking: {name}", {"/sys/module": loaded, **_config_evidence(kernel, list(options))})
    if isinstance(kernel, KernelConfig):
        missing = [f"CONFIG_{o}" for o in options if not kernel.enabled(o)]
        assert not missing, f"{name}: the kernel lacks {', '.join(missing)} ({kernel.source})"
        return
    if all(loaded.values()):
        return
    not_run(f"{kernel.reason()}; modules not loaded: "
                f"{', '.join(m for m, up in loaded.items() if not up)} (absence of a loaded module "
                "proves nothing: it may be built in, or not loaded yet)")


@claim("HOST-5")
def test_seccomp_filter(host, kernel, engine_info):
    """The kernel MUST support seccomp filter mode, which the engine's default profile uses.

    Rationale: the default seccomp profile blocks about 44 dangerous system calls in every
    container (SEC-2 relies on it; check-config.sh: SECCOMP, SECCOMP_FILTER). Verified on the
    running kernel: ``/proc/self/status`` has a ``Seccomp:`` field only with CONFIG_SECCOMP,
    and ``/proc/sys/kernel/seccomp/actions_avail`` exists only with CONFIG_SECCOMP_FILTER.
    The engine's own report (``docker info`` security options) is attached.
    """
    status = host.file("/proc/self/status").content_string
    has_seccomp = any(line.startswith("Seccomp:") for line in status.splitlines())
    actions = host.file("/proc/sys/kernel/seccomp/actions_avail")
    filter_actions = actions.content_string.split() if actions.exists else []
    evidence.as_json("seccomp", {"/proc/self/status has Seccomp:": has_seccomp,
                                 "actions_avail": filter_actions or "absent",
                                 "engine security options": engine_info.get("SecurityOptions"),
                                 **_config_evidence(kernel, ["SECCOMP", "SECCOMP_FILTER"])})
    assert has_seccomp, "the kernel has no seccomp: /proc/self/status has no Seccomp: field"
    assert filter_actions, ("the kernel has no seccomp filter mode: "
                            "/proc/sys/kernel/seccomp/actions_avail is absent")
