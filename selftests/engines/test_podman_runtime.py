"""The private Podman service chooses an OCI runtime that runs containers, or says in one line
why none does.

Installing Debian's crun makes Podman prefer it, and on a host with a hybrid cgroup layout
crun refuses every container ("cgroups in hybrid mode not supported"). The refusal is made
here by a stand-in ``crun`` earlier on PATH that fails as crun does there; the real Podman
and runc do the rest.
"""

from __future__ import annotations

import os
import shutil
import stat
from contextlib import closing

import docker
import pytest

from fixtures.engine import podman
from fixtures.engine.runnable import run_error
from fixtures.run.processes import stop_started

REFUSAL = "cgroups in hybrid mode not supported, drop all controllers from cgroupv2"


def _refusing_runtime(folder, name: str) -> None:
    script = folder / name
    script.write_text(f'#!/bin/sh\necho "{REFUSAL}" >&2\nexit 1\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def refusing_path(tmp_path, monkeypatch):
    """PATH with a crun that refuses every container ahead of the real runtimes."""
    if os.geteuid() != 0 or not shutil.which("podman"):
        pytest.fail("this self-test needs root and podman (tools/setup selftest installs it)")
    folder = tmp_path / "bin"
    folder.mkdir()
    _refusing_runtime(folder, "crun")
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    return folder


def test_a_runtime_that_refuses_containers_is_passed_over(refusing_path, engines_rundir):
    assert shutil.which("runc"), "runc is part of docker.io"
    started = podman.start(engines_rundir, "podman-fallback")
    try:
        assert started["runtime"] == "runc", started
        with closing(docker.DockerClient(base_url=started["url"], version="1.41", timeout=60)) as client:
            assert run_error(client) == "", "the chosen runtime must run a container"
    finally:
        stop_started(engines_rundir, "podman-fallback-service-runc")


def test_no_runtime_that_runs_containers_is_one_line_naming_each(refusing_path, engines_rundir):
    _refusing_runtime(refusing_path, "runc")
    with pytest.raises(podman.PodmanUnavailable) as caught:
        podman.start(engines_rundir, "podman-none")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("no OCI runtime runs a container under a private Podman service here: ")
    assert "crun: " in message and "runc: " in message and REFUSAL in message, message
