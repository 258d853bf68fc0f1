"""LW-1: containers on one machine share that machine's OS kernel.

Document: "轻量级" (lightweight): "在一台机器上运行的Docker容器共享该机器的操作系统内核".
"""

from __future__ import annotations

import pytest

from fixtures.core import evidence
from fixtures.ledger.marks import claim

# OCI runtimes that run a container as host processes under namespaces and cgroups.
PROCESS_RUNTIMES = {"runc", "crun", "youki", "io.containerd.runc.v2", "io.containerd.runc.v1",
                    "io.containerd.runtime.v1.linux"}
# Runtimes that put a guest kernel (a VM or a user-space kernel) between container and host.
VM_RUNTIMES = ("kata", "runsc", "gvisor", "firecracker", "qemu", "cloud-hypervisor")


def _run_output(run_container, image: str, command: list[str]) -> str:
    container = run_container(image, command)
    result = container.wait(timeout=60)
    output = container.logs().decode(errors="replace").strip()
    assert result["StatusCode"] == 0, f"{command} exited {result['StatusCode']}: {output}"
    return output


@claim("LW-1", smoke=True)
def test_kernel_release_equals_host(run_container, alpine_image, engine_host, engine_facts):
    """A container MUST run on the host's kernel: ``uname -r`` inside equals the host's.

    Runs ``uname -r`` in a container and compares it with ``uname -r`` run on the engine's
    host (through testinfra) and with the kernel the engine reports.
    """
    inside = _run_output(run_container, alpine_image.ref, ["uname", "-r"])
    on_host = engine_host.check_output("uname -r").strip()
    evidence.as_json("kernel release", {"container": inside, "host": on_host,
                                        "engine reports": engine_facts["kernel"]})
    evidence.figure("kernel", on_host)
    assert inside == on_host, f"container kernel {inside!r} is not the host's {on_host!r}"
    assert inside == engine_facts["kernel"], \
        f"container kernel {inside!r} is not the engine's reported {engine_facts['kernel']!r}"


@claim("LW-1")
def test_proc_version_equals_host(run_container, alpine_image, engine_host):
    """``/proc/version`` inside a container MUST equal the host's, build string and all."""
    inside = _run_output(run_container, alpine_image.ref, ["cat", "/proc/version"])
    on_host = engine_host.file("/proc/version").content_string.strip()
    evidence.as_json("/proc/version", {"container": inside, "host": on_host})
    assert inside == on_host, "the container's /proc/version differs from the host's"


@claim("LW-1")
def test_runtime_is_not_a_vm(engine, run_container, alpine_image, engine_host, engine_target):
    """The engine's runtime MUST be an OCI process runtime, with no guest kernel between.

    Checks the engine's default runtime and the runtime recorded on a running container
    against the known process runtimes, and, on the engine's host, that the container's
    main process is an ordinary host process (its State.Pid runs the container's command).
    """
    info = engine.info()
    container = run_container(alpine_image.ref, ["sleep", "300"])
    inspect = engine.api.inspect_container(container.id)
    runtime = inspect["HostConfig"].get("Runtime") or info.get("DefaultRuntime")
    pid = inspect["State"]["Pid"]
    cmdline = engine_host.file(f"/proc/{pid}/cmdline").content_string.replace("\x00", " ").strip() \
        if engine_target.url.startswith("unix://") and pid else "(not checked: engine not local)"
    evidence.as_json("runtime", {"DefaultRuntime": info.get("DefaultRuntime"),
                                 "Runtimes": info.get("Runtimes"),
                                 "container HostConfig.Runtime": runtime,
                                 "State.Pid": pid, "host /proc/<pid>/cmdline": cmdline})
    evidence.figure("runtime", runtime)
    for name in (info.get("DefaultRuntime"), runtime):
        assert not any(vm in (name or "").lower() for vm in VM_RUNTIMES), \
            f"runtime {name!r} puts a guest kernel between container and host"
        assert name in PROCESS_RUNTIMES, f"runtime {name!r} is not a known OCI process runtime"
    if engine_target.url.startswith("unix://"):
        assert cmdline == "sleep 300", \
            f"host process {pid} runs {cmdline!r}, not the container's command"
