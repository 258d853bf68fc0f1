"""PKG-2 and PKG-3: containerised software runs the same whatever the environment, for
Linux and Windows applications.

Document: "将软件打包成标准化的单元进行开发，发货和部署": "无论环境如何，集装箱化的软件都可以
运行", and "适用于基于Linux和Windows的应用".

Across engines, PKG-2 is also checked by suites/standard/test_portability.py (the same
image on a second engine); here, on the engine under test, the output must not depend on
the environment the container is started from.
"""

from __future__ import annotations

import hashlib
import uuid

from fixtures.core import evidence
from fixtures.core.applicability import not_applicable, not_run
from fixtures.inspection import environment, mount_walk
from fixtures.inspection.architecture import kernel_name
from fixtures.inspection.run_to_exit import Finished, sh
from fixtures.ledger.marks import claim


def _cli_run(labelled_cli, resources, image: str, script: str, env: dict[str, str] | None = None,
             cwd=None) -> Finished:
    """``docker run -d --network none IMAGE sh -c SCRIPT`` with the real CLI, waited to its exit."""
    result = labelled_cli.create("run", "-d", "--network", "none", image, "sh", "-c", script,
                                 env=env, cwd=cwd).check()
    container = resources.client.containers.get(result.stdout.strip())
    code = container.wait(timeout=60)["StatusCode"]
    return Finished(code, container.logs().decode(errors="replace").strip(), container)


@claim("PKG-2", smoke=True)
def test_host_environment_does_not_leak_in(labelled_cli, resources, alpine_image, engine_host):
    """The host's environment variables MUST NOT reach a container.

    Runs ``env`` in a container started with the real docker CLI, with a unique variable
    set in the CLI's environment (exit status checked): every variable inside must come
    from the image or the engine, and none may equal one of the host's (the CLI's unique
    variable included).
    """
    marker = {f"CONFORMANCE_HOST_MARKER_{uuid.uuid4().hex[:8].upper()}": "from-the-host"}
    finished = _cli_run(labelled_cli, resources, alpine_image.ref, "env", env=marker)
    inside = environment.parse(finished.checked("env"))
    host = {**environment.parse(engine_host.check_output("env")), **marker}
    extra = environment.unexplained(inside, resources.client.api.inspect_image(alpine_image.ref)["Config"].get("Env"),
                                    {})
    from_host = environment.matching_host(extra, host)
    evidence.as_json("environment", {"set in the CLI's environment": marker, "container": inside,
                                     "unexplained": sorted(extra), "of those, the host's": from_host})
    assert not from_host, f"the host's environment variables leaked into the container: {from_host}"
    assert not extra, f"variables from neither the image nor the engine: {sorted(extra)}"


@claim("PKG-2")
def test_host_name_does_not_leak_in(labelled_cli, resources, alpine_image, engine_host):
    """The host's name MUST NOT appear inside a container.

    In a container started with the real docker CLI, ``hostname``, ``/etc/hostname``,
    ``/etc/hosts`` and the environment are read (exit status checked); the host's
    hostname must appear in none of them as a word.
    """
    host_name = engine_host.check_output("hostname")
    finished = _cli_run(labelled_cli, resources, alpine_image.ref, "hostname; cat /etc/hostname /etc/hosts; env")
    output = finished.checked("reading the hostname, /etc/hostname, /etc/hosts and env")
    evidence.as_json("hostname", {"host": host_name, "container says": output})
    words = output.replace("=", " ").replace("\t", " ").split()
    assert host_name not in words, f"the host's hostname {host_name!r} appears inside the container"


@claim("PKG-2")
def test_host_files_do_not_leak_in(labelled_cli, resources, alpine_image, engine_host):
    """The host's files MUST NOT be reachable from inside a container.

    Makes a marker file on the engine's host (``mktemp`` under /var/tmp), then, in a
    container started with the real docker CLI, looks for it under every mount of a
    whole filesystem the container has. It must be found under none; the probe must walk
    the container's root mount and run to its end.
    """
    made = engine_host.run("mktemp /var/tmp/conformance-host-marker.XXXXXXXX")
    assert made.rc == 0, f"cannot make a marker file on the engine's host: {made.stderr.strip()}"
    path = made.stdout.strip()
    try:
        finished = _cli_run(labelled_cli, resources, alpine_image.ref, mount_walk.script([path]))
    finally:
        engine_host.run(f"rm -f {path}")
    seen = mount_walk.seen(finished.checked("looking for the host's file"), what="looking for the host's file")
    evidence.as_json("host file", {"marker on the host": path, "seen inside at": seen})
    assert not seen, f"the host's file {path} is visible inside the container at {seen}"


# Output that depends only on the image: its files and config, not on when, where or from
# which client it runs (the engine-written /etc/hostname, /etc/hosts and /etc/resolv.conf
# and the variable HOSTNAME differ per container by design). The program also keeps state
# as real software does (a file in /tmp, /var/tmp and $HOME): every run must start from the
# image, so each run finds none left by an earlier one.
STATE_FILES = "/tmp/.conformance-state /var/tmp/.conformance-state /root/.conformance-state"
PROGRAM = ("cat /etc/alpine-release; uname -s -m; id; pwd; env | grep -v '^HOSTNAME=' | sort; "
           f"for f in {STATE_FILES}; do if [ -e $f ]; then echo \"$f: left by an earlier run: $(cat $f)\"; "
           "else echo \"$f: fresh\"; fi; done; "
           "find /bin /lib /etc /usr -xdev -type f ! -path /etc/hostname ! -path /etc/hosts "
           "! -path /etc/resolv.conf | sort | xargs sha256sum; "
           f"for f in {STATE_FILES}; do cat /proc/sys/kernel/random/uuid > $f || exit 3; done")


@claim("PKG-2")
def test_same_output_on_every_run(labelled_cli, resources, alpine_image, tmp_path):
    """The same image MUST give byte-identical output whatever the environment it is run from.

    Runs the same program twice with the docker CLI, the second time from another working
    directory and with extra variables in the CLI's environment. The program prints the
    image's release, kernel name and machine, user, working directory, environment, the
    SHA-256 of every file under /bin, /lib, /etc and /usr, and whether state files it
    writes at its end (in /tmp, /var/tmp and /root, each unique to the run) are already
    there: each run must start from the image alone. Both runs must exit 0 and their
    outputs must have the same SHA-256; the lines that differ are attached.
    """
    first = _cli_run(labelled_cli, resources, alpine_image.ref, PROGRAM)
    second = _cli_run(labelled_cli, resources, alpine_image.ref, PROGRAM, cwd=str(tmp_path),
                      env={"CONFORMANCE_OTHER_ENVIRONMENT": "1", "LANG": "C.UTF-8", "TZ": "Pacific/Auckland"})
    outputs = [first.checked("the program's first run"), second.checked("the program's second run")]
    digests = [hashlib.sha256(output.encode()).hexdigest() for output in outputs]
    lines = [set(output.splitlines()) for output in outputs]
    differ = {"only in the first": sorted(lines[0] - lines[1])[:20], "only in the second": sorted(lines[1] - lines[0])[:20]}
    evidence.as_json("two runs", {"digests": digests, "first output (head)": outputs[0][:2000],
                                  "lines": [len(output.splitlines()) for output in outputs], **differ})
    evidence.figure("output digest", digests[0][:16])
    assert digests[0] == digests[1], (f"the same image gave different output: {digests[0][:16]} then "
                                      f"{digests[1][:16]}; the second run printed {differ['only in the second'][:2]}")


def _platform(engine) -> dict:
    info = engine.info()
    platform = {key: info.get(key) for key in ("OSType", "Architecture", "OperatingSystem", "KernelVersion")}
    evidence.as_json("engine platform", platform)
    evidence.figure("platform", f"{platform['OSType']}/{platform['Architecture']}")
    return platform


@claim("PKG-3", smoke=True)
def test_linux_application_runs(engine, resources, alpine_image):
    """A Linux application MUST run on a Linux engine, on the engine's architecture.

    Records the engine's OSType, Architecture, OperatingSystem and KernelVersion. On a
    Linux engine, a container's ``uname -s -m`` (exit status checked) must say ``Linux``
    and the engine's architecture, compared by meaning (the engine may report Go's name,
    ``amd64``, for the kernel's ``x86_64``). Not applicable on an engine of another OS type.
    """
    platform = _platform(engine)
    if platform["OSType"] != "linux":
        not_applicable(f"the engine's OSType is {platform['OSType']!r}; Linux containers need a Linux engine")
    finished = sh(resources, alpine_image.ref, "uname -s -m")
    output = finished.checked("uname -s -m")
    expected = f"Linux {kernel_name(platform['Architecture'])}"
    evidence.as_json("uname", {**finished.as_dict(), "expected": expected})
    assert output == expected, \
        f"a container reports {output!r} on a {platform['OSType']}/{platform['Architecture']} engine, not {expected!r}"


@claim("PKG-3")
def test_windows_application_runs(engine):
    """A Windows application runs on a Windows engine; on a Linux engine this is not applicable.

    Records the engine's platform. On an engine whose OSType is not ``windows`` the case is
    reported as not applicable with the OSType as the reason; on a Windows engine it is
    reported as not run, since the suite provisions no Windows image.
    """
    platform = _platform(engine)
    if platform["OSType"] != "windows":
        not_applicable(f"the engine's OSType is {platform['OSType']!r} ({platform['OperatingSystem']}, "
                       f"{platform['Architecture']}); windows containers need a windows engine")
    not_run("the suite provisions no Windows image to run on this Windows engine")
