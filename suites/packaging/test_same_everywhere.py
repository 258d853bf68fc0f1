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
from fixtures.inspection import environment
from fixtures.inspection.run_to_exit import sh
from fixtures.ledger.marks import claim

VISIBLE_UNDER_ANY_MOUNT = ("for m in $(awk '$4 == \"/\" {{print $5}}' /proc/self/mountinfo | sort -u); do "
                           "[ -e \"${{m%/}}{path}\" ] && echo \"SEEN ${{m%/}}{path}\"; done; true")


def _cli_run(docker_cli, resources, image: str, script: str, env: dict[str, str] | None = None, cwd=None):
    result = docker_cli("run", "-d", *resources.label_flags(), "--network", "none", image, "sh", "-c", script,
                        env=env, cwd=cwd)
    assert result.ok, f"docker run failed: {result.stderr.strip()}"
    container_id = result.stdout.strip()
    resources.adopt_container(container_id)
    container = resources.client.containers.get(container_id)
    code = container.wait(timeout=60)["StatusCode"]
    return code, container.logs().decode(errors="replace").strip()


def leak_env(docker_cli, resources, image, engine_host):
    marker = {f"CONFORMANCE_HOST_MARKER_{uuid.uuid4().hex[:8].upper()}": "from-the-host"}
    code, output = _cli_run(docker_cli, resources, image, "env", env=marker)
    inside = environment.parse(output)
    host = {**environment.parse(engine_host.check_output("env")), **marker}
    extra = environment.unexplained(inside, resources.client.api.inspect_image(image)["Config"].get("Env"), {})
    from_host = environment.matching_host(extra, host)
    evidence.as_json("environment", {"set in the CLI's environment": marker, "container": inside,
                                     "unexplained": sorted(extra), "of those, the host's": from_host})
    assert code == 0, f"env failed: {output}"
    assert not from_host, f"the host's environment variables leaked into the container: {from_host}"
    assert not extra, f"variables from neither the image nor the engine: {sorted(extra)}"


def leak_hostname(docker_cli, resources, image, engine_host):
    host_name = engine_host.check_output("hostname")
    code, output = _cli_run(docker_cli, resources, image, "hostname; cat /etc/hostname /etc/hosts; env")
    evidence.as_json("hostname", {"host": host_name, "container says": output})
    assert code == 0, f"reading the hostname failed: {output}"
    words = output.replace("=", " ").replace("\t", " ").split()
    assert host_name not in words, f"the host's hostname {host_name!r} appears inside the container"


def leak_file(docker_cli, resources, image, engine_host):
    made = engine_host.run("mktemp /var/tmp/conformance-host-marker.XXXXXXXX")
    assert made.rc == 0, f"cannot make a marker file on the engine's host: {made.stderr.strip()}"
    path = made.stdout.strip()
    try:
        code, output = _cli_run(docker_cli, resources, image, VISIBLE_UNDER_ANY_MOUNT.format(path=path))
    finally:
        engine_host.run(f"rm -f {path}")
    seen = [line[5:] for line in output.splitlines() if line.startswith("SEEN ")]
    evidence.as_json("host file", {"marker on the host": path, "seen inside at": seen})
    assert code == 0, f"the probe failed: {output}"
    assert not seen, f"the host's file {path} is visible inside the container at {seen}"


LEAKS = {"env": leak_env, "hostname": leak_hostname, "file": leak_file}


@claim("PKG-2", cases=list(LEAKS), smoke="env")
def test_host_does_not_leak_in(case, docker_cli, resources, alpine_image, engine_host):
    """Nothing of the host MUST reach a container: its environment, hostname or files.

    Containers are started with the real docker CLI. ``env``: with a unique variable set in
    the CLI's environment, every variable inside must come from the image or the engine,
    and none may equal one of the host's. ``hostname``: the host's name appears nowhere in
    the container's hostname, /etc/hostname, /etc/hosts or environment. ``file``: a marker
    file made on the engine's host is reachable under none of the container's mounts.
    """
    LEAKS[case](docker_cli, resources, alpine_image.ref, engine_host)


# Output that depends only on the image: its files and config, not on when, where or from
# which client it runs (the engine-written /etc/hostname, /etc/hosts and /etc/resolv.conf
# and the variable HOSTNAME differ per container by design).
PROGRAM = ("cat /etc/alpine-release; uname -s -m; id; pwd; env | grep -v '^HOSTNAME=' | sort; "
           "find /bin /lib /etc /usr -xdev -type f ! -path /etc/hostname ! -path /etc/hosts "
           "! -path /etc/resolv.conf | sort | xargs sha256sum")


@claim("PKG-2")
def test_same_output_on_every_run(docker_cli, resources, alpine_image, tmp_path):
    """The same image MUST give byte-identical output whatever the environment it is run from.

    Runs the same program twice with the docker CLI, the second time from another working
    directory and with extra variables in the CLI's environment; the output (the image's
    release, kernel name and machine, user, working directory, environment and the SHA-256
    of every file under /bin, /lib, /etc and /usr) must have the same SHA-256 both times.
    """
    first = _cli_run(docker_cli, resources, alpine_image.ref, PROGRAM)
    second = _cli_run(docker_cli, resources, alpine_image.ref, PROGRAM, cwd=str(tmp_path),
                      env={"CONFORMANCE_OTHER_ENVIRONMENT": "1", "LANG": "C.UTF-8", "TZ": "Pacific/Auckland"})
    digests = [hashlib.sha256(output.encode()).hexdigest() for _, output in (first, second)]
    evidence.as_json("two runs", {"digests": digests, "first output (head)": first[1][:2000],
                                  "lines": [len(first[1].splitlines()), len(second[1].splitlines())]})
    evidence.figure("output digest", digests[0][:16])
    assert first[0] == second[0] == 0, f"the program failed: exit {first[0]} / {second[0]}"
    assert digests[0] == digests[1], (f"the same image gave different output: {digests[0][:16]} then "
                                      f"{digests[1][:16]}")


@claim("PKG-3", cases=["linux", "windows"], smoke="linux")
def test_application_platform(case, engine, resources, alpine_image):
    """The engine's platform is recorded; Linux applications run on a Linux engine, and
    Windows applications are not applicable there.

    Records the engine's OSType, Architecture, OperatingSystem and KernelVersion. ``linux``:
    on a Linux engine, a container's ``uname -s -m`` must say Linux and the engine's
    architecture. ``windows``: on a Linux engine this is reported as not applicable, with
    the engine's OSType as the reason.
    """
    info = engine.info()
    platform = {key: info.get(key) for key in ("OSType", "Architecture", "OperatingSystem", "KernelVersion")}
    evidence.as_json("engine platform", platform)
    evidence.figure("platform", f"{platform['OSType']}/{platform['Architecture']}")
    if case != platform["OSType"]:
        not_applicable(f"the engine's OSType is {platform['OSType']!r} "
                    f"({platform['OperatingSystem']}, {platform['Architecture']}); {case} containers need a "
                    f"{case} engine")
    if case == "windows":
        not_run("the suite provisions no Windows image to run on this Windows engine")
    finished = sh(resources, alpine_image.ref, "uname -s -m")
    evidence.as_json("uname", finished.as_dict())
    assert finished.output == f"Linux {platform['Architecture']}", \
        f"a container reports {finished.output!r} on a {platform['OSType']}/{platform['Architecture']} engine"
