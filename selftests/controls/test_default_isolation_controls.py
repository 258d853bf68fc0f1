"""SEC-4 in both directions: on a hardened dockerd the findings it hardens pass, on the
default dockerd they fail; and neither verdict follows what the engine only reports.

The hardened daemon is a sandbox dockerd of its own (socket, data-root, exec-root,
bridge) with ``icc=false``, ``userns-remap=default``, ``no-new-privileges``,
``live-restore`` and ``userland-proxy=false`` in its daemon.json (and
``default-cgroupns-mode=private``, for SEC-1's cgroup namespace finding, which dockerd
20.10 leaves shared on cgroup v1). It is the positive control: a check that fails there is
a false failure. The default daemon is the self-tests' engine (a sandbox with an empty
daemon.json on CI), checked to be default first. A faulty engine that claims ``name=userns`` in front of the default daemon, and one
that hides it in front of the hardened daemon, prove that the userns finding reads the
containers' uid_map, not the engine's report.

``userns-remap=default`` makes dockerd add a ``dockremap`` user and its subordinate ids on
the host (dockerd needs /etc/subuid and /etc/subgid to exist, so the fixture makes them
empty when they are missing); the fixture removes all of them again if they were not there
before.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from fixtures.engine import sandbox
from fixtures.engine.target import connect
from fixtures.run.identity import RunIdentity
from fixtures.run.rundir import RunDir
from fixtures.session.lifecycle import UNDOERS
from selftests.conftest import RUN_ROOT
from selftests.controls.negative import Control, check_control
from selftests.faulty_engine import FaultyEngine

SEC1 = "suites/secure/test_isolation_from_one_another.py"
# SEC-1's findings that the same settings harden: icc, and the cgroup namespace.
SEC1_FINDINGS = (f"{SEC1}::test_default_bridge_separates_containers", f"{SEC1}::test_cgroup_namespace_is_private")
SEC4 = "suites/secure/test_default_isolation_findings.py"
USERNS = f"{SEC4}::test_root_in_a_container_is_not_root_on_the_host"
HARDENED = {"icc": False, "userns-remap": "default", "no-new-privileges": True, "live-restore": True,
            "userland-proxy": False, "default-cgroupns-mode": "private"}
REMAP_USER = "dockremap"
ID_FILES = (Path("/etc/subuid"), Path("/etc/subgid"))
# What the hardened settings harden, as each check is named, and the finding a default
# daemon gives for it.
HARDENED_FINDINGS = {
    "test_default_bridge_keeps_containers_apart": "containers on the default bridge reach each other",
    "test_root_in_a_container_is_not_root_on_the_host": "root in a container is uid 0 on the host",
    "test_no_new_privileges_by_default": "NoNewPrivs: 0",
    "test_live_restore_is_enabled": "LiveRestoreEnabled=False",
    "test_published_ports_need_no_userland_proxy": "the userland proxy serves published port",
}
ALWAYS_HARDENED = ("test_system_calls_are_filtered_by_default", "test_api_socket_is_not_open_to_everyone")
MAC = "test_containers_are_confined_by_mac"


def _mac_available() -> bool:
    """AppArmor or SELinux on this host; neither exists on the VMs the self-tests run on."""
    return Path("/sys/kernel/security/apparmor").is_dir() or Path("/sys/fs/selinux/enforce").is_file()


def _mac_expectation() -> tuple[dict[str, str], dict[str, str]]:
    return ({}, {MAC: "passed"}) if _mac_available() else ({MAC: "neither AppArmor nor SELinux"}, {})


def _default_cgroupns_expectation() -> tuple[dict[str, str], dict[str, str]]:
    """dockerd's default cgroup namespace is the host's on cgroup v1, a private one on v2 alone."""
    name = "test_cgroup_namespace_is_private"
    if Path("/sys/fs/cgroup/cgroup.controllers").is_file():
        return {}, {name: "passed"}
    return {name: "containers share the host's cgroup namespace"}, {}


MAC_FAILS, MAC_PASSES = _mac_expectation()
CGROUPNS_FAILS, CGROUPNS_PASSES = _default_cgroupns_expectation()
HARDENED_DOCKERD = Control(
    "SEC-4-hardened-dockerd", weakens="nothing: a dockerd with icc off, userns-remap, no-new-privileges, "
                                      "live-restore, no userland proxy and a private cgroup namespace",
    select=(SEC4, *SEC1_FINDINGS), expect=MAC_FAILS, positive=True,
    outcomes={**{name: "passed" for name in (*HARDENED_FINDINGS, *ALWAYS_HARDENED)},
              **{nodeid.split("::")[1]: "passed" for nodeid in SEC1_FINDINGS}, **MAC_PASSES})
DEFAULT_DOCKERD = Control(
    "SEC-4-default-dockerd", weakens="a default dockerd: icc on, no userns-remap, no no-new-privileges, "
                                     "no live-restore, the userland proxy",
    select=(SEC4, *SEC1_FINDINGS),
    expect={**HARDENED_FINDINGS, **MAC_FAILS, **CGROUPNS_FAILS,
            "test_default_bridge_separates_containers": "containers on the default bridge reach each other"},
    outcomes={**{name: "passed" for name in ALWAYS_HARDENED}, **MAC_PASSES, **CGROUPNS_PASSES})
CLAIMS_USERNS = Control(
    "SEC-4-claims-userns", faults=("report-userns=on",), select=(USERNS,),
    weakens="a default dockerd that reports name=userns without remapping",
    expect={"[SEC-4]": "uid 0 on the host (uid_map '0 0 4294967295'); the engine reports name=userns"})
HIDES_USERNS = Control(
    "SEC-4-hides-userns", faults=("report-userns=off",), select=(USERNS,), expect={}, positive=True,
    weakens="nothing: the hardened dockerd, reporting no userns though it remaps", outcomes={"[SEC-4]": "passed"})


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="module")
def hardened_engine():
    """A sandbox dockerd with the hardened settings, stopped and removed after the module."""
    remap_user_existed = _user_exists(REMAP_USER)
    id_files_existed = {path: path.exists() for path in ID_FILES}
    for path in ID_FILES:
        path.touch(mode=0o644)  # dockerd 20.10 adds the user's ranges to these, but never creates them
    run_dir = RunDir.create(RUN_ROOT, RunIdentity.for_controller(f"st-hard-{os.getpid()}"))
    try:
        engine = sandbox.start(run_dir, "hardened", daemon_config=HARDENED, log=lambda line: None)
        with closing(connect(engine.url)) as client:
            yield engine, client
    finally:
        problems = run_dir.undo(UNDOERS)
        run_dir.remove()
        if not remap_user_existed and _user_exists(REMAP_USER):
            # userdel also takes the user's ranges out of /etc/subuid and /etc/subgid.
            subprocess.run(["userdel", REMAP_USER], check=True, capture_output=True)
        for path, existed in id_files_existed.items():
            if not existed and path.exists() and not path.read_text().strip():
                path.unlink()
        assert not problems, f"the hardened sandbox engine was not cleaned up: {problems}"


def _default_settings(real_client) -> None:
    info = real_client.info()
    userns = [o for o in info.get("SecurityOptions") or [] if o.startswith("name=userns")]
    assert not info.get("LiveRestoreEnabled") and not userns, (
        f"the self-tests' engine is not a default dockerd (LiveRestoreEnabled={info.get('LiveRestoreEnabled')}, "
        f"SecurityOptions {info.get('SecurityOptions')}): the default direction needs one")


def test_hardened_daemon_passes_what_it_hardens(suite, hardened_engine, real_client):
    engine, client = hardened_engine
    check_control(suite, HARDENED_DOCKERD, client, engine=engine.url)


def test_default_daemon_fails_what_it_leaves_weak(suite, real_client):
    _default_settings(real_client)
    check_control(suite, DEFAULT_DOCKERD, real_client)


def test_userns_finding_reads_the_uid_map_not_the_report(suite, hardened_engine, real_engine, real_client, tmp_path):
    _default_settings(real_client)
    with FaultyEngine(list(CLAIMS_USERNS.faults), upstream=real_engine.url,
                      log_path=str(tmp_path / "on.log")) as claims:
        check_control(suite, CLAIMS_USERNS, real_client, engine=claims.url)
    engine, client = hardened_engine
    with FaultyEngine(list(HIDES_USERNS.faults), upstream=engine.url, log_path=str(tmp_path / "off.log")) as hides:
        check_control(suite, HIDES_USERNS, client, engine=hides.url)
