"""Negative controls of LW-2 to LW-7, STD-1 and STD-2: each check failing on a weakened
engine, a weakened registry, or an image that breaks the claim."""

from __future__ import annotations

import io
import os
import time
from dataclasses import replace

import pytest

from fixtures.registry import server as registry_server
from fixtures.run.identity import RunIdentity
from fixtures.run.rundir import RunDir
from fixtures.session.lifecycle import UNDOERS
from selftests.conftest import RUN_ROOT, SELFTEST_LABEL
from selftests.controls.negative import Control, check_control
from selftests.controls.weakened_registry import WeakenedRegistry

LW = "suites/lightweight"
STD = "suites/standard"
LATENCY = f"{LW}/test_start_latency.py::test_start_latency"
COST = f"{LW}/test_idle_cost.py::test_idle_containers_cost_little"
LAYERS = f"{LW}/test_layers.py"
DISK = f"{LW}/test_disk_use.py"
STANDARD_IMAGE = f"{STD}/test_open_standards.py::test_registry_serves_standard_image"

ENGINE_CONTROLS = [
    Control("LW-2-start-delayed", faults=("delay-start=0.8",), select=(f"{LATENCY}[LW-2-none]",),
            expect={"[LW-2-none]": "start p50"}),
    Control("LW-3-memory-and-cpu-hog", faults=("hog=48",), args=("--threshold", "idle_containers=4"),
            select=(f"{COST}[LW-3-memory]", f"{COST}[LW-3-idle-cpu]"),
            expect={"[LW-3-memory]": "cost more than 32", "[LW-3-idle-cpu]": "% of a CPU"}),
    Control("LW-3-density-slow-starts", faults=("delay-start=8",), select=(f"{COST}[LW-3-density]",),
            expect={"[LW-3-density]": "to all run, over 20"}),
    Control("STD-2-no-glibc-distribution", args=("--nginx-image", "alpine:3.23"),
            select=(f"{STD}/test_any_distribution.py::test_distribution_runs_on_the_host_kernel",),
            expect={"[STD-2-debian-glibc]": "not debian"}),
]


@pytest.mark.parametrize("control", ENGINE_CONTROLS, ids=str)
def test_check_fails_on_its_negative_control(control, suite, faulty_engine, real_client):
    engine = faulty_engine(*control.faults).url if control.faults else None
    check_control(suite, control, real_client, engine=engine)


@pytest.fixture
def flattened_image(real_client, preloaded_images, selftest_labels):
    """An image built FROM alpine:3.23, then flattened: ``docker export | docker import``."""
    api = real_client.api
    build = api.build(fileobj=io.BytesIO(b"FROM alpine:3.23\nRUN echo derived > /derived\n"),
                      labels=selftest_labels, rm=True, forcerm=True, nocache=True, decode=True)
    derived = [line["aux"]["ID"] for line in build if "aux" in line][-1]
    container = api.create_container(derived, ["true"], labels=selftest_labels)["Id"]
    ref = f"conformance-selftest/flattened:{os.getpid()}"
    try:
        api.import_image_from_data(b"".join(api.export(container)), repository=ref.split(":")[0],
                                   tag=ref.split(":")[1],
                                   changes=[f"LABEL {SELFTEST_LABEL}={selftest_labels[SELFTEST_LABEL]}"])
    finally:
        api.remove_container(container, force=True)
    flat_id = api.inspect_image(ref)["Id"]
    yield ref
    api.remove_image(flat_id, force=True)
    api.remove_image(derived, force=True)


def test_layer_checks_fail_on_a_flattened_image(flattened_image, suite, real_client):
    control = Control(
        "LW-4-LW-5-LW-6-flattened-image", args=("--derived-image", flattened_image),
        select=(LAYERS, f"{DISK}::test_derived_image_shares_base_bytes",
                f"{DISK}::test_engine_shared_size_agrees_with_digests"),
        expect={"test_image_extends_its_base[LW-4]": "carries a copy of the base",
                "test_images_from_one_base_list_its_layers[LW-5]": "shares 0 of the base",
                "test_shared_layer_is_stored_once[LW-5]": "stores its own copy",
                "test_derived_image_shares_base_bytes[LW-6]": "a copy of the base"})
    check_control(suite, control, real_client)


@pytest.fixture(scope="module")
def real_registry():
    """A real registry of the self-tests' own, behind each weakened registry."""
    run_dir = RunDir.create(RUN_ROOT, RunIdentity.for_controller(f"selftest-registry-{time.strftime('%H%M%S')}-"
                                                                 f"{os.getpid()}"))
    try:
        yield registry_server.start(run_dir)
    finally:
        problems = run_dir.undo(UNDOERS)
        assert not problems, problems
        run_dir.remove()


# Each control with the weakness of the registry it runs against (weakened_registry.py).
REGISTRY_CONTROLS = [
    (Control("LW-7-registry-receives-every-blob-again", select=(f"{LW}/test_downloads.py",),
             expect={"test_push_sends_only_new_layers[LW-7]": "sent 1 base layer blob(s) again",
                     "test_pull_fetches_only_new_layers[LW-7]": "fetched 1 base layer blob(s) again"}),
     "forget"),
    (Control("STD-1-unknown-media-type", select=(STANDARD_IMAGE,),
             expect={"[STD-1-manifest]": "neither the OCI image spec nor Docker's schema 2"}),
     "unknown-media-type"),
    (Control("STD-1-malformed-manifest", select=(STANDARD_IMAGE,),
             expect={"[STD-1-manifest]": "'digest' is a required property",
                     "[STD-1-config]": "has no digest"}),
     "malformed-manifest"),
]


@pytest.mark.parametrize("control,weakness", REGISTRY_CONTROLS, ids=[str(c) for c, _ in REGISTRY_CONTROLS])
def test_registry_checks_fail_on_a_weakened_registry(control, weakness, real_registry, suite, real_client):
    with WeakenedRegistry(real_registry.address, weakness) as weakened:
        check_control(suite, replace(control, args=(*control.args, "--registry", weakened.address)), real_client,
                      env={registry_server.USER_ENV: real_registry.username,
                           registry_server.PASSWORD_ENV: real_registry.password})
