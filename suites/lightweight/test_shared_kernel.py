"""LW-1: containers on one machine share that machine's OS kernel.

Document: "轻量级" (lightweight): "在一台机器上运行的Docker容器共享该机器的操作系统内核".

Decided on kernel truth, never on the runtime's name: what a process inside the container
reads from the kernel, and what the engine's host shows of the container's process.
"""

from __future__ import annotations

import secrets

from fixtures.core import evidence
from fixtures.core.waiting import WaitTimeout, wait_until
from fixtures.inspection import host_process
from fixtures.inspection.run_to_exit import run_to_exit
from fixtures.ledger.marks import claim


def _inside(resources, image: str, command: list[str]) -> str:
    finished = run_to_exit(resources, image, command, network_mode="none")
    assert finished.exit_code == 0, f"`{' '.join(command)}` in a container exited {finished.exit_code}: " \
                                    f"{finished.output[:300]}"
    return finished.output


def _on_host(engine_host, command: str) -> str:
    result = engine_host.run(command)
    assert result.rc == 0, f"`{command}` on the engine's host exited {result.rc}: {result.stderr.strip()[:300]}"
    return result.stdout.strip()


@claim("LW-1", smoke=True)
def test_kernel_release_equals_host(resources, alpine_image, engine_host, engine_facts):
    """A container MUST run on the host's kernel: ``uname -r`` inside equals the host's.

    Runs ``uname -r`` in a container and compares it with ``uname -r`` run on the engine's
    host (through testinfra) and with the kernel the engine reports.
    """
    inside = _inside(resources, alpine_image.ref, ["uname", "-r"])
    on_host = _on_host(engine_host, "uname -r")
    evidence.as_json("kernel release", {"container": inside, "host": on_host,
                                        "engine reports": engine_facts["kernel"]})
    evidence.figure("kernel", on_host)
    assert inside == on_host, f"container kernel {inside!r} is not the host's {on_host!r}"
    assert inside == engine_facts["kernel"], \
        f"container kernel {inside!r} is not the engine's reported {engine_facts['kernel']!r}"


@claim("LW-1")
def test_proc_version_equals_host(resources, alpine_image, engine_host):
    """``/proc/version`` inside a container MUST equal the host's, build string and all."""
    inside = _inside(resources, alpine_image.ref, ["cat", "/proc/version"])
    on_host = _on_host(engine_host, "cat /proc/version")
    evidence.as_json("/proc/version", {"container": inside, "host": on_host})
    assert inside == on_host, f"the container's /proc/version differs from the host's: {inside!r} vs {on_host!r}"


@claim("LW-1")
def test_container_process_is_a_host_process(engine, run_container, alpine_image, engine_host):
    """A container's process MUST be an ordinary process of the host's kernel, no guest kernel between.

    Starts a container running ``sleep`` for a random number of seconds (a token no other
    process shares). On the engine's host, the process the engine names as the container's
    (``State.Pid``) MUST be in the host's ``/proc`` and run exactly that command: under a
    VM-based runtime it is a hypervisor or an agent proxy, and the command runs in a guest
    kernel. The runtime the engine reports, and the container's parent process (its shim),
    are recorded, never judged by name.
    """
    command = ["sleep", str(3600 + secrets.randbelow(90000))]
    container = run_container(alpine_image.ref, command, network_mode="none")
    info = engine.info()
    state = engine.api.inspect_container(container.id)
    pid = state["State"]["Pid"]
    seen = _host_process_once_it_runs(engine_host, pid, command)
    evidence.as_json("container process on the host", {
        "State.Pid": pid, "command": command,
        "host process": seen.as_dict() if isinstance(seen, host_process.HostProcess) else str(seen),
        "DefaultRuntime (reported)": info.get("DefaultRuntime"),
        "HostConfig.Runtime (reported)": state["HostConfig"].get("Runtime")})
    evidence.figure("runtime (reported)", state["HostConfig"].get("Runtime") or info.get("DefaultRuntime") or "?")
    assert isinstance(seen, host_process.HostProcess), \
        f"the container's process (State.Pid {pid}) cannot be read in the engine's host's /proc: {seen}"
    evidence.figure("container parent", seen.parent_argv[0] if seen.parent_argv else "?")
    assert seen.argv == command, \
        (f"the container's process on the host (State.Pid {pid}) runs {' '.join(seen.argv)!r}, not the "
         f"container's command {' '.join(command)!r}: the command runs somewhere else, such as a guest kernel")


def _host_process_once_it_runs(engine_host, pid: int, command: list[str]):
    """The host's view of ``pid`` once it runs ``command`` (the runtime execs it into that pid
    just after start), or, if it never does within 10 s, the last thing seen: the process as it
    was, or why it could not be read."""
    seen: dict = {}

    def runs_command() -> bool:
        seen["last"] = host_process.of(engine_host, pid)
        return seen["last"].argv == command

    try:
        wait_until(runs_command, timeout=10, what=f"host process {pid} to run {' '.join(command)}", interval=0.1)
    except WaitTimeout as exc:
        return seen.get("last") or exc.last
    return seen["last"]
