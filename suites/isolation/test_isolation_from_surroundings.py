"""ISO-1: containers isolate software from its surroundings.

Document: "将软件打包成标准化的单元进行开发，发货和部署": containers isolate software from
its surroundings, for example differences between development and staging environments.
"""

from __future__ import annotations

from fixtures.core import evidence
from fixtures.core.applicability import not_run
from fixtures.inspection import environment
from fixtures.inspection.host_files import not_root
from fixtures.inspection.namespaces import namespace_of
from fixtures.inspection.run_to_exit import sh
from fixtures.ledger.marks import claim

# Under every mount that is a whole filesystem: a host file leaks in if a mount of the
# host's own filesystem gives a path to it.
VISIBLE_UNDER_ANY_MOUNT = ("for m in $(awk '$4 == \"/\" {{print $5}}' /proc/self/mountinfo | sort -u); do "
                           "[ -e \"${{m%/}}{path}\" ] && echo \"SEEN ${{m%/}}{path}\"; done; true")


def check_rootfs(ctx):
    container = ctx.sleeper()
    own_file = f"{ctx.engine.info()['DockerRootDir']}/containers/{container.id}/hostconfig.json"
    host_has_it = ctx.host.file(own_file).exists
    if not host_has_it and (why := not_root(ctx.host)):
        not_run(f"the engine's file {own_file} cannot be looked for: {why}")
    host_release = ctx.host.file("/etc/os-release").content_string.strip()
    finished = sh(ctx.resources, ctx.alpine, "cat /etc/os-release; echo '--- seen'; "
                  + VISIBLE_UNDER_ANY_MOUNT.format(path=own_file))
    release, _, seen = finished.output.partition("--- seen")
    leaked = [line[5:] for line in seen.splitlines() if line.startswith("SEEN ")]
    evidence.as_json("root filesystem", {"host file looked for": own_file, "exists on the host": host_has_it,
                                         "seen in the container at": leaked, "container os-release": release.strip(),
                                         "host os-release": host_release})
    assert host_has_it, f"the engine's file {own_file} is not on its host: cannot check for it inside"
    assert not leaked, f"the host's filesystem is visible in the container: {own_file} at {leaked}"
    assert release.strip() != host_release, "the container's /etc/os-release is the host's"


def check_processes(ctx):
    finished = sh(ctx.resources, ctx.alpine, "for p in /proc/[0-9]*; do echo \"${p#/proc/} "
                  "$(tr '\\0' ' ' < $p/cmdline)\"; done")
    seen = [line for line in finished.output.splitlines() if line.strip()]
    init = next((line for line in seen if line.split()[0] == "1"), "(none)")
    evidence.as_json("processes the container sees", seen)
    evidence.figure("processes seen", len(seen))
    assert init.startswith("1 sh -c for p in /proc"), \
        f"the container's pid 1 is {init[:60]!r}, not its own command: it sees the host's {len(seen)} processes"


def check_hostname(ctx):
    container = ctx.sleeper()
    inside = container.exec_run(["hostname"]).output.decode().strip()
    on_host = ctx.host.check_output("hostname")
    uts = {"host": namespace_of(ctx.host, "self", "uts"),
           "container": namespace_of(ctx.host, container.attrs["State"]["Pid"], "uts")}
    evidence.as_json("hostname", {"container": inside, "Config.Hostname": container.attrs["Config"]["Hostname"],
                                  "host": on_host, "uts namespaces": uts})
    evidence.figure("hostname", inside, trend=False)
    assert inside != on_host, f"the container's hostname is the host's ({on_host!r})"
    assert inside == container.attrs["Config"]["Hostname"], \
        f"the container's hostname {inside!r} is not the one the engine gave it ({container.attrs['Config']['Hostname']!r})"
    assert uts["container"] != uts["host"], f"the container shares the host's uts namespace ({uts['host']})"


def _own_file(ctx, path: str, engine_key: str) -> dict:
    container = ctx.sleeper()
    engine_copy = container.attrs[engine_key]
    inside = container.exec_run(["sh", "-c", f"stat -c %i {path}; cat {path}"]).output.decode()
    inode, _, content = inside.partition("\n")
    return {"container inode": inode.strip(), f"{engine_key} inode": ctx.host.check_output(f"stat -c %i {engine_copy}"),
            f"host {path} inode": ctx.host.check_output(f"stat -c %i {path}"), "container content": content.strip(),
            "host content": ctx.host.file(path).content_string.strip(), engine_key: engine_copy,
            "hostname": container.attrs["Config"]["Hostname"]}


def check_hosts(ctx):
    seen = _own_file(ctx, "/etc/hosts", "HostsPath")
    evidence.as_json("/etc/hosts", seen)
    assert seen["container inode"] == seen["HostsPath inode"] != seen["host /etc/hosts inode"], \
        f"the container's /etc/hosts is not its own file {seen['HostsPath']}: {seen}"
    assert seen["container content"] != seen["host content"], "the container's /etc/hosts is a copy of the host's"
    assert seen["hostname"] in seen["container content"], \
        f"the container's /etc/hosts does not name the container ({seen['hostname']})"


def check_resolv_conf(ctx):
    # The engine copies the host's upstream name servers on purpose; the file must be the
    # container's own copy, so a change on either side stays on that side.
    seen = _own_file(ctx, "/etc/resolv.conf", "ResolvConfPath")
    evidence.as_json("/etc/resolv.conf", seen)
    assert seen["container inode"] == seen["ResolvConfPath inode"] != seen["host /etc/resolv.conf inode"], \
        f"the container's /etc/resolv.conf is not its own file {seen['ResolvConfPath']}: {seen}"


def check_environment(ctx):
    image_env = ctx.engine.api.inspect_image(ctx.alpine)["Config"].get("Env")
    requested = {"ISO_REQUESTED": "yes"}
    finished = sh(ctx.resources, ctx.alpine, "env", environment=requested)
    inside = environment.parse(finished.output)
    host = environment.parse(ctx.host.check_output("env"))
    extra = environment.unexplained(inside, image_env, requested)
    from_host = environment.matching_host(extra, host)
    evidence.as_json("environment", {"container": inside, "image Env": image_env, "requested": requested,
                                     "unexplained": sorted(extra), "of those, the host's": from_host})
    assert inside.get("ISO_REQUESTED") == "yes", f"the requested variable is missing: {inside}"
    assert not from_host, f"the host's environment variables leaked into the container: {from_host}"
    assert not extra, f"variables from neither the image, the run nor the engine: {sorted(extra)}"


CHECKS = {"rootfs": check_rootfs, "processes": check_processes, "hostname": check_hostname,
          "hosts": check_hosts, "resolv-conf": check_resolv_conf, "environment": check_environment}


class Surroundings:
    def __init__(self, resources, engine, engine_host, alpine_ref):
        self.resources, self.engine, self.host, self.alpine = resources, engine, engine_host, alpine_ref

    def sleeper(self):
        return self.resources.container(self.alpine, ["sleep", "300"])


@claim("ISO-1", cases=list(CHECKS), smoke="rootfs")
def test_surroundings_are_its_own(case, resources, engine, engine_host, alpine_image):
    """A container MUST see its own root filesystem, processes, hostname, /etc files and
    environment, not the host's.

    ``rootfs``: the engine's own file for this container on the host (its hostconfig.json)
    is not reachable under any mount inside, and /etc/os-release is the image's.
    ``processes``: pid 1 is the container's own command. ``hostname``: the engine-given
    name, not the host's, in a uts namespace of its own. ``hosts``: /etc/hosts is the
    container's own file (same inode as the engine's HostsPath), names the container and
    differs from the host's. ``resolv-conf``: /etc/resolv.conf is the container's own
    file (ResolvConfPath), not the host's. ``environment``: every variable comes from the
    image, the run or the engine; none from the host.
    """
    CHECKS[case](Surroundings(resources, engine, engine_host, alpine_image.ref))
