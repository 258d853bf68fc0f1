"""HOST-8 and HOST-9: the storage driver and its backing filesystem; the data-root's free space."""

from __future__ import annotations

import pytest

from fixtures.core import evidence
from fixtures.ledger.marks import claim

pytestmark = pytest.mark.audit

# driver -> backing filesystems it is supported on (None: it is its own filesystem)
SUPPORTED = {"overlay2": {"extfs", "xfs"}, "fuse-overlayfs": None, "btrfs": None, "zfs": None}
DEPRECATED = {"aufs", "overlay", "devicemapper"}


def _driver_status(info: dict) -> dict[str, str]:
    return {pair[0]: pair[1] for pair in info.get("DriverStatus") or [] if len(pair) == 2}


@claim("HOST-8")
def test_storage_driver_and_backing_filesystem(engine_info):
    """The storage driver MUST be a supported, non-deprecated one, on a backing filesystem it
    supports (overlay2 on ext4 or xfs with d_type).

    Rationale: aufs, overlay and devicemapper are deprecated (CIS 2.6 rules out aufs, CIS
    1.8.0's 2.7 devicemapper); overlay2 on a filesystem without d_type corrupts image
    layers; vfs copies every layer in full and is meant for tests only. Verified through
    the API: ``docker info`` Driver and its DriverStatus (Backing Filesystem, Supports
    d_type).
    """
    driver = engine_info.get("Driver", "?")
    status = _driver_status(engine_info)
    backing = status.get("Backing Filesystem", "?")
    evidence.as_json("storage driver", {"Driver": driver, "DriverStatus": status,
                                        "DockerRootDir": engine_info.get("DockerRootDir")})
    evidence.figure("storage", f"{driver} on {backing}")
    assert driver not in DEPRECATED, f"storage driver {driver} is deprecated"
    assert driver in SUPPORTED, f"storage driver {driver} is not one for production ({', '.join(SUPPORTED)})"
    filesystems = SUPPORTED[driver]
    if filesystems is None:
        return
    assert backing in filesystems, f"{driver} runs on {backing}, not on {' or '.join(sorted(filesystems))}"
    assert status.get("Supports d_type", "").lower() == "true", \
        f"{driver} on {backing} without d_type support (Supports d_type: {status.get('Supports d_type')})"


@claim("HOST-9")
def test_data_root_free_space(host, engine_info, thresholds):
    """The filesystem of the engine's data-root MUST have at least the configured free space.

    Rationale: images, layers, volumes and container logs all live under the data-root; a
    full disk fails pulls, builds and container writes alike. Verified on the engine's host:
    ``stat -f`` of ``docker info`` DockerRootDir (blocks available to unprivileged users
    times block size), against ``host_data_root_min_free_gb``.
    """
    root = engine_info.get("DockerRootDir") or "/var/lib/docker"
    minimum = thresholds.host_data_root_min_free_gb
    available, block_size, total = host.check_output("stat -f -c %s %s", "%a %S %b", root).split()
    free_gb = int(available) * int(block_size) / 1e9
    size_gb = int(total) * int(block_size) / 1e9
    evidence.as_json("data-root free space", {"DockerRootDir": root, "free GB": round(free_gb, 2),
                                              "filesystem size GB": round(size_gb, 2), "minimum GB": minimum})
    evidence.figure("data-root free", round(free_gb, 1), "GB", better="higher")
    assert free_gb >= minimum, f"{root} has {free_gb:.1f} GB free of {size_gb:.1f} GB, under the {minimum} GB minimum"
