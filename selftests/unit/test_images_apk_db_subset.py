"""apk's scripts and triggers, cut to the kept packages."""

import io
import tarfile

from fixtures.images.offline.apk_checksum import checksum_file_token
from fixtures.images.offline.apk_db import ApkPackage
from fixtures.images.offline.apk_db_subset import (
    scripts_subset,
    triggers_subset,
    world_text,
)

KEPT = ApkPackage("busybox", "1.37.0-r30", "Q18TR4AbuWsapA0X+CI3w/T/AqRyU=", (), (), (), (), {}, "")
GONE = ApkPackage("kmod", "34.2-r1", "Q14aGmh1zVlwbtGr8XnSTccfKa02k=", (), (), (), (), {}, "")


def scripts_archive(names):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = 3, 0o755, 1234
            archive.addfile(info, io.BytesIO(b"#!\n"))
    return out.getvalue()


def member_names(data):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return archive.getnames()


def test_triggers_keep_lines_of_kept_packages_only():
    text = f"{KEPT.checksum} /bin /usr/bin\n{GONE.checksum} /lib/modules/*\n"
    assert triggers_subset(text, [KEPT]) == f"{KEPT.checksum} /bin /usr/bin\n"
    assert triggers_subset(text, []) == ""


def test_scripts_keep_members_of_kept_packages_and_are_reproducible():
    kept_name = f"busybox-1.37.0-r30.{checksum_file_token(KEPT.checksum)}.post-install"
    assert kept_name.startswith("busybox-1.37.0-r30.X1f1347801bb96b1aa40d17f82237c3f4ff02a4725.")
    source = scripts_archive([kept_name, f"kmod-34.2-r1.{checksum_file_token(GONE.checksum)}.trigger",
                              "busybox-extras-1.37.0-r30.X1ab.post-install"])
    first = scripts_subset(source, [KEPT])
    assert member_names(first) == [kept_name]
    assert first == scripts_subset(source, [KEPT])
    # No time and no file name in the gzip header (bytes 4-7 are the mtime, flag 0x08 a name).
    assert first[4:8] == b"\0\0\0\0" and not first[3] & 0x08


def test_world_is_one_name_a_line():
    assert world_text(["alpine-baselayout", "busybox"]) == "alpine-baselayout\nbusybox\n"
