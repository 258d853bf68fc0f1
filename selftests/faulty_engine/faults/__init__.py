"""The fault registry: every way the faulty engine can weaken the real one, by name.

To add a fault, write one function ``(arg: str | None) -> list[Rule]`` in the module
that fits (or a new one), and add one line to ``FAULTS`` that says what kind of weakening
it is: ``changes_behaviour(fn)`` when the engine then really does something weaker (the
kernel, the runtime or the engine acts differently: a shared namespace, a dropped limit,
a removal that removes nothing), or ``rewrites_report(fn)`` when only what the API reports
changes and the engine behaves as before (a lied version, a claimed runtime). A
response-only fault proves that a check reads the kernel rather than the report; it never
counts as the only control of a claim (docs/control-matrix.md). ``arg`` is the text after
``=`` in ``--fault NAME=ARG``, or None; reject what does not fit with ``FaultSpecError``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Callable

from ..rules import Rule
from . import commands, create, host_sharing, image_config, lifecycle, reports, shared_namespaces
from .arguments import FaultSpecError

Rules = Callable[[str | None], list[Rule]]


@dataclass(frozen=True)
class Fault:
    rules: Rules
    response_only: bool  # True: only what the engine reports changes, not what it does


def changes_behaviour(rules: Rules) -> Fault:
    return Fault(rules, response_only=False)


def rewrites_report(rules: Rules) -> Fault:
    return Fault(rules, response_only=True)


FAULTS: dict[str, Fault] = {
    "cap-add": changes_behaviour(create.cap_add),
    "cap-drop": changes_behaviour(create.cap_drop),
    "pid-host": changes_behaviour(create.create_fault(partial(create.share_host_namespace, mode_key="PidMode"))),
    "net-host": changes_behaviour(create.create_fault(create.share_host_network)),
    "uts-host": changes_behaviour(create.create_fault(partial(create.share_host_namespace, mode_key="UTSMode"))),
    "ipc-host": changes_behaviour(create.create_fault(partial(create.share_host_namespace, mode_key="IpcMode"))),
    "mnt-host": changes_behaviour(shared_namespaces.mnt_host),
    "pid-pod": changes_behaviour(shared_namespaces.pid_pod),
    "seccomp-unconfined": changes_behaviour(create.create_fault(create.unconfine_seccomp)),
    "drop-limits": changes_behaviour(create.create_fault(create.drop_limits)),
    "bind-root": changes_behaviour(create.create_fault(create.bind_host_root)),
    "drop-ports": changes_behaviour(create.create_fault(create.drop_ports)),
    "volume-to-tmpfs": changes_behaviour(create.create_fault(create.volumes_to_tmpfs)),
    "bind-to-tmpfs": changes_behaviour(create.create_fault(create.binds_to_tmpfs)),
    "tmpfs-to-volume": changes_behaviour(create.create_fault(create.tmpfs_to_volume)),
    "runtime-refuses": changes_behaviour(create.create_fault(create.refuse_every_process)),
    "unmask-proc": changes_behaviour(create.create_fault(create.unmask_proc)),
    "set-env": changes_behaviour(create.set_env),
    "hog": changes_behaviour(create.hog),
    "host-device": changes_behaviour(host_sharing.host_device),
    "shared-tmp": changes_behaviour(host_sharing.shared_tmp),
    "cgroup-parent": changes_behaviour(host_sharing.cgroup_parent),
    "ignore-image-config": changes_behaviour(image_config.ignore_image_config),
    "delay-start": changes_behaviour(lifecycle.delay_start),
    "stop-is-kill": changes_behaviour(lifecycle.stop_is_kill),
    "kill-is-term": changes_behaviour(lifecycle.kill_is_term),
    "rm-keeps-volumes": changes_behaviour(lifecycle.rm_keeps_volumes),
    "fake-remove": changes_behaviour(lifecycle.fake_remove),
    "list-all": changes_behaviour(commands.list_all),
    "list-running-only": changes_behaviour(commands.list_running_only),
    "images-top-only": changes_behaviour(commands.images_top_only),
    "build-ignores-tag": changes_behaviour(commands.build_ignores_tag),
    "squash-builds": changes_behaviour(commands.squash_builds),
    "fake-tag": changes_behaviour(commands.fake_tag),
    "fake-push": changes_behaviour(commands.fake_push),
    "refuse-pull": changes_behaviour(commands.refuse_pull),
    "lie-version": rewrites_report(reports.lie_version),
    "vm-runtime": rewrites_report(reports.vm_runtime),
    "icc-on": rewrites_report(reports.icc_on),
    "report-userns": rewrites_report(reports.report_userns_fault),
}

__all__ = ["FAULTS", "Fault", "FaultSpecError", "fault_name", "is_response_only", "parse_fault"]


def fault_name(spec: str) -> str:
    """NAME of a ``NAME`` or ``NAME=ARG`` spec, known to the registry."""
    name = spec.partition("=")[0].strip()
    if name not in FAULTS:
        raise FaultSpecError(f"unknown fault {name!r}; known: {', '.join(sorted(FAULTS))}")
    return name


def is_response_only(spec: str) -> bool:
    return FAULTS[fault_name(spec)].response_only


def parse_fault(spec: str) -> list[Rule]:
    """The rules for one ``NAME`` or ``NAME=ARG`` spec, each tagged with NAME for the log."""
    name = fault_name(spec)
    _, sep, arg = spec.partition("=")
    try:
        rules = FAULTS[name].rules(arg if sep else None)
    except FaultSpecError as exc:
        raise FaultSpecError(f"fault {name!r} {exc}") from None
    return [replace(rule, fault=name) for rule in rules]
