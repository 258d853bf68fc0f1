"""Negative controls of PKG-1, PKG-2, ISO-1, ISO-2 and SEC-1: engines that share a namespace,
the host's filesystem or environment, or ignore an image, on which exactly the named checks
fail, each with a message naming what leaked.

The checks of these claims that no control makes fail, and why, are in without_control.py.
"""

from __future__ import annotations

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from selftests.conftest import SuiteRunner
from selftests.controls.negative import Control, check_control

PKG1 = "suites/packaging/test_standalone_package.py"
PKG2 = "suites/packaging/test_same_everywhere.py"
ISO1 = "suites/isolation/test_isolation_from_surroundings.py"
ISO2 = "suites/isolation/test_teams_side_by_side.py"
SEC1 = "suites/secure/test_isolation_from_one_another.py"
SEC3 = "suites/secure/test_problem_containment.py"
NO_DISTURBANCE = f"{ISO2}::test_one_team_cannot_disturb_the_other"
# Set in the suite's own (the host's) environment and forced into containers by the fault.
# Fixed, not random: it is part of the control's definition, which the control matrix keeps.
HOST_MARKER = "CONFORMANCE_CONTROL_HOST_MARKER"
CRIPPLED_NGINX = f"conformance-selftest/nginx-without-pcre:{uuid.uuid4().hex[:8]}"

PID_HOST = Control(
    "pid-host", faults=("pid-host",), weakens="every container in the host's pid namespace",
    select=(f"{SEC1}::test_namespace_is_private[SEC-1-pid]", f"{SEC1}::test_neighbours_processes_are_invisible",
            f"{SEC1}::test_neighbours_files_are_invisible", f"{ISO1}::test_processes_are_its_own",
            NO_DISTURBANCE),
    expect={"[SEC-1-pid]": "shares the host's pid namespace",
            "test_neighbours_processes_are_invisible": "sees its neighbour's process",
            "test_neighbours_files_are_invisible": "sees its neighbour's file",
            "test_processes_are_its_own": "not its own command",
            "test_one_team_cannot_disturb_the_other": "killed team B's process"})

CONTROLS = [
    PID_HOST,
    Control("net-host", faults=("net-host",), weakens="every container in the host's network namespace",
            select=(f"{SEC1}::test_namespace_is_private[SEC-1-net]",
                    f"{SEC1}::test_neighbours_loopback_service_is_unreachable",
                    f"{SEC1}::test_user_networks_are_separate", f"{ISO1}::test_hostname_is_its_own",
                    f"{ISO1}::test_etc_hosts_is_its_own", f"{ISO2}::test_both_teams_serve_the_same_port"),
            expect={"[SEC-1-net]": "shares the host's net namespace",
                    "test_neighbours_loopback_service_is_unreachable": "reached its neighbour's loopback service",
                    "test_user_networks_are_separate": "has no address on network",
                    "test_hostname_is_its_own": "is the host's",
                    "test_etc_hosts_is_its_own": "a copy of the host's",
                    "test_both_teams_serve_the_same_port": "cannot listen on port 80"}),
    # The container's command in the host's mount namespace: the one namespace the Engine
    # API cannot share, entered from inside (see the faulty engine's mnt-host).
    Control("mnt-host", faults=("mnt-host",), weakens="every container's command in the host's mount namespace",
            select=(f"{SEC1}::test_namespace_is_private[SEC-1-mnt]", f"{ISO1}::test_root_filesystem_is_the_images"),
            expect={"[SEC-1-mnt]": "shares the host's mnt namespace",
                    "test_root_filesystem_is_the_images": "the host's filesystem is visible"}),
    # Two namespaces in one run (each check names the one it found shared), and the image
    # without one of its libraries, which none of these faults touches.
    Control("uts-host+ipc-host+image-lacks-its-libraries", faults=("uts-host", "ipc-host"),
            weakens="containers in the host's uts and ipc namespaces; an nginx image without libpcre2-8",
            args=("--nginx-image", CRIPPLED_NGINX),
            select=(f"{SEC1}::test_namespace_is_private[SEC-1-uts]", f"{SEC1}::test_namespace_is_private[SEC-1-ipc]",
                    f"{ISO1}::test_hostname_is_its_own", f"{PKG2}::test_host_name_does_not_leak_in",
                    f"{PKG1}::test_libraries_resolve_inside[PKG-1-nginx]"),
            expect={"[SEC-1-uts]": "shares the host's uts namespace", "[SEC-1-ipc]": "shares the host's ipc namespace",
                    "test_hostname_is_its_own": "is the host's", "test_host_name_does_not_leak_in": "appears inside the container",
                    "[PKG-1-nginx]": "libpcre2-8.so.0"}),
    # The host's root bound in, and published ports dropped: neither touches the other's checks.
    Control("bind-root+drop-ports", faults=("bind-root", "drop-ports"),
            weakens="the host's / bound read-write into every container; published ports dropped",
            select=(f"{ISO1}::test_root_filesystem_is_the_images", f"{SEC1}::test_neighbours_files_are_invisible",
                    f"{PKG2}::test_host_files_do_not_leak_in", f"{PKG1}::test_runs_on_its_own",
                    f"{PKG1}::test_exposed_port_is_published"),
            expect={"test_root_filesystem_is_the_images": "the host's filesystem is visible",
                    "test_neighbours_files_are_invisible": "sees its neighbour's file",
                    "test_host_files_do_not_leak_in": "is visible inside the container", "test_runs_on_its_own": "has mounts",
                    "test_exposed_port_is_published": "has no host port for 8080/tcp"}),
    # An engine that does not run images as built: it ignores their config, overrides their
    # ENV, and passes one of the host's variables in.
    Control("ignore-image-config+set-env",
            faults=("ignore-image-config", f"set-env={HOST_MARKER}=from-the-host,PKG_GREETING=tampered"),
            weakens="images run without their config; the host's variable and another value forced into Env",
            select=(f"{ISO1}::test_environment_has_nothing_of_the_host", f"{PKG2}::test_host_environment_does_not_leak_in",
                    *(f"{PKG1}::test_image_config_is_honoured[PKG-1-{field}]"
                      for field in ("env", "entrypoint", "cmd", "workdir", "user"))),
            expect={"test_environment_has_nothing_of_the_host": f"leaked into the container: ['{HOST_MARKER}']",
                    "test_host_environment_does_not_leak_in": f"leaked into the container: ['{HOST_MARKER}']",
                    **{f"[PKG-1-{field}]": f"the image's {field} is not honoured"
                       for field in ("env", "entrypoint", "cmd", "workdir", "user")}}),
    # One writable /tmp for every container: files meet there, and a run finds what an
    # earlier run left.
    Control("shared-tmp", faults=("shared-tmp={tmp}/shared",), weakens="one writable host /tmp for every container",
            select=(NO_DISTURBANCE, f"{SEC3}::test_writes_leave_the_image_unchanged",
                    f"{SEC3}::test_writes_do_not_reach_a_neighbour", f"{PKG2}::test_same_output_on_every_run"),
            expect={"test_one_team_cannot_disturb_the_other": "sees team A's file",
                    "test_writes_leave_the_image_unchanged": "sees the writer's changes",
                    "test_writes_do_not_reach_a_neighbour": "sees the writer's changes",
                    "test_same_output_on_every_run": "gave different output"}),
]


@pytest.fixture(scope="module")
def crippled_nginx(real_client, preloaded_images, selftest_labels):
    """The nginx image without one of nginx's libraries (libpcre2-8), for PKG-1's control."""
    dockerfile = (f"FROM {preloaded_images['nginx'].image_id}\n"
                  "RUN rm -f $(ldd /usr/sbin/nginx | awk '/libpcre2-8/ {print $3}')*\n")
    image, _ = real_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=CRIPPLED_NGINX,
                                        labels=selftest_labels, rm=True, forcerm=True, nocache=True)
    yield image
    real_client.api.remove_image(image.id, force=True)


@pytest.mark.parametrize("control", CONTROLS, ids=str)
def test_check_fails_on_its_negative_control(control, suite, faulty_engine, real_client, tmp_path, request):
    if "--nginx-image" in control.args:
        request.getfixturevalue("crippled_nginx")
    faults = [fault.format(tmp=tmp_path) for fault in control.faults]
    engine = faulty_engine(*faults).url if faults else None
    check_control(suite, control, real_client, engine=engine, env={HOST_MARKER: "from-the-host"})


RUNS = 5


@pytest.mark.not_a_control
def test_no_disturbance_fails_on_a_pid_host_engine_every_time(faulty_engine, real_engine, real_client,
                                                               preloaded_images, tmp_path):
    """ISO-2's no-disturbance check, on an engine whose containers share the host's pid
    namespace, fails 5 runs out of 5, each naming the kill: a refused exec or a state not
    yet settled must never read as "B was not disturbed". The 5 suite runs go at once, each
    with its own run id and reports, which also loads the engine as a busy host would."""
    engine = faulty_engine("pid-host").url
    control = replace(PID_HOST, select=(NO_DISTURBANCE,),
                      expect={"test_one_team_cannot_disturb_the_other": "killed team B's process"})

    def one_run(attempt: int) -> str | None:
        runner = SuiteRunner(real_engine.url, tmp_path / f"run-{attempt}")
        try:
            check_control(runner, control, real_client, engine=engine)
        except AssertionError as exc:
            return f"run {attempt}: {exc}"
        return None

    with ThreadPoolExecutor(max_workers=RUNS) as pool:
        problems = [problem for problem in pool.map(one_run, range(1, RUNS + 1)) if problem]
    assert not problems, f"{len(problems)} of {RUNS} runs did not fail as expected:\n" + "\n".join(problems)
