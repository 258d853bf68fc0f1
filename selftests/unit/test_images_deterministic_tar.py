"""The minirootfs tar's bytes depend on its entries only, never on their order or the host."""

import hashlib
import random
import tarfile

import pytest

from fixtures.images.offline.deterministic_tar import (
    TarEntry,
    ordered,
    tar_order,
    write_tar,
)

ENTRIES = [
    TarEntry("bin", "dir", 0o755, mtime=100),
    TarEntry("bin/busybox", "file", 0o755, mtime=200, data=b"\x7fELF"),
    TarEntry("bin/sh", "symlink", 0o777, mtime=300, link="/bin/busybox"),
    TarEntry("bin/su", "file", 0o4755, mtime=200, data=b"setuid"),
    TarEntry("bin-extra", "dir", 0o755),
    TarEntry("etc", "dir", 0o755),
    TarEntry("etc/shadow", "file", 0o640, gid=42, data=b"root:*::0:::::\n"),
    TarEntry("tmp", "dir", 0o1777),
    TarEntry("usr/bin/ldd-copy", "hardlink", 0o755, link="bin/busybox"),
    TarEntry("usr", "dir", 0o755),
    TarEntry("usr/bin", "dir", 0o755),
]


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_entries_in_any_order_give_identical_bytes(tmp_path):
    shuffled = ENTRIES[:]
    random.Random(7).shuffle(shuffled)
    write_tar(ENTRIES, tmp_path / "a.tar")
    write_tar(shuffled, tmp_path / "b.tar")
    assert sha256(tmp_path / "a.tar") == sha256(tmp_path / "b.tar")


def test_directories_come_before_their_contents_and_siblings_sort_bytewise():
    paths = [entry.path for entry in ordered(ENTRIES)]
    assert paths.index("bin") < paths.index("bin/busybox") < paths.index("bin-extra")
    assert paths.index("usr") < paths.index("usr/bin") < paths.index("usr/bin/ldd-copy")
    assert tar_order("a/b") < tar_order("a-b") < tar_order("a.b")


def test_members_keep_modes_and_numeric_owners_without_names(tmp_path):
    write_tar(ENTRIES, tmp_path / "root.tar")
    with tarfile.open(tmp_path / "root.tar") as archive:
        members = {member.name: member for member in archive}
        assert archive.extractfile("bin/busybox").read() == b"\x7fELF"
    assert members["bin/su"].mode == 0o4755
    assert members["tmp"].mode == 0o1777 and members["tmp"].isdir()
    assert (members["etc/shadow"].uid, members["etc/shadow"].gid) == (0, 42)
    assert {(m.uname, m.gname) for m in members.values()} == {("", "")}
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "/bin/busybox"
    assert members["usr/bin/ldd-copy"].islnk() and members["usr/bin/ldd-copy"].linkname == "bin/busybox"
    assert members["bin/sh"].mtime == 300


def test_two_entries_for_one_path_are_refused(tmp_path):
    with pytest.raises(ValueError, match="two tar entries for 'bin'"):
        write_tar(ENTRIES + [TarEntry("bin", "dir", 0o700)], tmp_path / "x.tar")
