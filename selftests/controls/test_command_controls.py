"""Negative controls of CMD-1 to CMD-16, START-1, DATA-1 and ARCH-1: each check failing on a
weakened engine, or on a registry that accepts any password; and the leak drill: on an engine
whose runtime refuses every container, those suites fail but leave nothing behind."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import replace

import pytest
import requests

from fixtures.core.exitcodes import Exit
from fixtures.core.waiting import wait_until
from fixtures.registry import server as registry_server
from fixtures.run import processes
from fixtures.run.identity import RunIdentity
from fixtures.run.ports import free_tcp_port
from fixtures.run.rundir import RunDir
from fixtures.session.lifecycle import UNDOERS
from selftests.conftest import RUN_ROOT
from selftests.controls.negative import Control, assert_nothing_left, check_control

CMD = "suites/commands"
DATA = "suites/data/test_data_management.py"
NGINX = "suites/getting_started/test_nginx.py"
REGISTRY = f"{CMD}/test_registry_commands.py"

CONTROLS = [
    Control("CMD-6-START-1-stop-is-kill", weakens="stop kills with SIGKILL at once, no SIGTERM and no grace period",
            faults=("stop-is-kill",), select=(f"{CMD}/test_stop_kill.py", NGINX),
            expect={"test_stop_delivers_sigterm_and_lets_the_app_exit[CMD-6]": "no SIGTERM reached it",
                    "test_stop_kills_an_app_that_ignores_sigterm_after_the_grace[CMD-6]":
                        "SIGKILL came without a SIGTERM first",
                    "[START-1]": "nginx was killed (exit code 137, SIGKILL)"}),
    Control("CMD-7-kill-is-term", weakens="kill sends SIGTERM whatever signal was asked",
            faults=("kill-is-term",), select=(f"{CMD}/test_stop_kill.py::test_kill_is_immediate",),
            expect={"[CMD-7]": "kill delivered SIGTERM, not SIGKILL"}),
    Control("CMD-2-CMD-3-START-1-ports-dropped", weakens="published ports silently dropped",
            faults=("drop-ports",), args=("-n", "2"),
            select=(f"{CMD}/test_run_published.py", f"{CMD}/test_port_mapping.py", NGINX),
            expect={"test_run_maps_host_port_4000[CMD-2]": "not published on host port 4000",
                    "test_run_detached_returns_at_once[CMD-3]": "not published on host port 4000",
                    "test_host_port_reaches_container_port[CMD-2]": "not published on host port",
                    "test_publish_all_gives_exposed_port_a_random_host_port[CMD-2]": "-P published no host port",
                    "test_bind_address_limits_the_port_to_it[CMD-2]": "is not bound to 127.0.0.1",
                    "test_udp_port_carries_datagrams[CMD-2]": "5353/udp is not published",
                    "test_several_ports_each_reach_their_own[CMD-2]": "80/tcp is not published",
                    "test_port_held_by_a_host_process_fails_cleanly[CMD-2]": "which is already bound, succeeded",
                    "test_port_held_by_a_container_fails_cleanly[CMD-2]": "which is already bound, succeeded",
                    "test_port_mapping_carrier_and_rtt[CMD-2]": "7/tcp is not published",
                    "[START-1]": "port 80 is not published"}),
    Control("CMD-3-detach-waits-for-start", weakens="every container start answered 6 s late",
            faults=("delay-start=6",),
            select=(f"{CMD}/test_run_published.py::test_run_detached_returns_at_once",),
            expect={"[CMD-3]": "over detached_run_max_s"}),
    Control("DATA-1-volume-is-a-tmpfs", weakens="a tmpfs mounted where a named volume was asked for",
            faults=("volume-to-tmpfs",), select=(DATA,),
            expect={"test_named_volume_outlives_its_container[DATA-1]": "is not there for a new one",
                    "test_volume_in_use_cannot_be_removed[DATA-1]": "while a running container used it"}),
    Control("DATA-1-bind-is-a-tmpfs", weakens="an empty tmpfs mounted where a host path was bound",
            faults=("bind-to-tmpfs",), select=(DATA,),
            expect={"test_bind_mount_is_seen_from_both_sides[DATA-1]": "does not see the host's file"}),
    Control("DATA-1-tmpfs-is-a-volume", weakens="an anonymous volume mounted where a tmpfs was asked for",
            faults=("tmpfs-to-volume",), select=(DATA,),
            expect={"test_tmpfs_is_empty_after_restart[DATA-1]": "the tmpfs still holds ['file'] after a restart"}),
    Control("DATA-1-rm-keeps-volumes", weakens="container removal never removes its anonymous volumes",
            faults=("rm-keeps-volumes",),
            select=(f"{DATA}::test_rm_v_removes_the_anonymous_volume",),
            expect={"[DATA-1]": "`docker container rm -v` left the anonymous volume"}),
    Control("DATA-1-volume-removal-lies", weakens="volume removal answers success and removes nothing",
            faults=("fake-remove=volume",), fakes_removal=True,
            select=(f"{DATA}::test_removed_volume_takes_its_data",),
            expect={"[DATA-1]": "is still there after `docker volume rm` succeeded"}),
    Control("CMD-1-build-ignores-tag", weakens="builds drop their -t tag",
            faults=("build-ignores-tag",), select=(f"{CMD}/test_build.py",),
            expect={"[CMD-1]": "did not tag the image it built"}),
    Control("CMD-4-lists-stopped-containers", weakens="container ls lists stopped containers too",
            faults=("list-all",),
            select=(f"{CMD}/test_container_list.py::test_ls_lists_running_only",),
            expect={"[CMD-4]": "the exited container"}),
    Control("CMD-5-hides-stopped-containers", weakens="container ls -a never lists stopped containers",
            faults=("list-running-only",),
            select=(f"{CMD}/test_container_list.py::test_ls_all_lists_stopped_too",),
            expect={"[CMD-5]": "does not list the exited, created container"}),
    Control("CMD-10-hides-intermediate-images", weakens="image ls -a never lists intermediate images",
            faults=("images-top-only",),
            select=(f"{CMD}/test_image_commands.py::test_image_ls_all_lists_intermediates",),
            expect={"[CMD-10]": "does not list the intermediate image"}),
    # The literal "remove all" tests run on an engine of the run's own, not through the proxy.
    Control("CMD-8-CMD-9-CMD-11-CMD-12-removal-lies",
            weakens="container and image removal answer success and remove nothing",
            faults=("fake-remove=container,image",), fakes_removal=True,
            select=(f"{CMD}/test_container_rm.py",
                    f"{CMD}/test_image_commands.py::test_image_rm_removes_an_unused_image",
                    f"{CMD}/test_image_commands.py::test_image_rm_refuses_an_image_in_use",
                    f"{CMD}/test_remove_all.py::test_remove_all_containers_scoped_on_the_target",
                    f"{CMD}/test_remove_all.py::test_remove_all_images_scoped_on_the_target"),
            expect={"test_rm_removes_a_stopped_container[CMD-8]": "is still there after rm",
                    "test_rm_refuses_a_running_container_without_force[CMD-8]": "without -f",
                    "test_remove_all_containers_scoped_on_the_target[CMD-9]": "containers in scope remain",
                    "test_image_rm_removes_an_unused_image[CMD-11]": "is still there after image rm",
                    "test_image_rm_refuses_an_image_in_use[CMD-11]": "removed an image a running container uses",
                    "test_remove_all_images_scoped_on_the_target[CMD-12]":
                        "images in scope (or their intermediate images) remain"}),
    Control("CMD-14-tag-is-a-no-op", weakens="tag answers success and tags nothing",
            faults=("fake-tag",),
            select=(f"{REGISTRY}::test_tag_names_the_same_image",),
            expect={"[CMD-14]": "resolves to None"}),
    Control("CMD-15-push-uploads-nothing", weakens="push streams a good ending and uploads nothing",
            faults=("fake-push",),
            select=(f"{REGISTRY}::test_push_uploads_to_registry",),
            expect={"[CMD-15]": "does not serve"}),
    Control("CMD-16-ARCH-1-daemon-never-pulls", weakens="every pull refused: the daemon never asks the registry",
            faults=("refuse-pull",),
            select=(f"{REGISTRY}::test_run_pulls_when_absent",
                    "suites/architecture/test_client_daemon_registry.py::test_daemon_pulls_from_registry"),
            expect={"[CMD-16]": "pull refused", "test_daemon_pulls_from_registry[ARCH-1]": "pull refused"}),
]


# The registry's address is known once it runs: the test adds ``--registry``.
OPEN_REGISTRY = Control(
    "CMD-13-registry-accepts-any-password", weakens="a registry without authentication: any password logs in",
    select=(f"{REGISTRY}::test_login_with_good_credentials", f"{REGISTRY}::test_login_refuses_bad_credentials"),
    expect={"test_login_refuses_bad_credentials[CMD-13]": "bad credentials were accepted"})


@pytest.mark.parametrize("control", CONTROLS, ids=str)
def test_check_fails_on_its_negative_control(control, suite, faulty_engine, real_client):
    check_control(suite, control, real_client, engine=faulty_engine(*control.faults).url)


# Every suite of the command list, data, getting started, engine and architecture chapters.
CLI_SUITES = (CMD, "suites/data", "suites/getting_started", "suites/engine", "suites/architecture")


@pytest.mark.not_a_control
@pytest.mark.thorough  # the runtime-fails drill checks the same leftovers in every ./selftest
def test_nothing_is_left_on_an_engine_whose_runtime_refuses_every_container(suite, faulty_engine, real_client):
    """On an engine whose runtime refuses every container, each failed ``docker run`` leaves a
    container in "created"; the suites adopt it by label after every CLI call and remove it,
    so the run fails its checks but leaves nothing of its own, and says so (not exit 13)."""
    run = suite(*CLI_SUITES, "-n", "2", engine=faulty_engine("runtime-refuses").url)
    assert run.summary, run.describe()
    failed = {**run.outcomes("failed"), **run.outcomes("error")}
    # `docker run` exits 127 when the container's command cannot be run.
    refused = [n for n, message in failed.items() if "exited 127" in message]
    assert len(refused) >= 10, f"the runtime's refusal is not what failed the checks: {failed}\n{run.describe()}"
    assert run.exit_code == Exit.GATE_FAILED, run.describe()
    assert_nothing_left(real_client, run)


OPEN_REGISTRY_CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {storage}
http:
  addr: 127.0.0.1:{port}
"""


@pytest.fixture(scope="module")
def registry_accepting_any_password():
    """A real registry (Debian's docker-registry) with no auth at all: every login succeeds."""
    binary = shutil.which("docker-registry") or shutil.which("registry")
    assert binary, "the registry binary is missing: install Debian's docker-registry"
    run_dir = RunDir.create(RUN_ROOT, RunIdentity.for_controller(
        f"selftest-open-registry-{time.strftime('%H%M%S')}-{os.getpid()}"))
    try:
        root, port = run_dir.sub("registry"), free_tcp_port()
        config = root / "config.yml"
        config.write_text(OPEN_REGISTRY_CONFIG.format(storage=root / "storage", port=port), encoding="utf-8")
        processes.start(run_dir, "open-registry", [binary, "serve", str(config)], root / "registry.log")
        address = f"127.0.0.1:{port}"
        wait_until(lambda: requests.get(f"http://{address}/v2/", timeout=2).status_code == 200,
                   timeout=30, what=f"the open registry on {address}")
        yield address
    finally:
        problems = run_dir.undo(UNDOERS)
        assert not problems, problems
        run_dir.remove()


def test_login_check_fails_on_a_registry_accepting_any_password(registry_accepting_any_password, suite,
                                                                 real_client):
    control = replace(OPEN_REGISTRY, args=("--registry", registry_accepting_any_password))
    check_control(suite, control, real_client,
                  env={registry_server.USER_ENV: "anyone", registry_server.PASSWORD_ENV: "any-password"})
