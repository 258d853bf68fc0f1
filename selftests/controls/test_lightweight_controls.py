"""Negative controls of LW-1 to LW-7, ALP-1, STD-1 and STD-2: each check failing on a weakened
engine, a weakened daemon, a weakened registry, or an image that breaks the claim."""

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
from selftests.controls.weakened_daemon import preload_images, runtime, weakened_daemon
from selftests.controls.weakened_registry import WeakenedRegistry
from selftests.faulty_engine import FaultyEngine

LW = "suites/lightweight"
STD = "suites/standard"
ALPINE = "suites/alpine/test_alpine_base.py"
KERNEL = f"{LW}/test_shared_kernel.py"
LATENCY = f"{LW}/test_start_latency.py::test_start_latency"
COST = f"{LW}/test_idle_cost.py"
LAYERS = f"{LW}/test_layers.py"
DISK = f"{LW}/test_disk_use.py"
STANDARD = f"{STD}/test_open_standards.py"

ENGINE_CONTROLS = [
    Control("LW-3-memory-and-cpu-hog", weakens="every container also holds 48 MB and spins a CPU loop",
             faults=("hog=48",), args=("--threshold", "idle_containers=4"),
            select=(f"{COST}::test_idle_container_memory_is_small", f"{COST}::test_idle_container_cpu_is_small"),
            expect={"test_idle_container_memory_is_small[LW-3]": "cost more than 32",
                    "test_idle_container_cpu_is_small[LW-3]": "% of a CPU"}),
    Control("LW-3-density-slow-starts", weakens="every container start answered 8 s late",
             faults=("delay-start=8",),
            select=(f"{COST}::test_many_containers_start_and_go_quickly",),
            expect={"test_many_containers_start_and_go_quickly[LW-3]": "to all run, over 20"}),
    Control("STD-2-no-glibc-distribution", weakens="the Debian (glibc) image given is Alpine",
             args=("--nginx-image", "alpine:3.23"),
            select=(f"{STD}/test_any_distribution.py::test_distribution_runs_on_the_host_kernel",),
            expect={"[STD-2-debian-glibc]": "not debian"}),
    Control("ALP-1-glibc-bloated-base", weakens="the Alpine base given is nginx's Debian image",
             args=("--alpine-image", "nginx:latest"),
            select=(f"{ALPINE}::test_alpine_image_is_under_the_size_limit",
                    f"{ALPINE}::test_alpine_release_names_alpine_3", f"{ALPINE}::test_alpine_libc_is_musl",
                    f"{ALPINE}::test_alpine_shell_is_busybox", f"{ALPINE}::test_apk_lists_the_base_packages",
                    f"{ALPINE}::test_apk_verifies_the_installed_files", f"{ALPINE}::test_alpine_config_cmd_is_sh"),
            expect={"test_alpine_image_is_under_the_size_limit": "MB uncompressed",
                    "test_alpine_release_names_alpine_3": "alpine-release",
                    "test_alpine_libc_is_musl": "glibc is present", "test_alpine_shell_is_busybox": "not busybox",
                    "test_apk_lists_the_base_packages": "apk info",
                    "test_apk_verifies_the_installed_files": "apk verify",
                    "test_alpine_config_cmd_is_sh": "not ['/bin/sh']"}),
]


@pytest.mark.parametrize("control", ENGINE_CONTROLS, ids=str)
def test_check_fails_on_its_negative_control(control, suite, faulty_engine, real_client):
    engine = faulty_engine(*control.faults).url if control.faults else None
    check_control(suite, control, real_client, engine=engine)


# Each control with the daemon.json of the real dockerd it runs against (weakened_daemon.py),
# and a short name for that daemon.
DAEMON_CONTROLS = [
    # The container still runs on the host's kernel, but looks as a guest's would: another
    # kernel release and version inside, and the pid the engine reports is not the
    # container's command. Each of LW-1's three probes must catch its part.
    (Control("LW-1-runtime-looks-like-a-guest-kernel",
             weakens="a runtime that shows containers another kernel release and version, and reports another pid",
             select=(KERNEL,),
             expect={"test_kernel_release_equals_host[LW-1]": "is not the host's",
                     "test_proc_version_equals_host[LW-1]": "differs from the host's",
                     "test_container_process_is_a_host_process[LW-1]": "not the container's command"}),
     runtime("guest-kernel-view"), "lw1"),
    # A runtime 0.5 s slower to create each container (about what a VM-based runtime adds):
    # every start mode must fail on its p50, the Alpine base's start too. Ten samples are
    # enough to see a shift of half a second.
    (Control("LW-2-ALP-1-runtime-half-a-second-slower", weakens="a runtime 0.5 s slower to create every container",
             select=(LATENCY, f"{ALPINE}::test_alpine_start_latency"),
             args=("--threshold", "start_samples=10"),
             expect={"[LW-2-none]": "start p50", "[LW-2-bridge]": "start p50", "[LW-2-port]": "start p50",
                     "test_alpine_start_latency[ALP-1]": "start p50"}),
     runtime("slow-start"), "lw2"),
]


@pytest.mark.parametrize("control,daemon_config,name", DAEMON_CONTROLS,
                         ids=[str(control) for control, _, _ in DAEMON_CONTROLS])
def test_check_fails_on_a_weakened_daemon(control, daemon_config, name, suite, real_client):
    with weakened_daemon(name, daemon_config) as daemon:
        check_control(suite, control, real_client, engine=daemon.url)


VFS = Control("LW-6-vfs-copies-every-layer", select=(DISK, LAYERS),
              weakens="a dockerd storing each layer as a full copy of those below (vfs)",
              expect={"test_build_grows_storage_by_new_layers_only[LW-6]": "on the disk",
                      "test_load_grows_storage_by_new_layers_only[LW-6]": "on the disk"})
SQUASHED = Control("LW-4-squashed-builds", select=(LAYERS,), faults=("squash-builds",),
                   weakens="an experimental dockerd squashing every build into one layer",
                   expect={"test_one_layer_per_filesystem_step[LW-4]": "3 filesystem-changing steps made 1"})
CLAIMS_A_VM_RUNTIME = Control("LW-1-claims-a-vm-runtime", select=(KERNEL,), faults=("vm-runtime",), positive=True,
                              weakens="nothing: runc, reported as kata-runtime", expect={},
                              outcomes={"[LW-1]": "passed"})
# The flattened image is made for the test, which names it with ``--derived-image``.
FLATTENED = Control(
    "LW-4-LW-5-LW-6-flattened-image", weakens="the derived image given is flattened: one layer, a copy of its base",
    select=(LAYERS, f"{DISK}::test_derived_image_shares_base_bytes",
            f"{DISK}::test_engine_shared_size_agrees_with_digests"),
    expect={"test_image_extends_its_base[LW-4]": "carries a copy of the base",
            "test_images_from_one_base_list_its_layers[LW-5]": "shares 0 of the base",
            "test_shared_layer_is_stored_once[LW-5]": "stores its own copy",
            "test_derived_image_shares_base_bytes[LW-6]": "a copy of the base"})


def test_disk_checks_fail_where_every_layer_is_a_copy(suite, real_client, selftest_labels):
    """vfs stores each layer as a full copy of the layers below it, and reports its size as
    its changes only: LW-6's disk reading must catch the copies, and LW-5's stored-once case,
    which reads overlay2's directories, is not run there (the claim partial, never a pass).
    The images the run needs are loaded first, not built offline on vfs (minutes of copies)."""
    with weakened_daemon("vfs", {"storage-driver": "vfs"}) as daemon:
        preload_images(daemon.url, selftest_labels)
        run = check_control(suite, VFS, real_client, engine=daemon.url)
    stored_once = [t for n, t in run.tests().items() if "test_shared_layer_is_stored_once" in n]
    assert [t["outcome"] for t in stored_once] == ["not run"], run.describe()
    assert run.verdicts()["LW-5"] == "partial", run.describe()


def test_layer_check_fails_on_squashed_builds(suite, real_client, selftest_labels, tmp_path):
    """An engine that squashes every build (experimental ``--squash``, forced on each build by
    the faulty engine in front of it) makes one layer of three filesystem steps. The images
    the run needs are put on the daemon first, so that only the suite's own builds squash."""
    with weakened_daemon("squash", {"experimental": True}) as daemon:
        preload_images(daemon.url, selftest_labels)
        with FaultyEngine(list(SQUASHED.faults), upstream=daemon.url, log_path=str(tmp_path / "fe.log")) as squashing:
            check_control(suite, SQUASHED, real_client, engine=squashing.url)


def test_shared_kernel_is_decided_by_the_kernel_not_a_runtime_name(suite, faulty_engine, real_client):
    """An engine that only claims a VM runtime (``kata-runtime``) but runs runc still shares the
    host's kernel: LW-1 reads the kernel, so it passes (a name alone never fails it)."""
    engine = faulty_engine(*CLAIMS_A_VM_RUNTIME.faults)
    run = check_control(suite, CLAIMS_A_VM_RUNTIME, real_client, engine=engine.url)
    assert len(run.tests()) == 3, run.describe()


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
    check_control(suite, replace(FLATTENED, args=("--derived-image", flattened_image)), real_client)


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
    (Control("LW-7-registry-receives-every-blob-again",
             weakens="a registry that denies having any blob and recompresses every layer it serves",
             select=(f"{LW}/test_downloads.py",),
             expect={"test_push_sends_only_new_layers[LW-7]": "sent 1 base layer blob(s) again",
                     "test_pull_fetches_only_new_layers[LW-7]": "fetched 1 base layer blob(s) again"}),
     "forget"),
    (Control("STD-1-unknown-media-type", weakens="a registry serving manifests under an unknown media type",
             select=(f"{STANDARD}::test_registry_serves_a_standard_manifest",
                                                 f"{STANDARD}::test_registry_serves_a_standard_config"),
             expect={"test_registry_serves_a_standard_manifest[STD-1]":
                     "neither the OCI image spec nor Docker's schema 2"}),
     "unknown-media-type"),
    (Control("STD-1-malformed-manifest", weakens="a registry serving manifests whose config descriptor has no digest",
             select=(f"{STANDARD}::test_registry_serves_a_standard_manifest",
                                                 f"{STANDARD}::test_registry_serves_a_standard_config"),
             expect={"test_registry_serves_a_standard_manifest[STD-1]": "'digest' is a required property",
                     "test_registry_serves_a_standard_config[STD-1]": "has no digest"}),
     "malformed-manifest"),
]


@pytest.mark.parametrize("control,weakness", REGISTRY_CONTROLS, ids=[str(c) for c, _ in REGISTRY_CONTROLS])
def test_registry_checks_fail_on_a_weakened_registry(control, weakness, real_registry, suite, real_client):
    with WeakenedRegistry(real_registry.address, weakness) as weakened:
        check_control(suite, replace(control, args=(*control.args, "--registry", weakened.address)), real_client,
                      env={registry_server.USER_ENV: real_registry.username,
                           registry_server.PASSWORD_ENV: real_registry.password})
