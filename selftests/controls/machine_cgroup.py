"""A cgroup parent on this host that stands in for a small machine: every container placed
under it (the faulty engine's ``cgroup-parent`` fault) shares its limits, as processes on
one machine share its process table.

Made before the run with its limit, and removed after: the engine removes each container's
own cgroup below it when the container goes, so only the parent directories are left.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path("/sys/fs/cgroup")


def v2_only() -> bool:
    return (ROOT / "cgroup.controllers").is_file()


def _hierarchies() -> list[Path]:
    """Each mounted hierarchy once (v1 links such as cpu -> cpu,cpuacct skipped), or the v2 root."""
    if v2_only():
        return [ROOT]
    return [path for path in ROOT.iterdir() if path.is_dir() and not path.is_symlink()]


@contextmanager
def machine_cgroup(name: str, *, pids_max: int) -> Iterator[str]:
    """The parent ``/<name>`` with ``pids.max`` set; yields the path to give as CgroupParent."""
    pids = ROOT / name if v2_only() else ROOT / "pids" / name
    pids.mkdir()
    try:
        if v2_only():
            (pids / "cgroup.subtree_control").write_text("+pids")
        (pids / "pids.max").write_text(str(pids_max))
        yield f"/{name}"
    finally:
        # The engine made the same parent in every other hierarchy for its containers.
        left = [hierarchy / name for hierarchy in _hierarchies() if (hierarchy / name).is_dir()]
        for directory in left:
            directory.rmdir()
