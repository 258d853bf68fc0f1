"""Cutting an installed package set down to the minirootfs, consistently."""

import pytest

from fixtures.images.errors import OfflineBuildError
from fixtures.images.offline.apk_db import ApkPackage
from fixtures.images.offline.minirootfs_packages import (
    MINIROOTFS_PACKAGES,
    check_self_consistent,
    resolve_closure,
    select_packages,
    world_for,
)


def package(name, depends=(), provides=(), install_if=()):
    return ApkPackage(
        name, "1-r0", "Q1" + name, tuple(depends), tuple(provides), tuple(install_if), (), {}, "P:" + name
    )


# A miniature disk: "base" needs a shell, which "sh" provides; "client" joins by install-if
# when both "tools" and "ssl" are in; "extra" is installed but outside the cut.
DISK = [
    package("base", depends=["/bin/sh", "libc>=1"]),
    package("libc", provides=["so:libc.so=1"]),
    package("sh", depends=["tools=1-r0"], provides=["/bin/sh", "cmd:sh"]),
    package("tools", depends=["so:libc.so"]),
    package("ssl", depends=["libc"]),
    package("client", install_if=["tools=1-r0", "ssl"]),
    package("extra", depends=["base", "!tools-old"]),
]


def names(packages):
    return {p.name for p in packages}


def test_the_minirootfs_is_the_sixteen_packages_of_the_official_image():
    assert len(MINIROOTFS_PACKAGES) == 16
    assert {"musl", "busybox", "apk-tools", "libapk", "ssl_client"} <= MINIROOTFS_PACKAGES


def test_selection_keeps_database_order_and_requires_every_name():
    kept = select_packages(DISK, frozenset({"tools", "base"}))
    assert [p.name for p in kept] == ["base", "tools"]
    with pytest.raises(OfflineBuildError, match="not installed on the disk: nothere"):
        select_packages(DISK, frozenset({"base", "nothere"}))


def test_world_keeps_the_disks_requests_that_survive_the_cut():
    kept = select_packages(DISK, frozenset({"base", "libc", "sh", "tools"}))
    assert world_for(["extra", "base", "tools>=1"], kept) == ["base", "tools>=1"]


def test_closure_follows_dependencies_provided_names_and_install_if():
    assert resolve_closure(["base"], DISK) == {"base", "libc", "sh", "tools"}
    assert resolve_closure(["base", "ssl"], DISK) == {"base", "libc", "sh", "tools", "ssl", "client"}
    # Conflicts ("!name") pull nothing in.
    assert resolve_closure(["extra"], DISK) == {"extra", "base", "libc", "sh", "tools"}


def test_a_cut_that_world_does_not_reproduce_is_refused():
    cut = select_packages(DISK, frozenset({"base", "libc", "sh", "tools", "ssl", "client"}))
    check_self_consistent(["base", "ssl"], cut, DISK)
    with pytest.raises(OfflineBuildError, match=r"extra: none; absent: client, ssl"):
        check_self_consistent(["base"], cut, DISK)
    with pytest.raises(OfflineBuildError, match=r"extra: extra"):
        check_self_consistent(["extra", "ssl"], cut, DISK)
