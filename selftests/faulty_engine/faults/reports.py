"""Faults that make the engine misreport itself, by rewriting what it answers."""

from __future__ import annotations

import copy
from functools import partial
from typing import Any

from ..rules import Rule, route
from .arguments import FaultSpecError, no_argument

FAKE_API_VERSION = "9.99"
FAKE_ENGINE_VERSION = "99.0.0-faulty"
VM_RUNTIME = "kata-runtime"


def claim_fake_version(body: Any) -> Any:
    body = copy.deepcopy(body)
    body["ApiVersion"] = FAKE_API_VERSION
    body["Version"] = FAKE_ENGINE_VERSION
    for component in body.get("Components") or []:
        if component.get("Name") == "Engine":
            component["Version"] = FAKE_ENGINE_VERSION
            if isinstance(component.get("Details"), dict):
                component["Details"]["ApiVersion"] = FAKE_API_VERSION
    return body


def claim_vm_runtime_in_info(body: Any) -> Any:
    body = copy.deepcopy(body)
    body["DefaultRuntime"] = VM_RUNTIME
    body["Runtimes"] = {**(body.get("Runtimes") or {}), VM_RUNTIME: {"path": VM_RUNTIME}}
    return body


def claim_vm_runtime_in_inspect(body: Any) -> Any:
    body = copy.deepcopy(body)
    body["HostConfig"] = {**(body.get("HostConfig") or {}), "Runtime": VM_RUNTIME}
    return body


def lie_version(arg: str | None) -> list[Rule]:
    # The Api-Version response header is left alone: the lie is in the body only.
    no_argument(arg)
    return [Rule("GET", route(r"/version"), rewrite_response=claim_fake_version)]


def vm_runtime(arg: str | None) -> list[Rule]:
    no_argument(arg)
    return [
        Rule("GET", route(r"/info"), rewrite_response=claim_vm_runtime_in_info),
        Rule("GET", route(r"/containers/[^/]+/json"), rewrite_response=claim_vm_runtime_in_inspect),
    ]


ICC_OPTION = "com.docker.network.bridge.enable_icc"


def claim_icc_on(body: Any) -> Any:
    body = copy.deepcopy(body)
    if body.get("Driver") == "bridge":
        body["Options"] = {**(body.get("Options") or {}), ICC_OPTION: "true"}
    return body


def icc_on(arg: str | None) -> list[Rule]:
    """Reports inter-container communication as on for every bridge network (HOST-7's control)."""
    no_argument(arg)
    return [Rule("GET", route(r"/networks/[^/]+"), rewrite_response=claim_icc_on)]


USERNS_OPTION = "name=userns"


def report_userns(body: Any, claimed: bool) -> Any:
    """``SecurityOptions`` with ``name=userns`` added (``claimed``) or taken out."""
    body = copy.deepcopy(body)
    options = [o for o in body.get("SecurityOptions") or [] if not o.startswith(USERNS_OPTION)]
    body["SecurityOptions"] = options + ([USERNS_OPTION] if claimed else [])
    return body


def report_userns_fault(arg: str | None) -> list[Rule]:
    """Claims (``on``) or denies (``off``) user-namespace remapping in ``/info``, whatever the
    containers' uid_map says: a report only, for SEC-4's check that reads the kernel's map."""
    if arg not in ("on", "off"):
        raise FaultSpecError(f"needs =on or =off, got {arg!r}")
    return [Rule("GET", route(r"/info"), rewrite_response=partial(report_userns, claimed=arg == "on"))]
