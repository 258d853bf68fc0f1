"""Negative controls of CMD-1 to CMD-16, START-1, DATA-1 and ARCH-1: each check failing on a
weakened engine, or on a registry that accepts any password."""

from __future__ import annotations

import os
import shutil
import time

import pytest
import requests

from fixtures.core.waiting import wait_until
from fixtures.registry import server as registry_server
from fixtures.run import processes
from fixtures.run.identity import RunIdentity
from fixtures.run.ports import free_tcp_port
from fixtures.run.rundir import RunDir
from fixtures.session.lifecycle import UNDOERS
from selftests.conftest import RUN_ROOT
from selftests.controls.negative import Control, check_control

CMD = "suites/commands"
PORTS = f"{CMD}/test_port_mapping.py::test_port_mapping"
REGISTRY = f"{CMD}/test_registry_commands.py"

CONTROLS = [
    Control("CMD-6-stop-is-kill", faults=("stop-is-kill",), select=(f"{CMD}/test_stop_kill.py",),
            expect={"[CMD-6-handler-records-sigterm]": "no SIGTERM was delivered",
                    "[CMD-6-ignorer-killed-after-grace]": "SIGKILL came without a SIGTERM first"}),
    Control("CMD-2-CMD-3-START-1-ports-dropped", faults=("drop-ports",), args=("-n", "2"),
            select=(f"{CMD}/test_run_published.py", f"{CMD}/test_port_mapping.py",
                    "suites/getting_started/test_nginx.py"),
            expect={"test_run_maps_host_port_4000[CMD-2]": "not published on host port 4000",
                    "test_run_detached_returns_at_once[CMD-3]": "not published on host port 4000",
                    "[CMD-2-host-to-container]": "not published on host port",
                    "[CMD-2-publish-all]": "-P published no host port",
                    "[CMD-2-bind-address]": "is not bound to 127.0.0.1",
                    "[CMD-2-udp]": "5353/udp is not published",
                    "[CMD-2-several-ports]": "80/tcp is not published",
                    "[CMD-2-port-conflict-host-process]": "which is already bound, succeeded",
                    "[CMD-2-port-conflict-container]": "which is already bound, succeeded",
                    "test_port_mapping_carrier_and_rtt[CMD-2]": "7/tcp is not published",
                    "[START-1]": "port 80 is not published"}),
    Control("CMD-3-detach-waits-for-start", faults=("delay-start=6",),
            select=(f"{CMD}/test_run_published.py::test_run_detached_returns_at_once",),
            expect={"[CMD-3]": "over detached_run_max_s"}),
    Control("DATA-1-volume-is-a-tmpfs", faults=("volume-to-tmpfs",), select=("suites/data/test_data_management.py",),
            expect={"[DATA-1-named-volume-outlives-container]": "is not there for a new one",
                    "[DATA-1-volume-rm-in-use-refused]": "while a running container used it"}),
    Control("CMD-1-build-ignores-tag", faults=("build-ignores-tag",), select=(f"{CMD}/test_build.py",),
            expect={"[CMD-1]": "did not tag the image it built"}),
    Control("CMD-4-lists-stopped-containers", faults=("list-all",),
            select=(f"{CMD}/test_container_list.py::test_ls_lists_running_only",),
            expect={"[CMD-4]": "the exited container"}),
    Control("CMD-5-hides-stopped-containers", faults=("list-running-only",),
            select=(f"{CMD}/test_container_list.py::test_ls_all_lists_stopped_too",),
            expect={"[CMD-5]": "does not list the exited, created container"}),
    Control("CMD-10-hides-intermediate-images", faults=("images-top-only",),
            select=(f"{CMD}/test_image_commands.py::test_image_ls_all_lists_intermediates",),
            expect={"[CMD-10]": "does not list the intermediate image"}),
    # The literal "remove all" cases run on an engine of the run's own, not through the proxy.
    Control("CMD-8-CMD-9-CMD-11-CMD-12-removal-lies", faults=("fake-remove=container,image",), fakes_removal=True,
            select=(f"{CMD}/test_container_rm.py", f"{CMD}/test_image_commands.py::test_image_rm",
                    f"{CMD}/test_remove_all.py::test_remove_all_containers[CMD-9-target-scoped]",
                    f"{CMD}/test_remove_all.py::test_remove_all_images[CMD-12-target-scoped]"),
            expect={"[CMD-8-stopped]": "is still there after rm",
                    "[CMD-8-running-refused]": "without -f",
                    "[CMD-9-target-scoped]": "containers in scope remain",
                    "[CMD-11-unused]": "is still there after image rm",
                    "[CMD-11-in-use-refused]": "removed an image a running container uses",
                    "[CMD-12-target-scoped]": "images in scope (or their intermediate images) remain"}),
    Control("CMD-14-tag-is-a-no-op", faults=("fake-tag",),
            select=(f"{REGISTRY}::test_tag_names_the_same_image",),
            expect={"[CMD-14]": "resolves to None"}),
    Control("CMD-15-push-uploads-nothing", faults=("fake-push",),
            select=(f"{REGISTRY}::test_push_uploads_to_registry",),
            expect={"[CMD-15]": "does not serve"}),
    Control("CMD-16-ARCH-1-daemon-never-pulls", faults=("refuse-pull",),
            select=(f"{REGISTRY}::test_run_pulls_when_absent",
                    "suites/architecture/test_client_daemon_registry.py::test_daemon_pulls_from_registry"),
            expect={"[CMD-16]": "pull refused", "test_daemon_pulls_from_registry[ARCH-1]": "pull refused"}),
]


@pytest.mark.parametrize("control", CONTROLS, ids=str)
def test_check_fails_on_its_negative_control(control, suite, faulty_engine, real_client):
    check_control(suite, control, real_client, engine=faulty_engine(*control.faults).url)


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
    control = Control("CMD-13-registry-accepts-any-password", select=(f"{REGISTRY}::test_login",),
                      args=("--registry", registry_accepting_any_password),
                      expect={"[CMD-13-bad-credentials]": "bad credentials were accepted"})
    check_control(suite, control, real_client,
                  env={registry_server.USER_ENV: "anyone", registry_server.PASSWORD_ENV: "any-password"})
