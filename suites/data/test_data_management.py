"""DATA-1: the engine manages data: named volumes, bind mounts and tmpfs.

Document: "在Docker中管理数据" (managing data in Docker). Every action runs through the real
docker CLI (``labelled_cli``: what it makes carries this test's labels and is removed after
it); the engine is only inspected through the API. A refusal is told by its status code and
by the object still being there, never by the engine's wording.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from fixtures.core import evidence
from fixtures.core.applicability import not_run
from fixtures.engine.netns import engine_uid
from fixtures.inspection import mountinfo, objects
from fixtures.ledger.marks import claim

# A shell as PID 1 that exits on SIGTERM, so a restart or stop does not wait out the grace.
IDLE = "trap 'exit 0' TERM; sleep 300 & wait"


@pytest.fixture
def volume(labelled_cli, resources) -> str:
    """A named volume of this test, made with ``docker volume create``."""
    name = resources.unique_name("vol")
    labelled_cli.create("volume", "create", name).check()
    return name


def _sh(labelled_cli, image: str, *mount: str, script: str):
    """``docker run <labels> MOUNT... IMAGE sh -c SCRIPT``, attached."""
    return labelled_cli.create("run", *mount, image, "sh", "-c", script)


def _in_container(labelled_cli, container: str, script: str, what: str) -> str:
    """``docker container exec CONTAINER sh -c SCRIPT``, which must succeed; its output."""
    return labelled_cli("container", "exec", container, "sh", "-c", script).check(what).stdout


@claim("DATA-1", smoke=True)
def test_named_volume_outlives_its_container(labelled_cli, engine, resources, volume, alpine_image):
    """Data a container writes to a named volume MUST remain after that container is removed,
    and a new container MUST read it.

    A container writes a nonce to ``docker volume create``'s volume and is removed with
    ``docker container rm``; the volume must still exist, and a new container mounting it
    must read the nonce.
    """
    nonce = secrets.token_hex(8)
    _sh(labelled_cli, alpine_image.ref, "-v", f"{volume}:/data", script=f"echo {nonce} > /data/kept").check("the writer")
    (writer,) = resources.containers()
    labelled_cli("container", "rm", writer).check()
    survived = objects.exists(engine, "volume", volume)
    # A missing file is an answer ("no file"), not a reader that could not run.
    reader = _sh(labelled_cli, alpine_image.ref, "-v", f"{volume}:/data", script="cat /data/kept || echo no file")
    evidence.as_json("named volume", {"volume": volume, "written": nonce, "volume after rm of its writer": survived,
                                      "read by a new container": reader.stdout.strip(),
                                      "reader stderr": reader.stderr.strip()})
    assert survived, f"volume {volume} was removed with its container"
    reader.check("the reader")
    assert reader.stdout.strip() == nonce, \
        f"the data written to volume {volume} by a removed container is not there for a new one: " \
        f"read {reader.stdout.strip()!r}"


@claim("DATA-1")
def test_bind_mount_is_seen_from_both_sides(labelled_cli, alpine_image, engine_target, tmp_path, run, request):
    """A bind mount MUST show the host's files in the container and the container's on the host.

    The host writes a nonce into a directory of this test, which ``docker run -v DIR:/mnt``
    binds: the container must read that nonce, and a file the container writes there must
    be read back on the host. Needs a directory on the engine's host: not run otherwise.
    An engine that runs as another user (rootless) gets a directory of its own user, made
    and recorded by the run, since it cannot enter the run's private temporary directory.
    """
    if not engine_target.is_local:
        not_run("a bind mount needs a directory on the engine's host")
    owner = engine_uid(engine_target.url)
    if owner is not None and owner != os.geteuid():
        tmp_path = Path(tempfile.mkdtemp(prefix="dcf-bind-"))
        key = f"bind-{run.identity.worker}-{tmp_path.name}"
        run.run_dir.record("tree", key, path=str(tmp_path))

        def remove(path=tmp_path, key=key):
            shutil.rmtree(path)
            run.run_dir.forget("tree", key)

        request.addfinalizer(remove)
        os.chown(tmp_path, owner, -1)
    from_host, from_container = secrets.token_hex(8), secrets.token_hex(8)
    (tmp_path / "from-host").write_text(from_host + "\n")
    result = _sh(labelled_cli, alpine_image.ref, "-v", f"{tmp_path}:/mnt",
                 script=f"cat /mnt/from-host || echo no file; echo {from_container} > /mnt/from-container")
    written = tmp_path / "from-container"
    seen_on_host = written.read_text().strip() if written.exists() else None
    evidence.as_json("bind mount", {"host dir": str(tmp_path), "host wrote": from_host,
                                    "container read": result.stdout.strip(), "container wrote": from_container,
                                    "host read": seen_on_host, "stderr": result.stderr.strip()})
    result.check("the container on the bind mount")
    assert result.stdout.strip() == from_host, \
        f"the container does not see the host's file: read {result.stdout.strip()!r}, not {from_host!r}"
    assert seen_on_host == from_container, f"the host does not see the container's file: {seen_on_host!r}"


@claim("DATA-1")
def test_tmpfs_is_empty_after_restart(labelled_cli, alpine_image):
    """A file in a ``--tmpfs`` mount MUST be gone after ``docker container restart``, while the
    container's own filesystem keeps its file.

    A container with ``--tmpfs /scratch`` writes a file there and one in its own
    filesystem, and is restarted. Afterwards ``/scratch`` must be empty, the other file must
    still be there (else the restart made a new filesystem and the check proves nothing),
    and the kernel's mount table inside must show ``/scratch`` as a tmpfs.
    """
    container = labelled_cli.create("run", "-d", "--tmpfs", "/scratch", alpine_image.ref, "sh", "-c", IDLE) \
        .check().stdout.strip()
    before = _in_container(labelled_cli, container,
                           "echo in-tmpfs > /scratch/file && echo in-layer > /layer-file && ls -A /scratch",
                           "writing to the tmpfs").split()
    labelled_cli("container", "restart", container).check()
    tmpfs_after = _in_container(labelled_cli, container, "ls -A /scratch", "listing the tmpfs after the restart").split()
    layer_after = _in_container(labelled_cli, container, "cat /layer-file", "reading the container's own file").strip()
    table = _in_container(labelled_cli, container, "cat /proc/self/mountinfo", "reading the mount table")
    scratch = mountinfo.at(mountinfo.parse(table), "/scratch")
    fs_type = scratch.fs_type if scratch else "nothing"
    evidence.as_json("tmpfs", {"before restart": before, "tmpfs after restart": tmpfs_after,
                               "layer file after": layer_after, "/scratch is mounted as": fs_type})
    assert before == ["file"], f"the file written to the tmpfs is not there before the restart: {before}"
    assert layer_after == "in-layer", "the restart lost the container's own filesystem; the check is void"
    assert not tmpfs_after, f"the tmpfs still holds {tmpfs_after} after a restart"
    assert fs_type == "tmpfs", f"/scratch is mounted as {fs_type}, not a tmpfs"


@claim("DATA-1")
def test_volume_in_use_cannot_be_removed(labelled_cli, engine, volume, alpine_image):
    """``docker volume rm`` MUST refuse a volume that a running container uses.

    With a running container mounting the volume, the command as written must fail (a
    non-zero exit) and the volume must still be there; the same removal asked of the
    Engine API must be refused as a conflict (409) and leave it there too. The refusal's
    wording is the engine's own and is recorded, not matched.
    """
    labelled_cli.create("run", "-d", "-v", f"{volume}:/data", alpine_image.ref, "sh", "-c", IDLE) \
        .check("the container using the volume")
    refused = labelled_cli("volume", "rm", volume)
    after_cli = objects.exists(engine, "volume", volume)
    status = objects.refusal_status(lambda: engine.api.remove_volume(volume)) if after_cli else None
    after_api = objects.exists(engine, "volume", volume)
    evidence.as_json("volume rm while in use", {"volume": volume, "exit code": refused.exit_code,
                                                "stderr": refused.stderr.strip(), "exists after": after_cli,
                                                "API DELETE answered": status or "removed",
                                                "exists after the API": after_api})
    assert not refused.ok, f"`docker volume rm` removed volume {volume} while a running container used it"
    assert after_cli, f"volume {volume} is gone although `docker volume rm` failed ({refused.error()})"
    assert status == 409 and after_api, \
        f"the Engine API answered DELETE of volume {volume}, in use, with {status or 'success'}, not 409 Conflict " \
        f"(volume {'still there' if after_api else 'removed'})"


@claim("DATA-1")
def test_removed_volume_takes_its_data(labelled_cli, engine, resources, volume, alpine_image):
    """``docker volume rm`` MUST remove an unused volume, and its data with it.

    A container writes to the volume and is removed; ``docker volume rm`` must then
    succeed and the volume must be gone; a new volume made under the same name must start
    empty.
    """
    nonce = secrets.token_hex(8)
    _sh(labelled_cli, alpine_image.ref, "-v", f"{volume}:/data", script=f"echo {nonce} > /data/f").check("the writer")
    (writer,) = resources.containers()
    labelled_cli("container", "rm", writer).check()
    removed = labelled_cli("volume", "rm", volume)
    gone = not objects.exists(engine, "volume", volume)
    # Same name, new volume (adopted under that name already): it must start empty.
    labelled_cli.create("volume", "create", volume).check("a new volume of the same name")
    fresh = _sh(labelled_cli, alpine_image.ref, "-v", f"{volume}:/data", script="ls -A /data")
    evidence.as_json("volume rm", {"volume": volume, "written": nonce, "rm exit code": removed.exit_code,
                                   "gone": gone, "same name, new volume holds": fresh.stdout.split()})
    removed.check()
    assert gone, f"volume {volume} is still there after `docker volume rm` succeeded"
    fresh.check("listing the new volume")
    assert not fresh.stdout.split(), \
        f"a new volume of the same name still holds the removed volume's data: {fresh.stdout.split()}"


@claim("DATA-1")
def test_rm_v_removes_the_anonymous_volume(labelled_cli, engine, resources, alpine_image):
    """``docker container rm -v`` MUST remove the container's anonymous volume.

    A container run with ``-v /data`` (no name: an anonymous volume) writes to it and
    exits; the engine must report a volume mounted at /data, and after ``docker container
    rm -v`` that volume must be gone.
    """
    _sh(labelled_cli, alpine_image.ref, "-v", "/data", script="echo kept > /data/f").check("the writer")
    (container,) = resources.containers()
    mounts = engine.api.inspect_container(container)["Mounts"]
    anonymous = [m["Name"] for m in mounts if m.get("Type") == "volume" and m.get("Destination") == "/data"]
    for name in anonymous:
        resources.adopt_volume(name)  # the engine does not label what it makes for a container
    assert anonymous, f"`-v /data` made no anonymous volume: {mounts}"
    labelled_cli("container", "rm", "-v", container).check()
    left = [name for name in anonymous if objects.exists(engine, "volume", name)]
    evidence.as_json("anonymous volume", {"container": container[:12], "volume": anonymous, "left after rm -v": left})
    assert not left, f"`docker container rm -v` left the anonymous volume {left}"
