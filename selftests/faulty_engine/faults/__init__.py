"""The fault registry: every way the faulty engine can weaken the real one, by name.

To add a fault, write one function ``(arg: str | None) -> list[Rule]`` in the module
that fits (or a new one), and add one line to ``FAULTS``. ``arg`` is the text after
``=`` in ``--fault NAME=ARG``, or None; reject what does not fit with ``FaultSpecError``.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Callable

from ..rules import Rule
from . import commands, create, host_sharing, image_config, lifecycle, reports, shared_namespaces
from .arguments import FaultSpecError

Fault = Callable[[str | None], list[Rule]]

FAULTS: dict[str, Fault] = {
    "cap-add": create.cap_add,
    "cap-drop": create.cap_drop,
    "pid-host": create.create_fault(partial(create.share_host_namespace, mode_key="PidMode")),
    "net-host": create.create_fault(create.share_host_network),
    "uts-host": create.create_fault(partial(create.share_host_namespace, mode_key="UTSMode")),
    "ipc-host": create.create_fault(partial(create.share_host_namespace, mode_key="IpcMode")),
    "mnt-host": shared_namespaces.mnt_host,
    "pid-pod": shared_namespaces.pid_pod,
    "seccomp-unconfined": create.create_fault(create.unconfine_seccomp),
    "drop-limits": create.create_fault(create.drop_limits),
    "bind-root": create.create_fault(create.bind_host_root),
    "drop-ports": create.create_fault(create.drop_ports),
    "volume-to-tmpfs": create.create_fault(create.volumes_to_tmpfs),
    "bind-to-tmpfs": create.create_fault(create.binds_to_tmpfs),
    "tmpfs-to-volume": create.create_fault(create.tmpfs_to_volume),
    "runtime-refuses": create.create_fault(create.refuse_every_process),
    "unmask-proc": create.create_fault(create.unmask_proc),
    "set-env": create.set_env,
    "hog": create.hog,
    "host-device": host_sharing.host_device,
    "shared-tmp": host_sharing.shared_tmp,
    "cgroup-parent": host_sharing.cgroup_parent,
    "ignore-image-config": image_config.ignore_image_config,
    "delay-start": lifecycle.delay_start,
    "stop-is-kill": lifecycle.stop_is_kill,
    "kill-is-term": lifecycle.kill_is_term,
    "rm-keeps-volumes": lifecycle.rm_keeps_volumes,
    "fake-remove": lifecycle.fake_remove,
    "list-all": commands.list_all,
    "list-running-only": commands.list_running_only,
    "images-top-only": commands.images_top_only,
    "build-ignores-tag": commands.build_ignores_tag,
    "squash-builds": commands.squash_builds,
    "fake-tag": commands.fake_tag,
    "fake-push": commands.fake_push,
    "refuse-pull": commands.refuse_pull,
    "lie-version": reports.lie_version,
    "vm-runtime": reports.vm_runtime,
    "icc-on": reports.icc_on,
    "report-userns": reports.report_userns_fault,
}

__all__ = ["FAULTS", "Fault", "FaultSpecError", "parse_fault"]


def parse_fault(spec: str) -> list[Rule]:
    """The rules for one ``NAME`` or ``NAME=ARG`` spec, each tagged with NAME for the log."""
    name, sep, arg = spec.partition("=")
    name = name.strip()
    if name not in FAULTS:
        raise FaultSpecError(f"unknown fault {name!r}; known: {', '.join(sorted(FAULTS))}")
    try:
        rules = FAULTS[name](arg if sep else None)
    except FaultSpecError as exc:
        raise FaultSpecError(f"fault {name!r} {exc}") from None
    return [replace(rule, fault=name) for rule in rules]
