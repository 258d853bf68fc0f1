"""ISO-1: containers isolate software from its surroundings.

Document: "将软件打包成标准化的单元进行开发，发货和部署": containers isolate software from
its surroundings, for example differences between development and staging environments.
"""

from __future__ import annotations

from fixtures.core import evidence
from fixtures.core.applicability import not_run
from fixtures.inspection import environment, mount_walk
from fixtures.inspection.host_files import not_root
from fixtures.inspection.namespaces import namespace_of
from fixtures.inspection.probe import completed, exec_output
from fixtures.inspection.run_to_exit import sh
from fixtures.ledger.marks import claim

LIST_PROCESSES = "for p in /proc/[0-9]*; do echo \"${p#/proc/} $(tr '\\0' ' ' < $p/cmdline)\"; done"


def _sleeper(resources, alpine_image):
    return resources.container(alpine_image.ref, ["sleep", "300"])


def _engine_files_on_host(engine, engine_host, container) -> list[str]:
    """The engine's own files for ``container`` on its host: Docker's hostconfig.json, and the
    hosts, hostname and resolv.conf files every engine keeps per container (wherever it keeps
    them: Podman's live under its run root, not its DockerRootDir)."""
    attrs = container.attrs
    candidates = [f"{engine.info()['DockerRootDir']}/containers/{container.id}/hostconfig.json",
                  *(attrs.get(key) for key in ("HostsPath", "HostnamePath", "ResolvConfPath"))]
    return [path for path in dict.fromkeys(candidates) if path and engine_host.file(path).exists]


@claim("ISO-1", smoke=True)
def test_root_filesystem_is_the_images(resources, engine, engine_host, alpine_image):
    """A container MUST see its image's root filesystem, not the host's.

    Starts a container, then looks inside a second one for the engine's own files for the
    first on the host (its ``hostconfig.json`` under DockerRootDir, its hosts, hostname
    and resolv.conf files), under every mount of a whole filesystem the container has: no
    path may reach any of them. The container's ``/etc/os-release`` must differ from the
    host's. The probe must run to its end (it lists the mounts it walked), or the check
    fails; where none of the engine's files can be found on the host, it is not run.
    """
    container = _sleeper(resources, alpine_image)
    own_files = _engine_files_on_host(engine, engine_host, container)
    if not own_files:
        why = not_root(engine_host)
        not_run(f"none of the engine's files for container {container.id[:12]} can be found on its host"
                + (f": {why}" if why else ""))
    host_release = engine_host.file("/etc/os-release").content_string.strip()
    finished = sh(resources, alpine_image.ref, "cat /etc/os-release; echo '--- seen'; " + mount_walk.script(own_files))
    output = finished.checked("reading /etc/os-release and walking the mounts")
    release, _, walk = output.partition("--- seen")
    leaked = mount_walk.seen(walk, what="looking for the host's files under every mount")
    evidence.as_json("root filesystem", {"host files looked for": own_files, "seen in the container at": leaked,
                                         "container os-release": release.strip(), "host os-release": host_release})
    assert not leaked, f"the host's filesystem is visible in the container: {leaked}"
    assert release.strip() != host_release, "the container's /etc/os-release is the host's"


@claim("ISO-1")
def test_processes_are_its_own(resources, alpine_image):
    """A container MUST see only its own processes: its pid 1 is its own command.

    Lists every process the container can see (``/proc/<pid>/cmdline``) from a container
    whose command is that listing; pid 1 must be that command. The listing must exit 0.
    """
    finished = sh(resources, alpine_image.ref, LIST_PROCESSES)
    seen = [line for line in finished.checked("listing the processes").splitlines() if line.strip()]
    init = next((line for line in seen if line.split()[0] == "1"), "(none)")
    evidence.as_json("processes the container sees", seen)
    evidence.figure("processes seen", len(seen))
    assert init.startswith("1 sh -c for p in /proc"), \
        f"the container's pid 1 is {init[:60]!r}, not its own command: it sees the host's {len(seen)} processes"


@claim("ISO-1")
def test_hostname_is_its_own(resources, engine_host, alpine_image):
    """A container MUST have the hostname the engine gave it, in a uts namespace of its own.

    ``hostname`` inside (an exec whose exit status is checked) must equal the container's
    ``Config.Hostname`` and differ from the host's, and the container's uts namespace
    (``/proc/<State.Pid>/ns/uts`` on the host) must differ from the host's.
    """
    container = _sleeper(resources, alpine_image)
    inside = exec_output(container, ["hostname"], what="reading the hostname inside")
    on_host = engine_host.check_output("hostname")
    uts = {"host": namespace_of(engine_host, "self", "uts"),
           "container": namespace_of(engine_host, container.attrs["State"]["Pid"], "uts")}
    evidence.as_json("hostname", {"container": inside, "Config.Hostname": container.attrs["Config"]["Hostname"],
                                  "host": on_host, "uts namespaces": uts})
    evidence.figure("hostname", inside, trend=False)
    assert inside != on_host, f"the container's hostname is the host's ({on_host!r})"
    assert inside == container.attrs["Config"]["Hostname"], \
        f"the container's hostname {inside!r} is not the one the engine gave it ({container.attrs['Config']['Hostname']!r})"
    assert uts["container"] != uts["host"], f"the container shares the host's uts namespace ({uts['host']})"


def _own_file(resources, alpine_image, engine_host, path: str, engine_key: str) -> dict:
    """The container's ``path`` next to the engine's copy (``engine_key``) and the host's own."""
    container = _sleeper(resources, alpine_image)
    engine_copy = container.attrs[engine_key]
    inside = exec_output(container, f"stat -c %i {path}; cat {path}; echo '--- end'", what=f"reading {path}")
    inode, _, content = completed(inside, "--- end", what=f"reading {path}").partition("\n")
    return {"container inode": inode.strip(),
            f"{engine_key} inode": engine_host.check_output(f"stat -c %i {engine_copy}"),
            f"host {path} inode": engine_host.check_output(f"stat -c %i {path}"),
            "container content": content.strip(), "host content": engine_host.file(path).content_string.strip(),
            engine_key: engine_copy, "hostname": container.attrs["Config"]["Hostname"]}


@claim("ISO-1")
def test_etc_hosts_is_its_own(resources, engine_host, alpine_image):
    """A container's ``/etc/hosts`` MUST be its own file, naming the container, not the host's.

    Reads the inode and content of ``/etc/hosts`` inside: the inode must be that of the
    engine's ``HostsPath`` for the container (on the host) and not the host's
    ``/etc/hosts``; the content must differ from the host's and name the container's
    hostname.
    """
    seen = _own_file(resources, alpine_image, engine_host, "/etc/hosts", "HostsPath")
    evidence.as_json("/etc/hosts", seen)
    assert seen["container inode"] == seen["HostsPath inode"] != seen["host /etc/hosts inode"], \
        f"the container's /etc/hosts is not its own file {seen['HostsPath']}: {seen}"
    assert seen["container content"] != seen["host content"], "the container's /etc/hosts is a copy of the host's"
    assert seen["hostname"] in seen["container content"], \
        f"the container's /etc/hosts does not name the container ({seen['hostname']})"


@claim("ISO-1")
def test_resolv_conf_is_its_own(resources, engine_host, alpine_image):
    """A container's ``/etc/resolv.conf`` MUST be its own file, not the host's.

    The engine copies the host's upstream name servers on purpose; the file must be the
    container's own copy (same inode as the engine's ``ResolvConfPath``, not the host's
    ``/etc/resolv.conf``), so a change on either side stays on that side.
    """
    seen = _own_file(resources, alpine_image, engine_host, "/etc/resolv.conf", "ResolvConfPath")
    evidence.as_json("/etc/resolv.conf", seen)
    assert seen["container inode"] == seen["ResolvConfPath inode"] != seen["host /etc/resolv.conf inode"], \
        f"the container's /etc/resolv.conf is not its own file {seen['ResolvConfPath']}: {seen}"


@claim("ISO-1")
def test_environment_has_nothing_of_the_host(resources, engine, engine_host, alpine_image):
    """A container's environment MUST come from its image, its run and the engine; none from the host.

    Runs ``env`` (exit status checked) in a container given one variable; every variable
    inside must be the image's, the requested one, or one the engine or shell provides,
    and none may equal a variable of the host's ``env``.
    """
    image_env = engine.api.inspect_image(alpine_image.ref)["Config"].get("Env")
    requested = {"ISO_REQUESTED": "yes"}
    finished = sh(resources, alpine_image.ref, "env", environment=requested)
    inside = environment.parse(finished.checked("env"))
    host = environment.parse(engine_host.check_output("env"))
    extra = environment.unexplained(inside, image_env, requested)
    from_host = environment.matching_host(extra, host)
    evidence.as_json("environment", {"container": inside, "image Env": image_env, "requested": requested,
                                     "unexplained": sorted(extra), "of those, the host's": from_host})
    assert inside.get("ISO_REQUESTED") == "yes", f"the requested variable is missing: {inside}"
    assert not from_host, f"the host's environment variables leaked into the container: {from_host}"
    assert not extra, f"variables from neither the image, the run nor the engine: {sorted(extra)}"
