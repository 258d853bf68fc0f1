"""Negative controls of PKG-1, PKG-2, ISO-1, ISO-2 and SEC-1: engines that share a namespace,
the host's filesystem or environment, or ignore an image, on which exactly the named checks
fail, each with a message naming what leaked.

Not covered by any control, because the Engine API offers no way to force the leak: SEC-1's
``mnt`` namespace case, ISO-1's ``resolv-conf``, ISO-2's ``same-path`` and ``versions``,
PKG-1's ``alpine`` libraries, PKG-2's ``same_output_on_every_run`` (its cross-engine twin in
suites/standard has its own), and PKG-3 (reporting only).
"""

from __future__ import annotations

import io
import uuid

import pytest

from selftests.controls.negative import Control, check_control

PKG1 = "suites/packaging/test_standalone_package.py"
PKG2 = "suites/packaging/test_same_everywhere.py::test_host_does_not_leak_in"
ISO1 = "suites/isolation/test_isolation_from_surroundings.py::test_surroundings_are_its_own"
ISO2 = "suites/isolation/test_teams_side_by_side.py::test_two_teams_coexist"
SEC1 = "suites/secure/test_isolation_from_one_another.py"
# Set in the suite's own (the host's) environment and forced into containers by the fault.
HOST_MARKER = f"CONFORMANCE_CONTROL_HOST_MARKER_{uuid.uuid4().hex[:8].upper()}"
CRIPPLED_NGINX = f"conformance-selftest/nginx-without-pcre:{uuid.uuid4().hex[:8]}"

CONTROLS = [
    Control("pid-host", faults=("pid-host",),
            select=(f"{SEC1}::test_namespace_is_private[SEC-1-pid]", f"{SEC1}::test_neighbour_is_invisible",
                    f"{ISO1}[ISO-1-processes]", f"{ISO2}[ISO-2-no-disturbance]"),
            expect={"[SEC-1-pid]": "shares the host's pid namespace",
                    "[SEC-1-processes]": "sees its neighbour's process",
                    "[SEC-1-files]": "sees its neighbour's file",
                    "[ISO-1-processes]": "not its own command",
                    "[ISO-2-no-disturbance]": "killed team B's process"}),
    Control("net-host", faults=("net-host",),
            select=(f"{SEC1}::test_namespace_is_private[SEC-1-net]", f"{SEC1}::test_neighbour_is_invisible[SEC-1-loopback]",
                    f"{SEC1}::test_user_networks_are_separate", f"{ISO1}[ISO-1-hostname]", f"{ISO1}[ISO-1-hosts]",
                    f"{ISO2}[ISO-2-same-port]"),
            expect={"[SEC-1-net]": "shares the host's net namespace",
                    "[SEC-1-loopback]": "reached its neighbour's loopback service",
                    "test_user_networks_are_separate": "has no address on network",
                    "[ISO-1-hostname]": "is the host's",
                    "[ISO-1-hosts]": "a copy of the host's",
                    "[ISO-2-same-port]": "cannot listen on port 80"}),
    # Two namespaces in one run (each check names the one it found shared), and the image
    # without one of its libraries, which none of these faults touches.
    Control("uts-host+ipc-host+image-lacks-its-libraries", faults=("uts-host", "ipc-host"),
            args=("--nginx-image", CRIPPLED_NGINX),
            select=(f"{SEC1}::test_namespace_is_private[SEC-1-uts]", f"{SEC1}::test_namespace_is_private[SEC-1-ipc]",
                    f"{ISO1}[ISO-1-hostname]", f"{PKG2}[PKG-2-hostname]",
                    f"{PKG1}::test_libraries_resolve_inside[PKG-1-nginx]"),
            expect={"[SEC-1-uts]": "shares the host's uts namespace", "[SEC-1-ipc]": "shares the host's ipc namespace",
                    "[ISO-1-hostname]": "is the host's", "[PKG-2-hostname]": "appears inside the container",
                    "[PKG-1-nginx]": "libpcre2-8.so.0"}),
    # The host's root bound in, and published ports dropped: neither touches the other's checks.
    Control("bind-root+drop-ports", faults=("bind-root", "drop-ports"),
            select=(f"{ISO1}[ISO-1-rootfs]", f"{SEC1}::test_neighbour_is_invisible[SEC-1-files]",
                    f"{PKG2}[PKG-2-file]", f"{PKG1}::test_runs_on_its_own",
                    f"{PKG1}::test_image_config_is_honoured[PKG-1-exposed-ports]"),
            expect={"[ISO-1-rootfs]": "the host's filesystem is visible", "[SEC-1-files]": "sees its neighbour's file",
                    "[PKG-2-file]": "is visible inside the container", "test_runs_on_its_own": "has mounts",
                    "[PKG-1-exposed-ports]": "has no host port for 8080/tcp"}),
    # An engine that does not run images as built: it ignores their config, overrides their
    # ENV, and passes one of the host's variables in.
    Control("ignore-image-config+set-env",
            faults=("ignore-image-config", f"set-env={HOST_MARKER}=from-the-host,PKG_GREETING=tampered"),
            select=(f"{ISO1}[ISO-1-environment]", f"{PKG2}[PKG-2-env]",
                    *(f"{PKG1}::test_image_config_is_honoured[PKG-1-{field}]"
                      for field in ("env", "entrypoint", "cmd", "workdir", "user"))),
            expect={"[ISO-1-environment]": f"leaked into the container: ['{HOST_MARKER}']",
                    "[PKG-2-env]": f"leaked into the container: ['{HOST_MARKER}']",
                    **{f"[PKG-1-{field}]": f"the image's {field} is not honoured"
                       for field in ("env", "entrypoint", "cmd", "workdir", "user")}}),
    Control("shared-tmp", faults=("shared-tmp={tmp}/shared",),
            select=(f"{ISO2}[ISO-2-no-disturbance]",
                    "suites/secure/test_problem_containment.py::test_writes_stay_in_their_container"),
            expect={"[ISO-2-no-disturbance]": "sees team A's file", "[SEC-3-image]": "sees the writer's changes",
                    "[SEC-3-neighbour]": "sees the writer's changes"}),
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
