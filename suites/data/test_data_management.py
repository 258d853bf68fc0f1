"""DATA-1: the engine manages data: named volumes, bind mounts and tmpfs.

Document: "在Docker中管理数据" (managing data in Docker). Every action runs through the real
docker CLI; the engine is only inspected through the API.
"""

from __future__ import annotations

import secrets

from fixtures.core import evidence
from fixtures.core.applicability import not_run
from fixtures.engine.cli_errors import error_line
from fixtures.inspection import objects
from fixtures.ledger.marks import claim
from fixtures.resources.cli_created import adopt_test_containers

# A shell as PID 1 that exits on SIGTERM, so a restart or stop does not wait out the grace.
IDLE = "trap 'exit 0' TERM; sleep 300 & wait"


class Data:
    """One case's view: the CLI with this test's labels, and the engine to inspect."""

    def __init__(self, docker_cli, engine, resources, image: str):
        self.cli, self.engine, self.resources, self.image = docker_cli, engine, resources, image

    def run(self, *args: str, detach: bool = False):
        """``docker run [-d] <labels> ARGS``; the container is adopted for removal."""
        result = self.cli("run", *(("-d",) if detach else ()), *self.resources.label_flags(), *args)
        adopt_test_containers(self.resources)
        return result

    def sh(self, *mount: str, script: str):
        return self.run(*mount, self.image, "sh", "-c", script)

    def volume(self) -> str:
        name = self.resources.unique_name("vol")
        made = self.cli("volume", "create", *self.resources.label_flags(), name)
        assert made.ok, f"`docker volume create` failed: {error_line(made.stderr)}"
        self.resources.adopt_volume(name)
        return name

    def volume_exists(self, name: str) -> bool:
        return objects.exists(self.engine, "volume", name)


def case_named_volume_outlives_container(d: Data) -> None:
    name, nonce = d.volume(), secrets.token_hex(8)
    writer = d.sh("-v", f"{name}:/data", script=f"echo {nonce} > /data/kept")
    assert writer.ok, f"the writer failed: {error_line(writer.stderr)}"
    writer_id = adopt_test_containers(d.resources)[-1]
    removed = d.cli("container", "rm", writer_id)
    assert removed.ok, removed.stderr
    survived = d.volume_exists(name)
    reader = d.sh("-v", f"{name}:/data", script="cat /data/kept")
    evidence.as_json("named volume", {"volume": name, "written": nonce, "volume after rm of its writer": survived,
                                      "read by a new container": reader.stdout.strip(),
                                      "reader stderr": reader.stderr.strip()})
    assert survived, f"volume {name} was removed with its container"
    assert reader.ok and reader.stdout.strip() == nonce, \
        f"the data written to volume {name} by a removed container is not there for a new one: " \
        f"read {reader.stdout.strip()!r} ({error_line(reader.stderr)})"


def case_bind_mount_both_ways(d: Data, host_dir) -> None:
    from_host, from_container = secrets.token_hex(8), secrets.token_hex(8)
    (host_dir / "from-host").write_text(from_host + "\n")
    result = d.sh("-v", f"{host_dir}:/mnt", script=f"cat /mnt/from-host && echo {from_container} > /mnt/from-container")
    written = host_dir / "from-container"
    seen_on_host = written.read_text().strip() if written.exists() else None
    evidence.as_json("bind mount", {"host dir": str(host_dir), "host wrote": from_host,
                                    "container read": result.stdout.strip(), "container wrote": from_container,
                                    "host read": seen_on_host})
    assert result.ok and result.stdout.strip() == from_host, \
        f"the container does not see the host's file: read {result.stdout.strip()!r} ({error_line(result.stderr)})"
    assert seen_on_host == from_container, f"the host does not see the container's file: {seen_on_host!r}"


def case_tmpfs_empty_after_restart(d: Data) -> None:
    started = d.run("--tmpfs", "/scratch", d.image, "sh", "-c", IDLE, detach=True)
    assert started.ok, started.stderr
    container = started.stdout.strip()
    wrote = d.cli("container", "exec", container, "sh", "-c",
                  "echo in-tmpfs > /scratch/file && echo in-layer > /layer-file && ls -A /scratch")
    assert wrote.ok and "file" in wrote.stdout, f"could not write to the tmpfs: {error_line(wrote.stderr)}"
    restarted = d.cli("container", "restart", container)
    assert restarted.ok, f"`docker container restart` failed: {error_line(restarted.stderr)}"
    after = d.cli("container", "exec", container, "sh", "-c", "ls -A /scratch; echo ---; cat /layer-file")
    tmpfs_after, _, layer_after = after.stdout.partition("---")
    mounts = d.engine.api.inspect_container(container)["HostConfig"].get("Tmpfs")
    evidence.as_json("tmpfs", {"HostConfig.Tmpfs": mounts, "before restart": wrote.stdout.split(),
                               "tmpfs after restart": tmpfs_after.split(), "layer file after": layer_after.strip()})
    assert after.ok, f"exec after the restart failed: {error_line(after.stderr)}"
    assert layer_after.strip() == "in-layer", "the restart lost the container's own filesystem; the check is void"
    assert not tmpfs_after.split(), f"the tmpfs still holds {tmpfs_after.split()} after a restart"


def case_volume_rm_in_use_refused(d: Data) -> None:
    name, nonce = d.volume(), secrets.token_hex(8)
    user = d.run("-v", f"{name}:/data", d.image, "sh", "-c", f"echo {nonce} > /data/f; {IDLE}", detach=True)
    assert user.ok, user.stderr
    refused = d.cli("volume", "rm", name)
    still = d.volume_exists(name)
    d.cli("container", "rm", "-f", user.stdout.strip())
    removed = d.cli("volume", "rm", name)
    gone = not d.volume_exists(name)
    # Same name, new volume (already adopted under that name): it must start empty.
    recreated = d.cli("volume", "create", *d.resources.label_flags(), name)
    fresh = d.sh("-v", f"{name}:/data", script="ls -A /data")
    evidence.as_json("volume rm", {"volume": name, "rm while in use": [refused.exit_code, refused.stderr.strip()],
                                   "exists after refusal": still, "rm after use": [removed.exit_code, removed.stdout.strip()],
                                   "gone": gone, "same name, new volume holds": fresh.stdout.split()})
    assert not refused.ok, f"`docker volume rm` removed volume {name} while a running container used it"
    assert still and "in use" in refused.stderr, f"the refusal does not say the volume is in use: {error_line(refused.stderr)}"
    assert removed.ok and gone, f"`docker volume rm` of the unused volume failed: {error_line(removed.stderr)}"
    assert recreated.ok, f"could not create a new volume named {name}: {error_line(recreated.stderr)}"
    assert fresh.ok and not fresh.stdout.split(), \
        f"a new volume of the same name still holds the removed volume's data: {fresh.stdout.split()}"


def case_anonymous_volume_rm_v(d: Data) -> None:
    result = d.sh("-v", "/data", script="echo kept > /data/f")
    assert result.ok, result.stderr
    container = adopt_test_containers(d.resources)[-1]
    mounts = d.engine.api.inspect_container(container)["Mounts"]
    anonymous = [m["Name"] for m in mounts if m.get("Type") == "volume" and m.get("Destination") == "/data"]
    for name in anonymous:
        d.resources.adopt_volume(name)
    assert anonymous, f"`-v /data` made no anonymous volume: {mounts}"
    removed = d.cli("container", "rm", "-v", container)
    left = [name for name in anonymous if d.volume_exists(name)]
    evidence.as_json("anonymous volume", {"container": container[:12], "volume": anonymous, "left after rm -v": left})
    assert removed.ok, removed.stderr
    assert not left, f"`docker container rm -v` left the anonymous volume {left}"


@claim("DATA-1", cases=["named-volume-outlives-container", "bind-mount-both-ways", "tmpfs-empty-after-restart",
                        "volume-rm-in-use-refused", "anonymous-volume-rm-v"],
       smoke="named-volume-outlives-container")
def test_data(case, docker_cli, engine, resources, alpine_image, engine_target, tmp_path):
    """The engine MUST manage data: volumes, bind mounts and tmpfs.

    ``named-volume-outlives-container``: data a container writes to a named volume MUST
    remain after that container is removed, and a new container MUST read it.
    ``bind-mount-both-ways``: a file the host writes MUST be seen in the container, and a
    file the container writes MUST be seen on the host. ``tmpfs-empty-after-restart``: a
    file in a ``--tmpfs`` mount MUST be gone after ``docker container restart``, while the
    container's own filesystem keeps its file. ``volume-rm-in-use-refused``: ``docker
    volume rm`` MUST refuse a volume a running container uses; once unused it MUST remove
    it, and a new volume of the same name MUST be empty. ``anonymous-volume-rm-v``:
    ``docker container rm -v`` MUST remove the container's anonymous volume.
    """
    data = Data(docker_cli, engine, resources, alpine_image.ref)
    if case == "bind-mount-both-ways":
        if not engine_target.url.startswith("unix://"):
            not_run("a bind mount needs a directory on the engine's host")
        case_bind_mount_both_ways(data, tmp_path)
        return
    {"named-volume-outlives-container": case_named_volume_outlives_container,
     "tmpfs-empty-after-restart": case_tmpfs_empty_after_restart,
     "volume-rm-in-use-refused": case_volume_rm_in_use_refused,
     "anonymous-volume-rm-v": case_anonymous_volume_rm_v}[case](data)
