"""Negative controls of ENG-1 and ENG-2 (including its model-based check). LW-1's and ALP-1's are in
test_lightweight_controls.py."""

from __future__ import annotations

import pytest

from selftests.controls.negative import Control, check_control

ENGINE = "suites/engine"
CONTROLS = [
    Control("ENG-1-daemon-lies-in-version", weakens="the engine claims API 9.99 and a fake version in /version",
            faults=("lie-version",), select=(f"{ENGINE}/test_rest_api.py",),
            expect={"test_version_agrees_with_negotiation[ENG-1]": "claims ApiVersion '9.99'"}),
    # An engine that does not keep the command a container was created with (every process
    # replaced): the CLI and the API agree with each other, but not with what was asked.
    Control("ENG-1-command-not-kept", weakens="every container's process replaced by one that does not exist",
            faults=("runtime-refuses",), select=(f"{ENGINE}/test_rest_api.py",),
            expect={f"{test}[ENG-1]": "not the one it was made with"
                    for test in ("test_api_sees_what_the_cli_created", "test_cli_sees_what_the_api_created")}),
    Control("ENG-2-remove-lies",
            weakens="removal of containers, volumes, networks and images answers success and removes nothing",
            faults=("fake-remove=container,volume,network,image",),
            select=(f"{ENGINE}/test_object_management.py",), fakes_removal=True,
            expect={f"test_object_lifecycle[ENG-2-{kind}]": "still listed after remove"
                    for kind in ("container", "image", "network", "volume")}),
    # The model-based check: a remove that lies breaks the model at the first `rm` step; the
    # shortest such sequence is a refused `rm` of the running container every example starts with.
    Control("ENG-2-model-remove-lies", weakens="container removal answers success and removes nothing",
            faults=("fake-remove=container",),
            select=(f"{ENGINE}/test_lifecycle_model.py",), fakes_removal=True,
            expect={"test_container_lifecycle_matches_a_model[ENG-2-containers]":
                    "rm without force removed running container"}),
    # A runtime that refuses every container: the model's first start fails.
    Control("ENG-2-model-runtime-refuses", weakens="the runtime refuses every container",
            faults=("runtime-refuses",),
            select=(f"{ENGINE}/test_lifecycle_model.py",),
            expect={"test_container_lifecycle_matches_a_model[ENG-2-containers]": "OCI runtime"}),
]


@pytest.mark.parametrize("control", CONTROLS, ids=str)
def test_check_fails_on_its_negative_control(control, suite, faulty_engine, real_client):
    engine = faulty_engine(*control.faults).url if control.faults else None
    check_control(suite, control, real_client, engine=engine)
