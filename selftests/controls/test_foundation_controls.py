"""Negative controls of ENG-1, ENG-2 (including its model-based check), LW-1 and ALP-1."""

from __future__ import annotations

import pytest

from selftests.controls.negative import Control, check_control

ENGINE = "suites/engine"
CONTROLS = [
    Control("ENG-1-daemon-lies-in-version", faults=("lie-version",), select=(f"{ENGINE}/test_rest_api.py",),
            expect={"test_version_agrees_with_negotiation[ENG-1]": "claims ApiVersion '9.99'"}),
    # An engine that does not keep the command a container was created with (every process
    # replaced): the CLI and the API agree with each other, but not with what was asked.
    Control("ENG-1-command-not-kept", faults=("runtime-refuses",), select=(f"{ENGINE}/test_rest_api.py",),
            expect={f"{test}[ENG-1]": "not the one it was made with"
                    for test in ("test_api_sees_what_the_cli_created", "test_cli_sees_what_the_api_created")}),
    Control("ENG-2-remove-lies", faults=("fake-remove=container,volume,network,image",),
            select=(f"{ENGINE}/test_object_management.py",), fakes_removal=True,
            expect={f"test_object_lifecycle[ENG-2-{kind}]": "still listed after remove"
                    for kind in ("container", "image", "network", "volume")}),
    # The model-based check: a remove that lies breaks the model at the first `rm` step; the
    # shortest such sequence is a refused `rm` of the running container every example starts with.
    Control("ENG-2-model-remove-lies", faults=("fake-remove=container",),
            select=(f"{ENGINE}/test_lifecycle_model.py",), fakes_removal=True,
            expect={"test_container_lifecycle_matches_a_model[ENG-2-containers]":
                    "rm without force removed running container"}),
    # A runtime that refuses every container: the model's first start fails.
    Control("ENG-2-model-runtime-refuses", faults=("runtime-refuses",),
            select=(f"{ENGINE}/test_lifecycle_model.py",),
            expect={"test_container_lifecycle_matches_a_model[ENG-2-containers]": "OCI runtime"}),
    Control("LW-1-vm-runtime", faults=("vm-runtime",), select=("suites/lightweight/test_shared_kernel.py",),
            expect={"test_runtime_is_not_a_vm[LW-1]": "kata-runtime"}),
    Control("ALP-1-glibc-bloated-base", args=("--alpine-image", "nginx:latest"),
            select=("suites/alpine/test_alpine_base.py::test_alpine_image",
                    "suites/alpine/test_alpine_base.py::test_alpine_config_cmd_is_sh"),
            expect={"[ALP-1-size]": "MB uncompressed", "[ALP-1-release]": "alpine-release",
                    "[ALP-1-musl]": "glibc", "[ALP-1-busybox-sh]": "not busybox",
                    "[ALP-1-apk-info]": "apk info", "[ALP-1-apk-verify]": "apk verify",
                    "test_alpine_config_cmd_is_sh": "not ['/bin/sh']"}),
]


@pytest.mark.parametrize("control", CONTROLS, ids=str)
def test_check_fails_on_its_negative_control(control, suite, faulty_engine, real_client):
    engine = faulty_engine(*control.faults).url if control.faults else None
    check_control(suite, control, real_client, engine=engine)
